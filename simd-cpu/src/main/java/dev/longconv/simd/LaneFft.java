package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real FFTs of W sequences at once in float32, one sequence per vector lane (W = {@link Lanes#W}).
 * Data is lane-interleaved: element t of lane l sits at {@code t * W + l}. Every butterfly is plain
 * vector arithmetic across lanes, so there are no shuffles, and the same twiddle serves all lanes.
 * Sizes are 2^a 3^b 5^c (radix 4, 2, 3 and 5 Stockham stages on a complex FFT of n/2 points).
 *
 * <p>Plans are cached per size, immutable and thread-safe; callers pass the scratch
 * ({@link #scratchFloats()} floats), so a call allocates nothing.
 */
public final class LaneFft {
    private static final ConcurrentHashMap<Integer, LaneFft> CACHE = new ConcurrentHashMap<>();

    private static final VectorSpecies<Float> species = Lanes.FLOAT;
    private static final int w = Lanes.W;

    private final int n, half;
    private final int[] radices;
    /** Per stage: twiddle re and im for (j, k), j < m, k = 1..p-1, at j * (p-1) + k - 1. */
    private final float[][] twRe, twIm;
    /** e^{-2 pi i k / n}, k = 0..n/2, for splitting the packed half-size transform. */
    private final float[] splitRe, splitIm;

    private LaneFft(int n) {
        this.n = n;
        this.half = n / 2;
        this.radices = factor(half);
        this.twRe = new float[radices.length][];
        this.twIm = new float[radices.length][];
        int cur = half;
        for (int s = 0; s < radices.length; s++) {
            int p = radices[s], m = cur / p;
            long scale = half / cur;
            float[] re = new float[m * (p - 1)], im = new float[m * (p - 1)];
            for (int j = 0; j < m; j++) {
                for (int k = 1; k < p; k++) {
                    double ang = -2 * Math.PI * ((long) j * k * scale % half) / half;
                    re[j * (p - 1) + k - 1] = (float) Math.cos(ang);
                    im[j * (p - 1) + k - 1] = (float) Math.sin(ang);
                }
            }
            twRe[s] = re;
            twIm[s] = im;
            cur = m;
        }
        splitRe = new float[half + 1];
        splitIm = new float[half + 1];
        for (int k = 0; k <= half; k++) {
            double ang = -2 * Math.PI * k / n;
            splitRe[k] = (float) Math.cos(ang);
            splitIm[k] = (float) Math.sin(ang);
        }
    }

    /** The plan for even fast size n (n >= 2, n/2 = 2^a 3^b 5^c), at the JVM's lane width ({@link Lanes}). */
    public static LaneFft of(int n) {
        if (n < 2 || n % 2 != 0 || !FftSizes.isFast(n / 2)) {
            throw new IllegalArgumentException("LaneFft size must be even with n/2 = 2^a 3^b 5^c, got " + n);
        }
        return CACHE.computeIfAbsent(n, LaneFft::new);
    }

    /** The smallest size this class takes that is at least minN. */
    public static int sizeFor(int minN) {
        return 2 * FftSizes.nextFast(Math.max(1, (minN + 1) / 2));
    }

    public int size() {
        return n;
    }

    public int lanes() {
        return w;
    }

    /** Floats of spectrum per part (re or im): (n/2 + 1) bins times W lanes. */
    public int spectrumFloats() {
        return (half + 1) * w;
    }

    /** Scratch a call needs: four buffers of n/2 complex halves times W lanes. */
    public int scratchFloats() {
        return 4 * half * w;
    }

    /**
     * Spectrum bins 0..n/2 of the W real sequences in {@code x} (lane-interleaved, n * W floats from
     * xOff) into {@code re} and {@code im} ((n/2+1) * W floats each).
     */
    public void forward(float[] x, int xOff, float[] re, float[] im, float[] scratch) {
        int hw = half * w;
        // Pack z_j = x_2j + i x_2j+1 per lane: the even samples become the real part, the odd the imaginary.
        for (int j = 0; j < half; j++) {
            System.arraycopy(x, xOff + 2 * j * w, scratch, j * w, w);
            System.arraycopy(x, xOff + (2 * j + 1) * w, scratch, hw + j * w, w);
        }
        int res = transform(scratch);
        int zr = res, zi = res + hw;
        for (int k = 0; k <= half; k++) {
            int a = (k == half ? 0 : k) * w, b = (k == 0 ? 0 : half - k) * w; // Z is periodic in half; no idiv
            float wr = splitRe[k], wi = splitIm[k];
            {
                FloatVector ar = FloatVector.fromArray(species, scratch, zr + a), ai = FloatVector.fromArray(species, scratch, zi + a);
                FloatVector br = FloatVector.fromArray(species, scratch, zr + b), bi = FloatVector.fromArray(species, scratch, zi + b).neg();
                FloatVector er = ar.add(br).mul(0.5f), ei = ai.add(bi).mul(0.5f);
                FloatVector or = ai.sub(bi).mul(0.5f), oi = br.sub(ar).mul(0.5f);
                // X = E + W^k O
                er.add(or.mul(wr)).sub(oi.mul(wi)).intoArray(re, k * w);
                ei.add(oi.mul(wr)).add(or.mul(wi)).intoArray(im, k * w);
            }
        }
    }

    /**
     * Inverse: n reals per lane (scaled by 1/n, numpy irfft semantics: the imaginary parts of bins 0 and
     * n/2 are ignored) from spectrum bins in {@code re}, {@code im} into {@code x} from xOff.
     */
    public void inverse(float[] re, float[] im, float[] x, int xOff, float[] scratch) {
        int hw = half * w;
        FloatVector zero = FloatVector.zero(species);
        for (int k = 0; k < half; k++) {
            int mk = half - k;
            FloatVector ar = FloatVector.fromArray(species, re, k * w);
            FloatVector ai = k == 0 ? zero : FloatVector.fromArray(species, im, k * w);
            FloatVector br = FloatVector.fromArray(species, re, mk * w);
            FloatVector bi = mk == half ? zero : FloatVector.fromArray(species, im, mk * w).neg();
            FloatVector er = ar.add(br), ei = ai.add(bi), dr = ar.sub(br), di = ai.sub(bi);
            float wr = splitRe[k], wi = -splitIm[k]; // W^{-k}
            FloatVector or = dr.mul(wr).sub(di.mul(wi)), oi = dr.mul(wi).add(di.mul(wr));
            // Z = E + i O, with the factor 1/2 of E and O and the 1/(n/2) of the inverse folded into one 1/n.
            float s = 1.0f / n;
            er.sub(oi).mul(s).intoArray(scratch, k * w);
            // Conjugate on the way in: the forward engine then computes the inverse transform.
            ei.add(or).mul(-s).intoArray(scratch, hw + k * w);
        }
        int res = transform(scratch);
        int zr = res, zi = res + hw;
        for (int j = 0; j < half; j++) {
            System.arraycopy(scratch, zr + j * w, x, xOff + 2 * j * w, w);
            FloatVector.fromArray(species, scratch, zi + j * w).neg().intoArray(x, xOff + (2 * j + 1) * w);
        }
    }

    /**
     * Forward complex FFT of n/2 points held split in {@code buf}: real part at 0, imaginary at hw
     * (hw = n/2 * W); the ping-pong buffer is [2hw, 4hw). Returns where the result's real part starts
     * (0 or 2hw); its imaginary part follows hw floats later.
     */
    private int transform(float[] buf) {
        int hw = half * w;
        int src = 0, dst = 2 * hw, cur = half, stride = 1;
        for (int s = 0; s < radices.length; s++) {
            int p = radices[s], m = cur / p;
            switch (p) {
                case 4 -> radix4(buf, src, src + hw, dst, dst + hw, m, stride, twRe[s], twIm[s]);
                case 2 -> radix2(buf, src, src + hw, dst, dst + hw, m, stride, twRe[s], twIm[s]);
                case 3 -> radix3(buf, src, src + hw, dst, dst + hw, m, stride, twRe[s], twIm[s]);
                default -> radix5(buf, src, src + hw, dst, dst + hw, m, stride, twRe[s], twIm[s]);
            }
            int t = src;
            src = dst;
            dst = t;
            cur = m;
            stride *= p;
        }
        return src;
    }

    private static int[] factor(int n) {
        int[] tmp = new int[40];
        int c = 0;
        while (n % 4 == 0) {
            tmp[c++] = 4;
            n /= 4;
        }
        for (int p : new int[] {2, 3, 5}) {
            while (n % p == 0) {
                tmp[c++] = p;
                n /= p;
            }
        }
        return Arrays.copyOf(tmp, c);
    }

    // Stages: inputs at q + s(j + m r), outputs at q + s(p j + k), output k times w^(j k); indices are in
    // complex elements, each W floats wide.

    private static void radix2(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        int sw = s * w, mw = m * sw;
        for (int j = 0; j < m; j++) {
            float wr = tr[j], wi = ti[j];
            int in0 = j * sw, out0 = 2 * j * sw;
            for (int q = 0; q < sw; q += w) {
                int i0 = in0 + q, i1 = i0 + mw, o0 = out0 + q, o1 = o0 + sw;
                FloatVector ar = FloatVector.fromArray(species, a, xr + i0), ai = FloatVector.fromArray(species, a, xi + i0);
                FloatVector br = FloatVector.fromArray(species, a, xr + i1), bi = FloatVector.fromArray(species, a, xi + i1);
                ar.add(br).intoArray(a, yr + o0);
                ai.add(bi).intoArray(a, yi + o0);
                FloatVector dr = ar.sub(br), di = ai.sub(bi);
                dr.mul(wr).sub(di.mul(wi)).intoArray(a, yr + o1);
                dr.mul(wi).add(di.mul(wr)).intoArray(a, yi + o1);
            }
        }
    }

    private static void radix4(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        int sw = s * w, mw = m * sw;
        for (int j = 0; j < m; j++) {
            float w1r = tr[3 * j], w1i = ti[3 * j], w2r = tr[3 * j + 1], w2i = ti[3 * j + 1], w3r = tr[3 * j + 2], w3i = ti[3 * j + 2];
            int in0 = j * sw, out0 = 4 * j * sw;
            for (int q = 0; q < sw; q += w) {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw, i3 = i2 + mw;
                FloatVector a0r = FloatVector.fromArray(species, a, xr + i0), a0i = FloatVector.fromArray(species, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(species, a, xr + i1), a1i = FloatVector.fromArray(species, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(species, a, xr + i2), a2i = FloatVector.fromArray(species, a, xi + i2);
                FloatVector a3r = FloatVector.fromArray(species, a, xr + i3), a3i = FloatVector.fromArray(species, a, xi + i3);
                FloatVector t0r = a0r.add(a2r), t0i = a0i.add(a2i), t1r = a0r.sub(a2r), t1i = a0i.sub(a2i);
                FloatVector t2r = a1r.add(a3r), t2i = a1i.add(a3i), t3r = a1r.sub(a3r), t3i = a1i.sub(a3i);
                FloatVector b1r = t1r.add(t3i), b1i = t1i.sub(t3r), b2r = t0r.sub(t2r), b2i = t0i.sub(t2i);
                FloatVector b3r = t1r.sub(t3i), b3i = t1i.add(t3r);
                int o0 = out0 + q, o1 = o0 + sw, o2 = o1 + sw, o3 = o2 + sw;
                t0r.add(t2r).intoArray(a, yr + o0);
                t0i.add(t2i).intoArray(a, yi + o0);
                b1r.mul(w1r).sub(b1i.mul(w1i)).intoArray(a, yr + o1);
                b1r.mul(w1i).add(b1i.mul(w1r)).intoArray(a, yi + o1);
                b2r.mul(w2r).sub(b2i.mul(w2i)).intoArray(a, yr + o2);
                b2r.mul(w2i).add(b2i.mul(w2r)).intoArray(a, yi + o2);
                b3r.mul(w3r).sub(b3i.mul(w3i)).intoArray(a, yr + o3);
                b3r.mul(w3i).add(b3i.mul(w3r)).intoArray(a, yi + o3);
            }
        }
    }

    private static void radix3(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        final float h = (float) (Math.sqrt(3) / 2);
        int sw = s * w, mw = m * sw;
        for (int j = 0; j < m; j++) {
            float w1r = tr[2 * j], w1i = ti[2 * j], w2r = tr[2 * j + 1], w2i = ti[2 * j + 1];
            int in0 = j * sw, out0 = 3 * j * sw;
            for (int q = 0; q < sw; q += w) {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw;
                FloatVector a0r = FloatVector.fromArray(species, a, xr + i0), a0i = FloatVector.fromArray(species, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(species, a, xr + i1), a1i = FloatVector.fromArray(species, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(species, a, xr + i2), a2i = FloatVector.fromArray(species, a, xi + i2);
                FloatVector tr0 = a1r.add(a2r), ti0 = a1i.add(a2i), dr = a1r.sub(a2r), di = a1i.sub(a2i);
                FloatVector cr = a0r.sub(tr0.mul(0.5f)), ci = a0i.sub(ti0.mul(0.5f));
                FloatVector b1r = cr.add(di.mul(h)), b1i = ci.sub(dr.mul(h)), b2r = cr.sub(di.mul(h)), b2i = ci.add(dr.mul(h));
                int o0 = out0 + q, o1 = o0 + sw, o2 = o1 + sw;
                a0r.add(tr0).intoArray(a, yr + o0);
                a0i.add(ti0).intoArray(a, yi + o0);
                b1r.mul(w1r).sub(b1i.mul(w1i)).intoArray(a, yr + o1);
                b1r.mul(w1i).add(b1i.mul(w1r)).intoArray(a, yi + o1);
                b2r.mul(w2r).sub(b2i.mul(w2i)).intoArray(a, yr + o2);
                b2r.mul(w2i).add(b2i.mul(w2r)).intoArray(a, yi + o2);
            }
        }
    }

    private static void radix5(float[] a, int xr, int xi, int yr, int yi, int m, int s, float[] tr, float[] ti) {
        final float c1 = (float) Math.cos(2 * Math.PI / 5), c2 = (float) Math.cos(4 * Math.PI / 5);
        final float s1 = (float) Math.sin(2 * Math.PI / 5), s2 = (float) Math.sin(4 * Math.PI / 5);
        int sw = s * w, mw = m * sw;
        for (int j = 0; j < m; j++) {
            int t = 4 * j;
            int in0 = j * sw, out0 = 5 * j * sw;
            for (int q = 0; q < sw; q += w) {
                int i0 = in0 + q, i1 = i0 + mw, i2 = i1 + mw, i3 = i2 + mw, i4 = i3 + mw;
                FloatVector a0r = FloatVector.fromArray(species, a, xr + i0), a0i = FloatVector.fromArray(species, a, xi + i0);
                FloatVector a1r = FloatVector.fromArray(species, a, xr + i1), a1i = FloatVector.fromArray(species, a, xi + i1);
                FloatVector a2r = FloatVector.fromArray(species, a, xr + i2), a2i = FloatVector.fromArray(species, a, xi + i2);
                FloatVector a3r = FloatVector.fromArray(species, a, xr + i3), a3i = FloatVector.fromArray(species, a, xi + i3);
                FloatVector a4r = FloatVector.fromArray(species, a, xr + i4), a4i = FloatVector.fromArray(species, a, xi + i4);
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
                twiddle(b1r, b1i, tr[t], ti[t], a, yr + o1, yi + o1);
                twiddle(b2r, b2i, tr[t + 1], ti[t + 1], a, yr + o2, yi + o2);
                twiddle(b3r, b3i, tr[t + 2], ti[t + 2], a, yr + o3, yi + o3);
                twiddle(b4r, b4i, tr[t + 3], ti[t + 3], a, yr + o4, yi + o4);
            }
        }
    }

    private static void twiddle(FloatVector br, FloatVector bi, float wr, float wi, float[] a, int or, int oi) {
        br.mul(wr).sub(bi.mul(wi)).intoArray(a, or);
        br.mul(wi).add(bi.mul(wr)).intoArray(a, oi);
    }
}
