package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Seq;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.NativeSegments;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Moves float32 rows between strided tensors and lane-interleaved buffers (channel d0 + l in lane l).
 * Channels-last rows (stride 1 across channels) move a vector at a time; other strides element-wise, and so do
 * tensors over heap memory (the vector loops take native segments only: {@link NativeSegments}).
 */
final class LaneIO {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final VectorSpecies<Integer> INTS = SPECIES.withLanes(int.class);
    private static final int W = Lanes.W;

    private LaneIO() {}

    /** Java arrays stop short of 2^31 elements; lane buffers hold W floats per step. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 64;

    /**
     * Refuses, before anything is allocated, work whose lane buffers would not fit Java arrays: {@code steps} time
     * steps (or FFT points) of W lanes, twice over for an FFT's data and scratch.
     */
    static void requireSteps(String op, String arg, long steps) {
        if (steps < 0 || steps > MAX_ARRAY / (2L * W)) {
            throw new LongConvException(op, arg, "at most " + MAX_ARRAY / (2L * W) + " steps or FFT points on the vector backend (" + W
                    + " lanes per step in Java arrays); use the scalar backend", steps + " steps");
        }
    }

    /** Rows (b, d0 .. d0+W) for t < L into buf[t*W + l]; zeros for missing channels and for L <= t < padTo. */
    static void gather(Seq s, int b, int d0, float[] buf, int padTo) {
        gather(s, b, d0, buf, padTo, null);
    }

    /**
     * {@link #gather(Seq, int, int, float[], int)}, and where {@code laneMax} is not null each lane's largest |x| into
     * it, as {@link LaneKernels#maxAbs} over the gathered steps gives it (the FFT paths' range check): channels-last
     * rows measure as they move, sparing that pass over the buffer.
     */
    static void gather(Seq s, int b, int d0, float[] buf, int padTo, float[] laneMax) {
        int lanes = Math.min(W, s.channels() - d0), len = s.length();
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        gatherRows(s.tensor().storageSegment(), base, s.strideD(), s.strideL(), lanes, len, buf, laneMax);
        Arrays.fill(buf, len * W, padTo * W, 0f);
    }

    /**
     * {@code lanes} rows of {@code len} floats, row l from element base + l * strideD with stride strideT along it, into
     * buf[t*W + l] (zeros in the lanes past {@code lanes}). Channels-last rows (strideD 1) move a vector per step,
     * time-contiguous rows (strideT 1) through W x W tile transposes, other strides element-wise.
     */
    private static void gatherRows(MemorySegment seg, long base, long strideD, long strideT, int lanes, int len, float[] buf, float[] laneMax) {
        if (!NativeSegments.isNative(seg)) {
            gatherElementwise(seg, base, strideD, strideT, lanes, len, 0, buf);
            if (laneMax != null) LaneKernels.maxAbs(buf, len, laneMax);
            return;
        }
        seg = NativeSegments.cast(seg);
        if (lanes == W && strideD == 1) {
            if (laneMax == null) {
                for (int t = 0; t < len; t++) {
                    FloatVector.fromMemorySegment(SPECIES, seg, (base + t * strideT) * 4, ByteOrder.LITTLE_ENDIAN).intoArray(buf, t * W);
                }
                return;
            }
            // the integer max of the bits with the sign cleared, as maxAbs takes it (NaN above infinity above the rest)
            IntVector m = IntVector.zero(INTS);
            for (int t = 0; t < len; t++) {
                FloatVector v = FloatVector.fromMemorySegment(SPECIES, seg, (base + t * strideT) * 4, ByteOrder.LITTLE_ENDIAN);
                v.intoArray(buf, t * W);
                m = m.max(v.reinterpretAsInts().and(Integer.MAX_VALUE));
            }
            m.reinterpretAsFloats().intoArray(laneMax, 0);
            return;
        }
        if (lanes == W && strideT == 1) {
            gatherTiles(seg, base, strideD, len, buf, laneMax);
            return;
        }
        gatherElementwise(seg, base, strideD, strideT, lanes, len, 0, buf);
        if (laneMax != null) LaneKernels.maxAbs(buf, len, laneMax);
    }

    /**
     * Time-contiguous rows (BDL) of all W lanes: W x W tiles, one vector load per channel, transposed into place, the
     * steps after the last whole tile element-wise; where laneMax is not null, each lane's largest |x| measured on the
     * tile's rows right after the transpose (in L1) and on the tail's.
     */
    private static void gatherTiles(MemorySegment seg, long base, long strideD, int len, float[] buf, float[] laneMax) {
        int whole = len - len % W;
        if (laneMax == null) {
            for (int t0 = 0; t0 < whole; t0 += W) gatherTile(seg, base, strideD, t0, buf);
            gatherElementwise(seg, base, strideD, 1, W, len, whole, buf);
            return;
        }
        // two loops, not a test of laneMax in one: see VectorActivations' class note on tests in lane loops
        IntVector m = IntVector.zero(INTS);
        for (int t0 = 0; t0 < whole; t0 += W) {
            gatherTile(seg, base, strideD, t0, buf);
            for (int t = t0; t < t0 + W; t++) m = m.max(FloatVector.fromArray(SPECIES, buf, t * W).reinterpretAsInts().and(Integer.MAX_VALUE));
        }
        gatherElementwise(seg, base, strideD, 1, W, len, whole, buf);
        for (int t = whole; t < len; t++) m = m.max(FloatVector.fromArray(SPECIES, buf, t * W).reinterpretAsInts().and(Integer.MAX_VALUE));
        m.reinterpretAsFloats().intoArray(laneMax, 0);
    }

    /** The W x W tile of steps t0 .. t0 + W: one vector load per channel, transposed into place in buf. */
    private static void gatherTile(MemorySegment seg, long base, long strideD, int t0, float[] buf) {
        seg = NativeSegments.cast(seg);
        for (int l = 0; l < W; l++) {
            FloatVector.fromMemorySegment(SPECIES, seg, (base + l * strideD + t0) * 4, ByteOrder.LITTLE_ENDIAN).intoArray(buf, (t0 + l) * W);
        }
        LaneKernels.transposeTile(buf, t0 * W);
    }

    /** gatherRows' steps t0 .. len an element at a time: tails, other strides, and heap segments (all of it). */
    private static void gatherElementwise(MemorySegment seg, long base, long strideD, long strideT, int lanes, int len, int t0, float[] buf) {
        if (lanes < W) Arrays.fill(buf, 0, len * W, 0f);
        for (int l = 0; l < lanes; l++) {
            long p = base + l * strideD + t0 * strideT;
            for (int t = t0; t < len; t++, p += strideT) buf[t * W + l] = seg.get(F, p * 4);
        }
    }

    /** buf[(from + t)*W + l] for t < L into rows (b, d0 + l) of s, for the channels that exist. */
    static void scatter(float[] buf, int from, Seq s, int b, int d0) {
        MemorySegment seg = s.tensor().storageSegment();
        int lanes = Math.min(W, s.channels() - d0), len = s.length();
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        if (!NativeSegments.isNative(seg)) {
            scatterElementwise(buf, from, seg, base, s.strideD(), s.strideL(), lanes, len, 0);
            return;
        }
        seg = NativeSegments.cast(seg);
        if (lanes == W && s.strideD() == 1) {
            for (int t = 0; t < len; t++) {
                FloatVector.fromArray(SPECIES, buf, (from + t) * W).intoMemorySegment(seg, (base + t * s.strideL()) * 4, ByteOrder.LITTLE_ENDIAN);
            }
            return;
        }
        int t0 = 0;
        if (lanes == W && s.strideL() == 1) {
            // Time-contiguous rows (BDL): copy a W x W tile out, transpose it, one vector store per channel.
            float[] tile = TILE.get();
            for (; t0 + W <= len; t0 += W) {
                System.arraycopy(buf, (from + t0) * W, tile, 0, W * W);
                LaneKernels.transposeTile(tile, 0);
                for (int l = 0; l < W; l++) {
                    FloatVector.fromArray(SPECIES, tile, l * W).intoMemorySegment(seg, (base + l * s.strideD() + t0) * 4, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
        scatterElementwise(buf, from, seg, base, s.strideD(), s.strideL(), lanes, len, t0);
    }

    /** scatter's steps t0 .. len an element at a time: tails, other strides, and heap segments (all of it). */
    private static void scatterElementwise(float[] buf, int from, MemorySegment seg, long base, long strideD, long strideL, int lanes, int len, int t0) {
        for (int l = 0; l < lanes; l++) {
            long p = base + l * strideD + t0 * strideL;
            for (int t = t0; t < len; t++, p += strideL) seg.set(F, p * 4, buf[(from + t) * W + l]);
        }
    }

    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[W * W]);

    /** Taps j < count of channels d0 .. d0+W into buf[j*W + l]; zeros elsewhere up to padTo. */
    static void gatherKernel(ChannelKernel k, int d0, int count, float[] buf, int padTo) {
        gatherKernel(k, d0, count, buf, padTo, null);
    }

    /** {@link #gatherKernel(ChannelKernel, int, int, float[], int)}, measuring each lane's largest |tap| as {@link #gather} does. */
    static void gatherKernel(ChannelKernel k, int d0, int count, float[] buf, int padTo, float[] laneMax) {
        int lanes = Math.min(W, k.channels() - d0);
        gatherRows(k.tensor().storageSegment(), k.tensor().offset() + (long) d0 * k.strideD(), k.strideD(), k.strideN(), lanes, count, buf, laneMax);
        Arrays.fill(buf, count * W, padTo * W, 0f);
    }

    /** One value per channel (a bias [D]) for channels d0 .. d0+W into buf[l]. */
    static void gatherVector(Tensor v, int d0, float[] buf) {
        Arrays.fill(buf, 0, W, 0f);
        int lanes = (int) Math.min(W, v.dim(0) - d0);
        for (int l = 0; l < lanes; l++) buf[l] = (float) v.get(d0 + l);
    }
}
