package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A forward complex FFT of m points on lane-interleaved, split data (W transforms at once, one per
 * lane): radix 4, 2, 3 and 5 Stockham stages, output in natural order. The data of one transform is
 * m complex elements of W floats: the real parts (m * W floats), then the imaginary parts from {@link #pitch()};
 * a second region of the same size is the ping-pong buffer. {@link LaneFft} runs it on the whole
 * half-size transform when that is small, and on the rows and columns of a four-step split when it
 * is not. Immutable; twiddles computed in double.
 */
final class LaneStockham {
    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final int W = Lanes.W;

    private final int m;
    private final int[] radices;
    /** Per stage: twiddle re and im for (j, k), j < stage m, k = 1..p-1, at j * (p-1) + k - 1. */
    private final float[][] twRe, twIm;

    LaneStockham(int m) {
        this.m = m;
        this.radices = MixedRadix.factor(m); // radix 4 first, then 2, 3, 5 (then any other primes, which have no stage here)
        for (int p : radices) {
            if (p != 2 && p != 3 && p != 4 && p != 5) {
                throw new IllegalArgumentException("LaneStockham: m = " + m + " has the factor " + p + "; only 2^a 3^b 5^c sizes have stages");
            }
        }
        this.twRe = new float[radices.length][];
        this.twIm = new float[radices.length][];
        int cur = m;
        for (int s = 0; s < radices.length; s++) {
            int p = radices[s], q = cur / p;
            long scale = m / cur;
            float[] re = new float[q * (p - 1)], im = new float[q * (p - 1)];
            for (int j = 0; j < q; j++) {
                for (int k = 1; k < p; k++) {
                    double ang = -2 * Math.PI * ((long) j * k * scale % m) / m;
                    re[j * (p - 1) + k - 1] = (float) Math.cos(ang);
                    im[j * (p - 1) + k - 1] = (float) Math.sin(ang);
                }
            }
            twRe[s] = re;
            twIm[s] = im;
            cur = q;
        }
    }

    int size() {
        return m;
    }

    /**
     * Floats from a region's real parts to its imaginary parts, and half a region: m * W plus one vector.
     * Without the pad, power-of-two sizes put the real and imaginary rows of a butterfly, and the
     * ping-pong buffer, at multiples of 4 KB, where they share L1 sets and alias in store forwarding.
     */
    int pitch() {
        return pitch(m);
    }

    static int pitch(int m) {
        return m * W + W;
    }

    /**
     * Transforms the m points at {@code a[src..]} (real parts, then imaginary parts {@link #pitch()}
     * floats later), using {@code a[dst..]} (the same size) as the ping-pong buffer. Returns where the
     * result's real parts start: src or dst.
     */
    int run(float[] a, int src, int dst) {
        return run(a, src, dst, 0, radices.length);
    }

    /**
     * Stages first..end-1 of the transform, the stages before them done by the caller with their result at src (as the
     * four-step column passes do with their first and last stages); returns where the output lies (src or dst).
     */
    int run(float[] a, int src, int dst, int first, int end) {
        int mw = pitch(), cur = m, stride = 1;
        for (int s = 0; s < first; s++) {
            cur /= radices[s];
            stride *= radices[s];
        }
        for (int s = first; s < end; s++) {
            int q = cur / radices[s];
            stage(s, a, src, src + mw, dst, dst + mw, q, stride);
            int t = src;
            src = dst;
            dst = t;
            cur = q;
            stride *= radices[s];
        }
        return src;
    }

    /** Stages of the transform. */
    int stages() {
        return radices.length;
    }

    /**
     * The first stage (radix 4: {@link #firstIsRadix4()}) of {@code count} transforms whose input is read where it lies,
     * as the column passes of a four-step split do; {@link #run(float[], int, int, int, int)} from stage 1 does the rest
     * of each. Transform c's element e has its real part at {@code x[re + c * colStep + e * step]} and its imaginary part
     * {@code imDelta} floats after it; a part at or past index {@code limit} is taken as zero and not read (the forward
     * pass reads the lanes of x this way, so a causal convolution's zero half costs no loads). Where {@code pRe} is not
     * null, element e is first multiplied by {@code (pRe, pIm)[pOff + c + e * pStep]} (the inverse pass's four-step
     * twiddle). Transform c's stage output goes to {@code a[buf + c * bufStep..]}. Reading in the first stage saves the
     * pass that would copy each column out first, and taking the block's transforms together for each butterfly reads
     * whole cache lines of each row.
     */
    void firstStage(float[] x, int re, int imDelta, int colStep, int step, int limit, float[] pRe, float[] pIm, int pOff, int pStep,
                    int count, float[] a, int buf, int bufStep) {
        int q = m / 4, mw = pitch();
        float[] tr = twRe[0], ti = twIm[0];
        FloatVector zero = FloatVector.zero(SPECIES);
        for (int j = 0; j < q; j++) {
            float w1r = tr[3 * j], w1i = ti[3 * j], w2r = tr[3 * j + 1], w2i = ti[3 * j + 1], w3r = tr[3 * j + 2], w3i = ti[3 * j + 2];
            for (int c = 0; c < count; c++) {
                int e0 = re + c * colStep + j * step, e1 = e0 + q * step, e2 = e1 + q * step, e3 = e2 + q * step;
                FloatVector a0r = e0 < limit ? FloatVector.fromArray(SPECIES, x, e0) : zero;
                FloatVector a0i = e0 + imDelta < limit ? FloatVector.fromArray(SPECIES, x, e0 + imDelta) : zero;
                FloatVector a1r = e1 < limit ? FloatVector.fromArray(SPECIES, x, e1) : zero;
                FloatVector a1i = e1 + imDelta < limit ? FloatVector.fromArray(SPECIES, x, e1 + imDelta) : zero;
                FloatVector a2r = e2 < limit ? FloatVector.fromArray(SPECIES, x, e2) : zero;
                FloatVector a2i = e2 + imDelta < limit ? FloatVector.fromArray(SPECIES, x, e2 + imDelta) : zero;
                FloatVector a3r = e3 < limit ? FloatVector.fromArray(SPECIES, x, e3) : zero;
                FloatVector a3i = e3 + imDelta < limit ? FloatVector.fromArray(SPECIES, x, e3 + imDelta) : zero;
                if (pRe != null) {
                    int v0 = pOff + c + j * pStep, v1 = v0 + q * pStep, v2 = v1 + q * pStep, v3 = v2 + q * pStep;
                    FloatVector b0r = a0r.fma(FloatVector.broadcast(SPECIES, pRe[v0]), a0i.mul(-pIm[v0]));
                    a0i = a0r.fma(FloatVector.broadcast(SPECIES, pIm[v0]), a0i.mul(pRe[v0]));
                    a0r = b0r;
                    FloatVector b1r = a1r.fma(FloatVector.broadcast(SPECIES, pRe[v1]), a1i.mul(-pIm[v1]));
                    a1i = a1r.fma(FloatVector.broadcast(SPECIES, pIm[v1]), a1i.mul(pRe[v1]));
                    a1r = b1r;
                    FloatVector b2r = a2r.fma(FloatVector.broadcast(SPECIES, pRe[v2]), a2i.mul(-pIm[v2]));
                    a2i = a2r.fma(FloatVector.broadcast(SPECIES, pIm[v2]), a2i.mul(pRe[v2]));
                    a2r = b2r;
                    FloatVector b3r = a3r.fma(FloatVector.broadcast(SPECIES, pRe[v3]), a3i.mul(-pIm[v3]));
                    a3i = a3r.fma(FloatVector.broadcast(SPECIES, pIm[v3]), a3i.mul(pRe[v3]));
                    a3r = b3r;
                }
                FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
                FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
                FloatVector b1r = t1r.add(t3i), b1i = t1i.sub(t3r), b2r = t0r.sub(t2r), b2i = t0i.sub(t2i);
                FloatVector b3r = t1r.sub(t3i), b3i = t1i.add(t3r);
                int o0 = buf + c * bufStep + 4 * j * W, o1 = o0 + W, o2 = o1 + W, o3 = o2 + W;
                t0r.add(t2r).intoArray(a, o0);
                t0i.add(t2i).intoArray(a, o0 + mw);
                b1r.fma(FloatVector.broadcast(SPECIES, w1r), b1i.mul(-w1i)).intoArray(a, o1);
                b1r.fma(FloatVector.broadcast(SPECIES, w1i), b1i.mul(w1r)).intoArray(a, o1 + mw);
                b2r.fma(FloatVector.broadcast(SPECIES, w2r), b2i.mul(-w2i)).intoArray(a, o2);
                b2r.fma(FloatVector.broadcast(SPECIES, w2i), b2i.mul(w2r)).intoArray(a, o2 + mw);
                b3r.fma(FloatVector.broadcast(SPECIES, w3r), b3i.mul(-w3i)).intoArray(a, o3);
                b3r.fma(FloatVector.broadcast(SPECIES, w3i), b3i.mul(w3r)).intoArray(a, o3 + mw);
            }
        }
    }

    /**
     * The last stage (radix 4, unit twiddles: {@link #lastIsRadix4()}) of {@code count} transforms whose stage input is
     * at {@code a[buf + c * bufStep..]}, writing straight to where the result goes, multiplied by a twiddle: transform
     * c's element e to {@code out[re + c * colStep + e * step]} and {@code imDelta} floats after it, times
     * {@code (pRe, pIm)[pOff + c + e * pStep]}. The forward column pass of a four-step split ends with it instead of a
     * copy-and-twiddle pass over each column.
     */
    void lastStageTwiddledOut(float[] a, int buf, int bufStep, int count, float[] out, int re, int imDelta, int colStep, int step,
                              float[] pRe, float[] pIm, int pOff, int pStep) {
        int q = m / 4, mw = pitch();
        for (int j = 0; j < q; j++) {
            for (int c = 0; c < count; c++) {
                int i0 = buf + c * bufStep + j * W, i1 = i0 + q * W, i2 = i1 + q * W, i3 = i2 + q * W;
                FloatVector a0r = FloatVector.fromArray(SPECIES, a, i0), a0i = FloatVector.fromArray(SPECIES, a, i0 + mw);
                FloatVector a1r = FloatVector.fromArray(SPECIES, a, i1), a1i = FloatVector.fromArray(SPECIES, a, i1 + mw);
                FloatVector a2r = FloatVector.fromArray(SPECIES, a, i2), a2i = FloatVector.fromArray(SPECIES, a, i2 + mw);
                FloatVector a3r = FloatVector.fromArray(SPECIES, a, i3), a3i = FloatVector.fromArray(SPECIES, a, i3 + mw);
                FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
                FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
                FloatVector y0r = t0r.add(t2r), y0i = t0i.add(t2i), y1r = t1r.add(t3i), y1i = t1i.sub(t3r);
                FloatVector y2r = t0r.sub(t2r), y2i = t0i.sub(t2i), y3r = t1r.sub(t3i), y3i = t1i.add(t3r);
                int o0 = re + c * colStep + j * step, o1 = o0 + q * step, o2 = o1 + q * step, o3 = o2 + q * step;
                int v0 = pOff + c + j * pStep, v1 = v0 + q * pStep, v2 = v1 + q * pStep, v3 = v2 + q * pStep;
                y0r.fma(FloatVector.broadcast(SPECIES, pRe[v0]), y0i.mul(-pIm[v0])).intoArray(out, o0);
                y0r.fma(FloatVector.broadcast(SPECIES, pIm[v0]), y0i.mul(pRe[v0])).intoArray(out, o0 + imDelta);
                y1r.fma(FloatVector.broadcast(SPECIES, pRe[v1]), y1i.mul(-pIm[v1])).intoArray(out, o1);
                y1r.fma(FloatVector.broadcast(SPECIES, pIm[v1]), y1i.mul(pRe[v1])).intoArray(out, o1 + imDelta);
                y2r.fma(FloatVector.broadcast(SPECIES, pRe[v2]), y2i.mul(-pIm[v2])).intoArray(out, o2);
                y2r.fma(FloatVector.broadcast(SPECIES, pIm[v2]), y2i.mul(pRe[v2])).intoArray(out, o2 + imDelta);
                y3r.fma(FloatVector.broadcast(SPECIES, pRe[v3]), y3i.mul(-pIm[v3])).intoArray(out, o3);
                y3r.fma(FloatVector.broadcast(SPECIES, pIm[v3]), y3i.mul(pRe[v3])).intoArray(out, o3 + imDelta);
            }
        }
    }

    /**
     * The last stage (radix 4, unit twiddles) of {@code count} transforms whose stage input is at
     * {@code a[buf + c * bufStep..]}, unpacking the conjugate of the result straight into reals: transform c's element
     * e is z_j, j = j0 + c + e * jStep, whose real part is real 2j and whose negated imaginary part is real 2j + 1, at
     * {@code y[yOff + t * W]} for t below {@code outCount} only. The inverse column pass of a four-step split ends with
     * it instead of a copy-out pass and an unpack pass.
     */
    void lastStageUnpacked(float[] a, int buf, int bufStep, int count, float[] y, int yOff, int outCount, int j0, int jStep) {
        int q = m / 4, mw = pitch();
        for (int j = 0; j < q; j++) {
            for (int c = 0; c < count; c++) {
                int t0 = 2 * (j0 + c + j * jStep);
                if (t0 >= outCount) break; // t grows with c, and every output of this butterfly lies past t0
                int i0 = buf + c * bufStep + j * W, i1 = i0 + q * W, i2 = i1 + q * W, i3 = i2 + q * W;
                FloatVector a0r = FloatVector.fromArray(SPECIES, a, i0), a0i = FloatVector.fromArray(SPECIES, a, i0 + mw);
                FloatVector a1r = FloatVector.fromArray(SPECIES, a, i1), a1i = FloatVector.fromArray(SPECIES, a, i1 + mw);
                FloatVector a2r = FloatVector.fromArray(SPECIES, a, i2), a2i = FloatVector.fromArray(SPECIES, a, i2 + mw);
                FloatVector a3r = FloatVector.fromArray(SPECIES, a, i3), a3i = FloatVector.fromArray(SPECIES, a, i3 + mw);
                FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
                FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
                int dt = 2 * q * jStep; // from one output of the butterfly to the next, in reals
                int t1 = t0 + dt, t2 = t1 + dt, t3 = t2 + dt;
                t0r.add(t2r).intoArray(y, yOff + t0 * W);
                if (t0 + 1 < outCount) t2i.add(t0i).neg().intoArray(y, yOff + (t0 + 1) * W);
                if (t1 < outCount) t1r.add(t3i).intoArray(y, yOff + t1 * W);
                if (t1 + 1 < outCount) t3r.sub(t1i).intoArray(y, yOff + (t1 + 1) * W);
                if (t2 < outCount) t0r.sub(t2r).intoArray(y, yOff + t2 * W);
                if (t2 + 1 < outCount) t2i.sub(t0i).intoArray(y, yOff + (t2 + 1) * W);
                if (t3 < outCount) t1r.sub(t3i).intoArray(y, yOff + t3 * W);
                if (t3 + 1 < outCount) t1i.add(t3r).neg().intoArray(y, yOff + (t3 + 1) * W);
            }
        }
    }

    boolean firstIsRadix4() {
        return radices.length > 0 && radices[0] == 4;
    }

    boolean lastIsRadix4() {
        return radices.length > 0 && radices[radices.length - 1] == 4;
    }

    /**
     * Transforms the m points at {@code a[inRe..]}, {@code a[inIm..]} into {@code a[outRe..]}, {@code a[outIm..]}
     * (element e of each part at e * W), passing between stages through the two regions at {@code a[tmp..]}
     * (4 {@link #pitch()} floats). This lets a four-step pass transform a row of its matrix where it lies instead
     * of copying it out and back. The input and output may be the same: only the first stage reads the input and
     * only the last writes the output, and where those are one stage, m is its radix and the stage is a single
     * butterfly, which loads all its inputs before it stores.
     */
    void run(float[] a, int inRe, int inIm, int outRe, int outIm, int tmp) {
        int mw = pitch(), cur = m, stride = 1, last = radices.length - 1;
        if (last < 0) { // m = 1: the transform is the identity
            FloatVector.fromArray(SPECIES, a, inRe).intoArray(a, outRe);
            FloatVector.fromArray(SPECIES, a, inIm).intoArray(a, outIm);
            return;
        }
        int srcRe = inRe, srcIm = inIm;
        for (int s = 0; s <= last; s++) {
            int buf = tmp + (s % 2) * 2 * mw;
            int dstRe = s == last ? outRe : buf, dstIm = s == last ? outIm : buf + mw;
            stage(s, a, srcRe, srcIm, dstRe, dstIm, cur / radices[s], stride);
            srcRe = dstRe;
            srcIm = dstIm;
            cur /= radices[s];
            stride *= radices[s];
        }
    }

    private void stage(int s, float[] a, int xr, int xi, int yr, int yi, int q, int stride) {
        switch (radices[s]) {
            case 4 -> {
                if (q == 1) lastRadix4(a, xr, xi, yr, yi, stride);
                else radix4(a, xr, xi, yr, yi, q, stride, twRe[s], twIm[s]);
            }
            case 2 -> radix2(a, xr, xi, yr, yi, q, stride, twRe[s], twIm[s]);
            case 3 -> radix3(a, xr, xi, yr, yi, q, stride, twRe[s], twIm[s]);
            case 5 -> radix5(a, xr, xi, yr, yi, q, stride, twRe[s], twIm[s]);
            default -> throw new IllegalStateException("LaneStockham: no stage for radix " + radices[s]); // the constructor admits none
        }
    }

    // Twiddles, (br + i bi)(wr + i wi), are written out in each stage as one multiply and one fused multiply-add per
    // part (Java does not fuse a multiply and an add itself; the twiddles were a third of a stage's arithmetic), not
    // called as a helper taking vectors: where C2 declines to inline such a helper (radix 3 and 5 are large methods),
    // every vector argument is boxed on the heap, which made sizes with factors 3 and 5 allocate and run at half speed.
    // For the same reason the fused first and last stages of the four-step column passes write their radix-4
    // butterflies out rather than share one through a method that takes or returns vectors.

    // Stages: inputs at q + s(j + m r), outputs at q + s(p j + k), output k times W^(j k); indices are in
    // complex elements, each W floats wide.

    private static void radix2(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        int sw = s * W, mw = m * sw;
        for (int j = 0; j < m; j++) {
            float wr = tr[j], wi = ti[j];
            int in0 = j * sw, out0 = 2 * j * sw;
            for (int q = 0; q < sw; q += W) {
                int i0 = in0 + q, i1 = i0 + mw, o0 = out0 + q, o1 = o0 + sw;
                FloatVector ar = FloatVector.fromArray(SPECIES, a, xr + i0), ai = FloatVector.fromArray(SPECIES, a, xi + i0);
                FloatVector br = FloatVector.fromArray(SPECIES, a, xr + i1), bi = FloatVector.fromArray(SPECIES, a, xi + i1);
                ar.add(br).intoArray(a, yr + o0);
                ai.add(bi).intoArray(a, yi + o0);
                FloatVector dr = ar.sub(br), di = ai.sub(bi);
                dr.fma(FloatVector.broadcast(SPECIES, wr), di.mul(-wi)).intoArray(a, yr + o1);
                dr.fma(FloatVector.broadcast(SPECIES, wi), di.mul(wr)).intoArray(a, yi + o1);
            }
        }
    }

    private static void radix4(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        // One flat loop over the m * s butterflies: nested j/q loops pay C2's loop set-up per j, which in the
        // early stages (s = 1, 4) runs once or four times. Radix-4 stages come first, so s is a power of 4.
        int sw = s * W, mw = m * sw, shift = Integer.numberOfTrailingZeros(s), mask = s - 1;
        for (int idx = 0, count = m * s; idx < count; idx++) {
            int j = idx >>> shift, q = (idx & mask) * W;
            float w1r = tr[3 * j], w1i = ti[3 * j], w2r = tr[3 * j + 1], w2i = ti[3 * j + 1], w3r = tr[3 * j + 2], w3i = ti[3 * j + 2];
            int in0 = j * sw, out0 = 4 * j * sw;
            {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw, i3 = i2 + mw;
                FloatVector a0r = FloatVector.fromArray(SPECIES, a, xr + i0), a0i = FloatVector.fromArray(SPECIES, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(SPECIES, a, xr + i1), a1i = FloatVector.fromArray(SPECIES, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(SPECIES, a, xr + i2), a2i = FloatVector.fromArray(SPECIES, a, xi + i2);
                FloatVector a3r = FloatVector.fromArray(SPECIES, a, xr + i3), a3i = FloatVector.fromArray(SPECIES, a, xi + i3);
                FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
                FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
                FloatVector b1r = t1r.add(t3i), b1i = t1i.sub(t3r), b2r = t0r.sub(t2r), b2i = t0i.sub(t2i);
                FloatVector b3r = t1r.sub(t3i), b3i = t1i.add(t3r);
                int o0 = out0 + q, o1 = o0 + sw, o2 = o1 + sw, o3 = o2 + sw;
                t0r.add(t2r).intoArray(a, yr + o0);
                t0i.add(t2i).intoArray(a, yi + o0);
                b1r.fma(FloatVector.broadcast(SPECIES, w1r), b1i.mul(-w1i)).intoArray(a, yr + o1);
                b1r.fma(FloatVector.broadcast(SPECIES, w1i), b1i.mul(w1r)).intoArray(a, yi + o1);
                b2r.fma(FloatVector.broadcast(SPECIES, w2r), b2i.mul(-w2i)).intoArray(a, yr + o2);
                b2r.fma(FloatVector.broadcast(SPECIES, w2i), b2i.mul(w2r)).intoArray(a, yi + o2);
                b3r.fma(FloatVector.broadcast(SPECIES, w3r), b3i.mul(-w3i)).intoArray(a, yr + o3);
                b3r.fma(FloatVector.broadcast(SPECIES, w3i), b3i.mul(w3r)).intoArray(a, yi + o3);
            }
        }
    }

    /**
     * The last radix-4 stage (one butterfly group, j = 0): every twiddle is 1, so the stage is the plain butterfly,
     * 12 fewer vector multiplies per butterfly than {@link #radix4}. Every transform ending in a radix-4 stage runs it.
     */
    private static void lastRadix4(float[] a, int xr, int xi, int yr, int yi, int s) {
        int sw = s * W;
        for (int q = 0; q < sw; q += W) {
            int i0 = q, i1 = i0 + sw, i2 = i1 + sw, i3 = i2 + sw;
            FloatVector a0r = FloatVector.fromArray(SPECIES, a, xr + i0), a0i = FloatVector.fromArray(SPECIES, a, xi + i0);
            FloatVector a1r = FloatVector.fromArray(SPECIES, a, xr + i1), a1i = FloatVector.fromArray(SPECIES, a, xi + i1);
            FloatVector a2r = FloatVector.fromArray(SPECIES, a, xr + i2), a2i = FloatVector.fromArray(SPECIES, a, xi + i2);
            FloatVector a3r = FloatVector.fromArray(SPECIES, a, xr + i3), a3i = FloatVector.fromArray(SPECIES, a, xi + i3);
            FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
            FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
            t0r.add(t2r).intoArray(a, yr + i0);
            t0i.add(t2i).intoArray(a, yi + i0);
            t1r.add(t3i).intoArray(a, yr + i1);
            t1i.sub(t3r).intoArray(a, yi + i1);
            t0r.sub(t2r).intoArray(a, yr + i2);
            t0i.sub(t2i).intoArray(a, yi + i2);
            t1r.sub(t3i).intoArray(a, yr + i3);
            t1i.add(t3r).intoArray(a, yi + i3);
        }
    }

    private static void radix3(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        final float h = (float) (Math.sqrt(3) / 2);
        int sw = s * W, mw = m * sw;
        for (int j = 0; j < m; j++) {
            float w1r = tr[2 * j], w1i = ti[2 * j], w2r = tr[2 * j + 1], w2i = ti[2 * j + 1];
            int in0 = j * sw, out0 = 3 * j * sw;
            for (int q = 0; q < sw; q += W) {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw;
                FloatVector a0r = FloatVector.fromArray(SPECIES, a, xr + i0), a0i = FloatVector.fromArray(SPECIES, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(SPECIES, a, xr + i1), a1i = FloatVector.fromArray(SPECIES, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(SPECIES, a, xr + i2), a2i = FloatVector.fromArray(SPECIES, a, xi + i2);
                FloatVector tr0 = a1r.add(a2r), ti0 = a1i.add(a2i), dr = a1r.sub(a2r), di = a1i.sub(a2i);
                FloatVector cr = a0r.sub(tr0.mul(0.5f)), ci = a0i.sub(ti0.mul(0.5f));
                FloatVector b1r = cr.add(di.mul(h)), b1i = ci.sub(dr.mul(h)), b2r = cr.sub(di.mul(h)), b2i = ci.add(dr.mul(h));
                int o0 = out0 + q, o1 = o0 + sw, o2 = o1 + sw;
                a0r.add(tr0).intoArray(a, yr + o0);
                a0i.add(ti0).intoArray(a, yi + o0);
                b1r.fma(FloatVector.broadcast(SPECIES, w1r), b1i.mul(-w1i)).intoArray(a, yr + o1);
                b1r.fma(FloatVector.broadcast(SPECIES, w1i), b1i.mul(w1r)).intoArray(a, yi + o1);
                b2r.fma(FloatVector.broadcast(SPECIES, w2r), b2i.mul(-w2i)).intoArray(a, yr + o2);
                b2r.fma(FloatVector.broadcast(SPECIES, w2i), b2i.mul(w2r)).intoArray(a, yi + o2);
            }
        }
    }

    private static void radix5(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        final float c1 = (float) Math.cos(2 * Math.PI / 5), c2 = (float) Math.cos(4 * Math.PI / 5);
        final float s1 = (float) Math.sin(2 * Math.PI / 5), s2 = (float) Math.sin(4 * Math.PI / 5);
        int sw = s * W, mw = m * sw;
        for (int j = 0; j < m; j++) {
            int t = 4 * j;
            int in0 = j * sw, out0 = 5 * j * sw;
            for (int q = 0; q < sw; q += W) {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw, i3 = i2 + mw, i4 = i3 + mw;
                FloatVector a0r = FloatVector.fromArray(SPECIES, a, xr + i0), a0i = FloatVector.fromArray(SPECIES, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(SPECIES, a, xr + i1), a1i = FloatVector.fromArray(SPECIES, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(SPECIES, a, xr + i2), a2i = FloatVector.fromArray(SPECIES, a, xi + i2);
                FloatVector a3r = FloatVector.fromArray(SPECIES, a, xr + i3), a3i = FloatVector.fromArray(SPECIES, a, xi + i3);
                FloatVector a4r = FloatVector.fromArray(SPECIES, a, xr + i4), a4i = FloatVector.fromArray(SPECIES, a, xi + i4);
                FloatVector t1r = a1r.add(a4r), t1i = a1i.add(a4i), d1r = a1r.sub(a4r), d1i = a1i.sub(a4i);
                FloatVector t2r = a2r.add(a3r), t2i = a2i.add(a3i), d2r = a2r.sub(a3r), d2i = a2i.sub(a3i);
                FloatVector p1r = a0r.add(t1r.mul(c1)).add(t2r.mul(c2)), p1i = a0i.add(t1i.mul(c1)).add(t2i.mul(c2));
                FloatVector p2r = a0r.add(t1r.mul(c2)).add(t2r.mul(c1)), p2i = a0i.add(t1i.mul(c2)).add(t2i.mul(c1));
                // u = s1 d1 + s2 d2, v = s2 d1 - s1 d2; b1 = p1 - i u, b4 = p1 + i u, b2 = p2 - i v, b3 = p2 + i v
                FloatVector ur = d1r.mul(s1).add(d2r.mul(s2)), ui = d1i.mul(s1).add(d2i.mul(s2));
                FloatVector vr = d1r.mul(s2).sub(d2r.mul(s1)), vi = d1i.mul(s2).sub(d2i.mul(s1));
                FloatVector b1r = p1r.add(ui), b1i = p1i.sub(ur), b4r = p1r.sub(ui), b4i = p1i.add(ur);
                FloatVector b2r = p2r.add(vi), b2i = p2i.sub(vr), b3r = p2r.sub(vi), b3i = p2i.add(vr);
                int o0 = out0 + q, o1 = o0 + sw, o2 = o1 + sw, o3 = o2 + sw, o4 = o3 + sw;
                a0r.add(t1r).add(t2r).intoArray(a, yr + o0);
                a0i.add(t1i).add(t2i).intoArray(a, yi + o0);
                b1r.fma(FloatVector.broadcast(SPECIES, tr[t]), b1i.mul(-ti[t])).intoArray(a, yr + o1);
                b1r.fma(FloatVector.broadcast(SPECIES, ti[t]), b1i.mul(tr[t])).intoArray(a, yi + o1);
                b2r.fma(FloatVector.broadcast(SPECIES, tr[t + 1]), b2i.mul(-ti[t + 1])).intoArray(a, yr + o2);
                b2r.fma(FloatVector.broadcast(SPECIES, ti[t + 1]), b2i.mul(tr[t + 1])).intoArray(a, yi + o2);
                b3r.fma(FloatVector.broadcast(SPECIES, tr[t + 2]), b3i.mul(-ti[t + 2])).intoArray(a, yr + o3);
                b3r.fma(FloatVector.broadcast(SPECIES, ti[t + 2]), b3i.mul(tr[t + 2])).intoArray(a, yi + o3);
                b4r.fma(FloatVector.broadcast(SPECIES, tr[t + 3]), b4i.mul(-ti[t + 3])).intoArray(a, yr + o4);
                b4r.fma(FloatVector.broadcast(SPECIES, ti[t + 3]), b4i.mul(tr[t + 3])).intoArray(a, yi + o4);
            }
        }
    }
}
