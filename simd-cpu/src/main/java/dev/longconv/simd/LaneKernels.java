package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Float32 kernels on lane-interleaved buffers (element t of lane l at t * W + l, one channel per
 * lane), the layout {@link LaneFft} uses. Every loop is vector arithmetic across lanes.
 */
public final class LaneKernels {
    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final VectorSpecies<Integer> INTS = SPECIES.withLanes(int.class);
    private static final int W = Lanes.W;

    private LaneKernels() {}

    private static final int LOG_W = Integer.numberOfTrailingZeros(W);
    /** Per level lv (blocks of b = 2^lv lanes): lane c takes c - b (RIGHT) or c + b (LEFT); ODD marks the odd blocks. */
    private static final VectorShuffle<Float>[] RIGHT, LEFT;
    private static final VectorMask<Float>[] ODD;

    static {
        @SuppressWarnings("unchecked") VectorShuffle<Float>[] right = new VectorShuffle[LOG_W], left = new VectorShuffle[LOG_W];
        @SuppressWarnings("unchecked") VectorMask<Float>[] odd = new VectorMask[LOG_W];
        for (int lv = 0; lv < LOG_W; lv++) {
            int b = 1 << lv;
            right[lv] = VectorShuffle.fromOp(SPECIES, c -> ((c / b) & 1) == 1 ? c - b : c);
            left[lv] = VectorShuffle.fromOp(SPECIES, c -> ((c / b) & 1) == 0 ? c + b : c);
            boolean[] bits = new boolean[W];
            for (int c = 0; c < W; c++) bits[c] = ((c / b) & 1) == 1;
            odd[lv] = VectorMask.fromArray(SPECIES, bits, 0);
        }
        RIGHT = right;
        LEFT = left;
        ODD = odd;
    }

    /**
     * Transposes the W x W tile at {@code a[off..]} (row r at off + r * W) in place: log2 W rounds that
     * swap the off-diagonal blocks of every 2b x 2b block, two rearranges and two blends per row pair.
     * It turns W rows of channel data into lane-interleaved time steps and back, which element by element
     * costs a strided scalar access per float.
     */
    public static void transposeTile(float[] a, int off) {
        if (W == 8) {
            transposeTile8(a, off);
            return;
        }
        for (int lv = LOG_W - 1; lv >= 0; lv--) {
            int b = 1 << lv;
            VectorShuffle<Float> right = RIGHT[lv], left = LEFT[lv];
            VectorMask<Float> odd = ODD[lv];
            for (int i = 0; i < W; i++) {
                if ((i & b) != 0) continue;
                int pi = off + i * W, pj = pi + b * W;
                FloatVector ri = FloatVector.fromArray(SPECIES, a, pi), rj = FloatVector.fromArray(SPECIES, a, pj);
                ri.blend(rj.rearrange(right), odd).intoArray(a, pi);
                ri.rearrange(left).blend(rj, odd).intoArray(a, pj);
            }
        }
    }

    /** The shuffles and masks of levels 0..2 as constants for {@link #transposeTile8} (null below 8 lanes). */
    private static final VectorShuffle<Float> R0 = level(RIGHT, 0), R1 = level(RIGHT, 1), R2 = level(RIGHT, 2);
    private static final VectorShuffle<Float> L0 = level(LEFT, 0), L1 = level(LEFT, 1), L2 = level(LEFT, 2);
    private static final VectorMask<Float> O0 = level(ODD, 0), O1 = level(ODD, 1), O2 = level(ODD, 2);

    private static <T> T level(T[] perLevel, int lv) {
        return lv < perLevel.length ? perLevel[lv] : null;
    }

    /**
     * {@link #transposeTile} at 8 lanes with the tile in registers throughout: 8 loads and 8 stores instead of a load
     * and a store per row and level (24 each), and the shuffles as constants (elements of a static array are not).
     * The transposes of gather and scatter were a fifth of a BDL causal-conv at L = 1024 (stack profiler, AVX2).
     */
    private static void transposeTile8(float[] a, int off) {
        FloatVector r0 = FloatVector.fromArray(SPECIES, a, off), r1 = FloatVector.fromArray(SPECIES, a, off + 8);
        FloatVector r2 = FloatVector.fromArray(SPECIES, a, off + 16), r3 = FloatVector.fromArray(SPECIES, a, off + 24);
        FloatVector r4 = FloatVector.fromArray(SPECIES, a, off + 32), r5 = FloatVector.fromArray(SPECIES, a, off + 40);
        FloatVector r6 = FloatVector.fromArray(SPECIES, a, off + 48), r7 = FloatVector.fromArray(SPECIES, a, off + 56);
        // blocks of 4: rows (0,4) (1,5) (2,6) (3,7)
        FloatVector s0 = r0.blend(r4.rearrange(R2), O2), s4 = r0.rearrange(L2).blend(r4, O2);
        FloatVector s1 = r1.blend(r5.rearrange(R2), O2), s5 = r1.rearrange(L2).blend(r5, O2);
        FloatVector s2 = r2.blend(r6.rearrange(R2), O2), s6 = r2.rearrange(L2).blend(r6, O2);
        FloatVector s3 = r3.blend(r7.rearrange(R2), O2), s7 = r3.rearrange(L2).blend(r7, O2);
        // blocks of 2: rows (0,2) (1,3) (4,6) (5,7)
        FloatVector t0 = s0.blend(s2.rearrange(R1), O1), t2 = s0.rearrange(L1).blend(s2, O1);
        FloatVector t1 = s1.blend(s3.rearrange(R1), O1), t3 = s1.rearrange(L1).blend(s3, O1);
        FloatVector t4 = s4.blend(s6.rearrange(R1), O1), t6 = s4.rearrange(L1).blend(s6, O1);
        FloatVector t5 = s5.blend(s7.rearrange(R1), O1), t7 = s5.rearrange(L1).blend(s7, O1);
        // single lanes: rows (0,1) (2,3) (4,5) (6,7)
        t0.blend(t1.rearrange(R0), O0).intoArray(a, off);
        t0.rearrange(L0).blend(t1, O0).intoArray(a, off + 8);
        t2.blend(t3.rearrange(R0), O0).intoArray(a, off + 16);
        t2.rearrange(L0).blend(t3, O0).intoArray(a, off + 24);
        t4.blend(t5.rearrange(R0), O0).intoArray(a, off + 32);
        t4.rearrange(L0).blend(t5, O0).intoArray(a, off + 40);
        t6.blend(t7.rearrange(R0), O0).intoArray(a, off + 48);
        t6.rearrange(L0).blend(t7, O0).intoArray(a, off + 56);
    }

    /** a[i] *= b[i] for i &lt; n (n a multiple of W). */
    public static void multiply(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i += W) FloatVector.fromArray(SPECIES, a, i).mul(FloatVector.fromArray(SPECIES, b, i)).intoArray(a, i);
    }

    /**
     * Per lane, the largest |x[t]| for t &lt; count into {@code out[0..W)}: NaN where the lane holds a NaN, infinity
     * where it holds an infinity and no NaN. One pass, for the FFT paths' range and finiteness checks.
     */
    public static void maxAbs(float[] x, int count, float[] out) {
        maxAbs(x, 0, count, out);
    }

    /** {@link #maxAbs(float[], int, float[])} over the count vectors from x[from]. */
    public static void maxAbs(float[] x, int from, int count, float[] out) {
        // On the bits with the sign cleared: as ints they order as the magnitudes do, infinity above every finite value
        // and every NaN above infinity, so one integer max per vector gives the float max with NaN winning (a float
        // max with Java's NaN rules is several instructions, and made this loop 4x slower). Four chains of maxima, and
        // the loop stays in this method: a helper returning the vector boxes it wherever C2 does not inline the helper,
        // and the warm stream steps that call this must allocate nothing.
        final int magnitude = Integer.MAX_VALUE; // every bit but the sign
        IntVector m0 = IntVector.zero(INTS), m1 = m0, m2 = m0, m3 = m0;
        int n = from + count * W, i = from;
        for (; i <= n - 4 * W; i += 4 * W) {
            m0 = m0.max(FloatVector.fromArray(SPECIES, x, i).reinterpretAsInts().and(magnitude));
            m1 = m1.max(FloatVector.fromArray(SPECIES, x, i + W).reinterpretAsInts().and(magnitude));
            m2 = m2.max(FloatVector.fromArray(SPECIES, x, i + 2 * W).reinterpretAsInts().and(magnitude));
            m3 = m3.max(FloatVector.fromArray(SPECIES, x, i + 3 * W).reinterpretAsInts().and(magnitude));
        }
        for (; i < n; i += W) m0 = m0.max(FloatVector.fromArray(SPECIES, x, i).reinterpretAsInts().and(magnitude));
        m0.max(m1).max(m2.max(m3)).reinterpretAsFloats().intoArray(out, 0);
    }

    /**
     * Whether x[0..n) holds no NaN and no infinity: {@link #maxAbs} over the whole vectors, then the tail. For checks
     * once per call (it allocates W floats), not for per-step loops.
     */
    public static boolean allFinite(float[] x, int n) {
        return allFinite(x, 0, n);
    }

    /** Whether x[from..end) holds no NaN and no infinity, as {@link #allFinite(float[], int)}. */
    public static boolean allFinite(float[] x, int from, int end) {
        java.util.Objects.checkFromToIndex(from, end, x.length);
        int full = end - (end - from) % W;
        float[] m = new float[W];
        maxAbs(x, from, (full - from) / W, m);
        boolean finite = true;
        for (float v : m) finite &= Float.isFinite(v);
        for (int i = full; i < end; i++) finite &= Float.isFinite(x[i]);
        return finite;
    }

    /** x[t] *= s (one factor per lane) for t &lt; count. */
    public static void scaleLanes(float[] x, int count, float[] s) {
        FloatVector sv = FloatVector.fromArray(SPECIES, s, 0);
        for (int i = 0, n = count * W; i < n; i += W) FloatVector.fromArray(SPECIES, x, i).mul(sv).intoArray(x, i);
    }

    /** y[t] += s * x[t] per lane for t &lt; len; s holds one factor per lane. */
    public static void addScaled(float[] y, float[] x, float[] s, int len) {
        FloatVector sv = FloatVector.fromArray(SPECIES, s, 0);
        for (int i = 0, n = len * W; i < n; i += W) {
            FloatVector.fromArray(SPECIES, x, i).fma(sv, FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
        }
    }

    /**
     * Direct causal convolution: y[t] = sum_{j &lt; taps, j &lt;= t} k[j] x[t-j] for t &lt; len, per lane.
     * x, k and y are lane-interleaved; y must not alias x.
     */
    public static void causalDirect(float[] x, float[] k, int taps, float[] y, int len) {
        causalDirect(x, k, 0, taps, y, len);
    }

    /** {@link #causalDirect(float[], float[], int, float[], int)} with the taps starting at tap {@code kFrom} of {@code k}. */
    public static void causalDirect(float[] x, float[] k, int kFrom, int taps, float[] y, int len) {
        for (int t = 0; t < len; t++) {
            FloatVector acc = FloatVector.zero(SPECIES);
            int jMax = Math.min(t, taps - 1);
            for (int j = 0; j <= jMax; j++) {
                acc = FloatVector.fromArray(SPECIES, k, (kFrom + j) * W).fma(FloatVector.fromArray(SPECIES, x, (t - j) * W), acc);
            }
            acc.intoArray(y, t * W);
        }
    }

    /**
     * Short convolution: y[t] = bias + sum_j wts[j] x[t - shift + j] for t &lt; len, reading x as zero
     * outside [0, len). bias may be null.
     */
    public static void shortConv(float[] x, int len, float[] wts, int width, int shift, float[] bias, float[] y) {
        FloatVector b = bias == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, bias, 0);
        for (int t = 0; t < len; t++) {
            FloatVector acc = b;
            int j0 = Math.max(0, shift - t), j1 = Math.min(width, len + shift - t);
            for (int j = j0; j < j1; j++) {
                acc = FloatVector.fromArray(SPECIES, wts, j * W).fma(FloatVector.fromArray(SPECIES, x, (t - shift + j) * W), acc);
            }
            acc.intoArray(y, t * W);
        }
    }

    /**
     * ski per lane: u = W^T x, v = T u with T[i,j] = kr[i-j+r-1], y = W v; W interpolates linearly onto r
     * inducing points (segment seg[t], weight frac[t] on its upper end). u and v need r * W floats each.
     */
    public static void ski(float[] x, int len, int[] seg, float[] frac, float[] kr, int r, float[] u, float[] v, float[] y) {
        skiProject(x, len, seg, frac, r, u);
        for (int i = 0; i < r; i++) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int j = 0; j < r; j++) {
                acc = FloatVector.fromArray(SPECIES, kr, (i - j + r - 1) * W).fma(FloatVector.fromArray(SPECIES, u, j * W), acc);
            }
            acc.intoArray(v, i * W);
        }
        skiExpand(v, 0, len, seg, frac, y);
    }

    /** u = W^T x per lane (r * W floats, overwritten). */
    public static void skiProject(float[] x, int len, int[] seg, float[] frac, int r, float[] u) {
        Arrays.fill(u, 0, r * W, 0f);
        for (int t = 0; t < len; t++) {
            FloatVector xt = FloatVector.fromArray(SPECIES, x, t * W);
            int i = seg[t] * W;
            float f = frac[t];
            xt.mul(1 - f).add(FloatVector.fromArray(SPECIES, u, i)).intoArray(u, i);
            if (f != 0) xt.mul(f).add(FloatVector.fromArray(SPECIES, u, i + W)).intoArray(u, i + W);
        }
    }

    /** y = W v per lane, v read from {@code vOff}. */
    public static void skiExpand(float[] v, int vOff, int len, int[] seg, float[] frac, float[] y) {
        for (int t = 0; t < len; t++) {
            int i = vOff + seg[t] * W;
            float f = frac[t];
            FloatVector yt = FloatVector.fromArray(SPECIES, v, i).mul(1 - f);
            if (f != 0) yt = FloatVector.fromArray(SPECIES, v, i + W).mul(f).add(yt);
            yt.intoArray(y, t * W);
        }
    }


    /**
     * short-conv weight and bias gradients per lane, accumulated: dw[j] += sum_t g[t] x[t - shift + j]
     * (W * lanes floats), db += sum_t g[t] (lanes floats; skipped when null).
     */
    public static void shortConvWeightGrad(float[] x, float[] g, int len, int width, int shift, float[] dw, float[] db) {
        for (int j = 0; j < width; j++) {
            FloatVector acc = FloatVector.fromArray(SPECIES, dw, j * W);
            int t0 = Math.max(0, shift - j), t1 = Math.min(len, len + shift - j);
            for (int t = t0; t < t1; t++) {
                acc = FloatVector.fromArray(SPECIES, g, t * W).fma(FloatVector.fromArray(SPECIES, x, (t - shift + j) * W), acc);
            }
            acc.intoArray(dw, j * W);
        }
        if (db != null) {
            FloatVector acc = FloatVector.fromArray(SPECIES, db, 0);
            for (int t = 0; t < len; t++) acc = acc.add(FloatVector.fromArray(SPECIES, g, t * W));
            acc.intoArray(db, 0);
        }
    }

    /** ski kernel gradient per lane, accumulated: dk[i - j + r - 1] += gv[i] u[j] over i, j &lt; r ((2r-1) * lanes floats). */
    public static void skiKernelGrad(float[] gv, float[] u, int r, float[] dk) {
        for (int m = 0; m < 2 * r - 1; m++) {
            int lag = m - (r - 1), j0 = Math.max(0, -lag), j1 = Math.min(r, r - lag);
            FloatVector acc = FloatVector.fromArray(SPECIES, dk, m * W);
            for (int j = j0; j < j1; j++) {
                acc = FloatVector.fromArray(SPECIES, gv, (j + lag) * W).fma(FloatVector.fromArray(SPECIES, u, j * W), acc);
            }
            acc.intoArray(dk, m * W);
        }
    }
}
