package dev.longconv.layers;

import dev.longconv.simd.Lanes;
import dev.longconv.simd.NativeSegments;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two halves of an RMS-type norm over rows of float32 memory on float lanes, for {@link Norm.Bound#forwardFloat}:
 * the sum of squares (fused multiply-adds into W float partial sums, added across the lanes in float at each row's end)
 * and the scaling. Rows of whole vectors lying back to back go in blocks of {@link #BLOCK} rows, each half as one flat
 * loop over the block; other rows one by one. A loop per row of a few vectors spends most of its time entering and leaving (rows of 32: a per-row norm
 * ran at 2.5x the time of the flat halves in a throwaway loop). Loaded only where the Vector API is readable. Offsets
 * count elements, not bytes. The segments are native ({@link NativeSegments}): Norm sends rows over heap memory to its
 * float64 form.
 */
final class VectorNorms {
    /** Doubles at the float lanes' shape, for {@link #factorsOnLanes}. */
    private static final VectorSpecies<Double> DOUBLES = VectorSpecies.of(double.class, Lanes.FLOAT.vectorShape());

    private VectorNorms() {}

    /** The lane kernels' species ({@link Lanes}): a forced -Dlongconv.vectorBits holds here too. */
    private static final VectorSpecies<Float> FLOATS = Lanes.FLOAT;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder(); // F32's order

    /**
     * The lane sum's order, fixed: lane c takes lane c ^ h (FOLD_h) for h = W/2, W/4, .., 1, and a vector plus each of
     * these rearrangements in turn holds the sum of its lanes in every lane. {@code reduceLanes(ADD)} leaves the order
     * to the implementation ("an arbitrary order of operations, which may even vary over time", its javadoc): the Java
     * fallback before C2 compiles a loop and the intrinsic after it differ (2210 of 4096 random 8-lane sums in a
     * throwaway test), so a prepared layer did not give the same bits twice. Each FOLD_h is a constant of its own,
     * used under a test of W that C2 folds: a loop over an array of shuffles made the sums of squares 25-60% slower.
     * The fold is written out in each partialSquares loop, not in a helper that takes a vector: such a helper boxes its
     * vectors wherever C2 does not inline it ({@link VectorActivations}' class note).
     */
    private static final int W = FLOATS.length();
    /** The scale of a norm without one: a vector of ones, its index wrapping at one vector ({@link #scaleRows}, {@link #scale}). */
    private static final float[] NO_SCALE = ones(FLOATS.length());
    private static final VectorShuffle<Float> FOLD_8 = fold(8), FOLD_4 = fold(4), FOLD_2 = fold(2), FOLD_1 = fold(1);

    /** Lane c takes lane c ^ h; null where h is not below W (never used: the sums test W first). */
    private static VectorShuffle<Float> fold(int h) {
        return h < W ? VectorShuffle.fromOp(FLOATS, c -> c ^ h) : null;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    /** Rows per block of the flat form: its scratch is 2 BLOCK floats (a sum and a factor per row); a block's loops count in int. */
    static final int BLOCK = 256;

    /** Floats per vector in these loops. */
    static int lanes() {
        return FLOATS.length();
    }

    /** Whether rows of d values take the flat form (whole vectors only). */
    static boolean flat(int d) {
        return d % FLOATS.length() == 0 && (long) BLOCK * d <= Integer.MAX_VALUE;
    }

    /** The scratch the flat form needs: a sum of squares and a factor per row of a block. */
    static int scratchLength() {
        return 2 * BLOCK;
    }

    /** The offset in the scratch where a block's row factors go (after its sums of squares). */
    static int factorsAt() {
        return BLOCK;
    }

    /**
     * The float sum of squares of each of {@code rows} (at most {@link #BLOCK}) back-to-back rows of d values ({@link
     * #flat}) into part[r], in one flat loop: W partial sums by fused multiply-adds, added across the lanes at the row's
     * end in the fixed order of FOLD_8 .. FOLD_1 (adding the W partials one by one in float64 per row, as at first, was a
     * third of the norm at d = 32 and a quarter at d = 64 in a timing loop over 2047 rows). Rows of a multiple of 4 (or
     * 2) vectors sum into 4 (or 2) vectors at once: one chain of fused multiply-adds per row waits on the FMA's latency
     * (4 cycles) at every vector, and at d = 256 (32 AVX2 vectors a row) that chain was most of the norm.
     */
    static void partialSquares(MemorySegment x, long xo, int rows, int d, float[] part) {
        int w = FLOATS.length(), perRow = d / w;
        if (perRow % 4 == 0) partialSquares4(x, xo, rows, d, part);
        else if (perRow % 2 == 0) partialSquares2(x, xo, rows, d, part);
        else partialSquares1(x, xo, rows, d, part);
    }

    private static void partialSquares1(MemorySegment x, long xo, int rows, int d, float[] part) {
        x = NativeSegments.cast(x);
        int w = FLOATS.length(), perRow = d / w, c = 0, at = 0, count = rows * d;
        long from = xo * Float.BYTES;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int k = 0; k < count; k += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, from + (long) k * Float.BYTES, ORDER);
            acc = v.fma(v, acc);
            if (++c == perRow) {
                if (W > 8) acc = acc.add(acc.rearrange(FOLD_8));
                if (W > 4) acc = acc.add(acc.rearrange(FOLD_4));
                acc = acc.add(acc.rearrange(FOLD_2));
                acc = acc.add(acc.rearrange(FOLD_1));
                part[at++] = acc.lane(0);
                acc = FloatVector.zero(FLOATS);
                c = 0;
            }
        }
    }

    private static void partialSquares2(MemorySegment x, long xo, int rows, int d, float[] part) {
        x = NativeSegments.cast(x);
        int w = FLOATS.length(), steps = d / (2 * w), c = 0, at = 0, count = rows * d;
        long from = xo * Float.BYTES;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0;
        for (int k = 0; k < count; k += 2 * w) {
            long b = from + (long) k * Float.BYTES;
            FloatVector v0 = FloatVector.fromMemorySegment(FLOATS, x, b, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(FLOATS, x, b + (long) w * Float.BYTES, ORDER);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            if (++c == steps) {
                FloatVector acc = a0.add(a1);
                if (W > 8) acc = acc.add(acc.rearrange(FOLD_8));
                if (W > 4) acc = acc.add(acc.rearrange(FOLD_4));
                acc = acc.add(acc.rearrange(FOLD_2));
                acc = acc.add(acc.rearrange(FOLD_1));
                part[at++] = acc.lane(0);
                a0 = FloatVector.zero(FLOATS);
                a1 = a0;
                c = 0;
            }
        }
    }

    private static void partialSquares4(MemorySegment x, long xo, int rows, int d, float[] part) {
        x = NativeSegments.cast(x);
        int w = FLOATS.length(), steps = d / (4 * w), c = 0, at = 0, count = rows * d;
        long from = xo * Float.BYTES, vb = (long) w * Float.BYTES;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < count; k += 4 * w) {
            long b = from + (long) k * Float.BYTES;
            FloatVector v0 = FloatVector.fromMemorySegment(FLOATS, x, b, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(FLOATS, x, b + vb, ORDER);
            FloatVector v2 = FloatVector.fromMemorySegment(FLOATS, x, b + 2 * vb, ORDER);
            FloatVector v3 = FloatVector.fromMemorySegment(FLOATS, x, b + 3 * vb, ORDER);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            a2 = v2.fma(v2, a2);
            a3 = v3.fma(v3, a3);
            if (++c == steps) {
                FloatVector acc = a0.add(a1).add(a2.add(a3));
                if (W > 8) acc = acc.add(acc.rearrange(FOLD_8));
                if (W > 4) acc = acc.add(acc.rearrange(FOLD_4));
                acc = acc.add(acc.rearrange(FOLD_2));
                acc = acc.add(acc.rearrange(FOLD_1));
                part[at++] = acc.lane(0);
                a0 = FloatVector.zero(FLOATS);
                a1 = a0;
                a2 = a0;
                a3 = a0;
                c = 0;
            }
        }
    }

    /**
     * y = x q_r (* scale[i] where scale is not null), then a ReLU where {@code relu}, over {@code rows} back-to-back rows
     * of d values ({@link #flat}), q_r = q[qAt + r], in one flat loop; y may be x. The ReLU has the bits of the
     * activation's own pass (which it saves): {@link VectorActivations}' blend of zero where x <= 0.
     */
    static void scaleRows(MemorySegment x, long xo, float[] q, int qAt, float[] scale, MemorySegment y, long yo, int rows, int d, boolean relu) {
        x = NativeSegments.cast(x);
        y = NativeSegments.cast(y);
        int w = FLOATS.length(), perRow = d / w, c = 0, r = 0, i = 0, count = rows * d;
        long from = xo * Float.BYTES, to = yo * Float.BYTES;
        float qr = q[qAt];
        float[] factor = scale != null ? scale : NO_SCALE; // nothing null in the loop: see VectorActivations on loop predication
        int factorWrap = scale != null ? d : w;
        for (int k = 0; k < count; k += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, from + (long) k * Float.BYTES, ORDER).mul(qr)
                    .mul(FloatVector.fromArray(FLOATS, factor, i));
            if (relu) v = v.blend(0f, v.compare(VectorOperators.LE, 0f)); // VectorActivations' ReLU
            i = i + w == factorWrap ? 0 : i + w;
            v.intoMemorySegment(y, to + (long) k * Float.BYTES, ORDER);
            if (++c == perRow && ++r < rows) {
                qr = q[qAt + r];
                c = 0;
            }
        }
    }

    /**
     * {@link #scaleRows} into a float array from y[yo] on, rows back to back: for a norm whose rows a GEMM then reads
     * where they are ({@link Norm.Bound#forwardFloatRows}). Its own loop, not a branch on the output's kind in scaleRows':
     * a test in the loop is what VectorActivations' class note warns of.
     */
    static void scaleRowsInto(MemorySegment x, long xo, float[] q, int qAt, float[] scale, float[] y, int yo, int rows, int d, boolean relu) {
        x = NativeSegments.cast(x);
        int w = FLOATS.length(), perRow = d / w, c = 0, r = 0, i = 0, count = rows * d;
        long from = xo * Float.BYTES;
        float qr = q[qAt];
        float[] factor = scale != null ? scale : NO_SCALE;
        int factorWrap = scale != null ? d : w;
        for (int k = 0; k < count; k += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, from + (long) k * Float.BYTES, ORDER).mul(qr)
                    .mul(FloatVector.fromArray(FLOATS, factor, i));
            if (relu) v = v.blend(0f, v.compare(VectorOperators.LE, 0f)); // VectorActivations' ReLU
            i = i + w == factorWrap ? 0 : i + w;
            v.intoArray(y, yo + k);
            if (++c == perRow && ++r < rows) {
                qr = q[qAt + r];
                c = 0;
            }
        }
    }

    /** The sum of x[xo + i]^2 for i < d. */
    static double sumSquares(MemorySegment x, long xo, int d) {
        x = NativeSegments.cast(x);
        int w = FLOATS.length(), i = 0;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (; i + w <= d; i += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, (xo + i) * 4, ORDER);
            acc = v.fma(v, acc);
        }
        double s = 0;
        for (int l = 0; l < w; l++) s += acc.lane(l);
        for (; i < d; i++) {
            double v = x.getAtIndex(F32, xo + i);
            s += v * v;
        }
        return s;
    }

    /** y[yo + i] = x[xo + i] * q (* scale[i] where scale is not null) for i < d; y may be x. */
    static void scale(MemorySegment x, long xo, float q, float[] scale, MemorySegment y, long yo, int d) {
        x = NativeSegments.cast(x);
        y = NativeSegments.cast(y);
        int w = FLOATS.length(), i = 0, f = 0;
        float[] factor = scale != null ? scale : NO_SCALE; // as in scaleRows
        int factorWrap = scale != null ? d : w;
        for (; i + w <= d; i += w) {
            FloatVector.fromMemorySegment(FLOATS, x, (xo + i) * 4, ORDER).mul(q).mul(FloatVector.fromArray(FLOATS, factor, f))
                    .intoMemorySegment(y, (yo + i) * 4, ORDER);
            f = f + w == factorWrap ? 0 : f + w;
        }
        for (; i < d; i++) {
            float v = x.getAtIndex(F32, xo + i) * q;
            y.setAtIndex(F32, yo + i, scale == null ? v : v * scale[i]);
        }
    }

    /**
     * {@link Norm#factor} of each sq[k] in place, for k below the returned count (n rounded down to whole double vectors;
     * the caller does the rest): on double lanes, with the same operations in the same order, each correctly rounded,
     * so the same bits. For runs of rows whose sums of squares are known (the first RPE block's), where a square root
     * and a division per row were a third of its time.
     */
    static int factorsOnLanes(NormType type, double[] sq, int n, int d) {
        if (type != NormType.SIMPLE_RMS && type != NormType.RMS && type != NormType.GATED_RMS && type != NormType.SCALE) {
            throw new IllegalArgumentException("no single factor for " + type);
        }
        boolean scale = type == NormType.SCALE;
        double sqrtD = Math.sqrt(d);
        int w = DOUBLES.length(), k = 0;
        for (; k <= n - w; k += w) {
            DoubleVector v = DoubleVector.fromArray(DOUBLES, sq, k);
            DoubleVector f = scale ? v.div(d).add(Norm.SCALE_EPS).sqrt() : v.sqrt().div(sqrtD).add(Norm.RMS_EPS);
            DoubleVector.broadcast(DOUBLES, 1).div(f).intoArray(sq, k);
        }
        return k;
    }
}
