package dev.longconv.backend;

import dev.longconv.ops.ChannelKernel;
import dev.longconv.ops.Seq;
import dev.longconv.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Moves float32 rows between strided tensors and lane-interleaved buffers (channel d0 + l in lane l).
 * Channels-last rows (stride 1 across channels) move a vector at a time; other strides element-wise.
 */
final class LaneIO {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VectorSpecies<Float> species = Lanes.FLOAT;
    private static final int w = Lanes.W;

    private LaneIO() {}

    /** Rows (b, d0 .. d0+W) for t < L into buf[t*W + l]; zeros for missing channels and for L <= t < padTo. */
    static void gather(Seq s, int b, int d0, float[] buf, int padTo) {
        MemorySegment seg = s.tensor().storageSegment();
        int lanes = Math.min(w, s.channels() - d0), len = s.length();
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        if (lanes == w && s.strideD() == 1) {
            for (int t = 0; t < len; t++) {
                FloatVector.fromMemorySegment(species, seg, (base + t * s.strideL()) * 4, ByteOrder.LITTLE_ENDIAN).intoArray(buf, t * w);
            }
        } else {
            if (lanes < w) Arrays.fill(buf, 0, len * w, 0f);
            float[] row = s.strideL() == 1 ? row(len) : null;
            for (int l = 0; l < lanes; l++) {
                long p = base + l * s.strideD();
                if (row != null) { // contiguous rows (channels-first): one bulk copy, then interleave
                    MemorySegment.copy(seg, F, p * 4, row, 0, len);
                    for (int t = 0; t < len; t++) buf[t * w + l] = row[t];
                } else {
                    for (int t = 0; t < len; t++, p += s.strideL()) buf[t * w + l] = seg.get(F, p * 4);
                }
            }
        }
        Arrays.fill(buf, len * w, padTo * w, 0f);
    }

    /** buf[(from + t)*W + l] for t < L into rows (b, d0 + l) of s, for the channels that exist. */
    static void scatter(float[] buf, int from, Seq s, int b, int d0) {
        MemorySegment seg = s.tensor().storageSegment();
        int lanes = Math.min(w, s.channels() - d0), len = s.length();
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        if (lanes == w && s.strideD() == 1) {
            for (int t = 0; t < len; t++) {
                FloatVector.fromArray(species, buf, (from + t) * w).intoMemorySegment(seg, (base + t * s.strideL()) * 4, ByteOrder.LITTLE_ENDIAN);
            }
            return;
        }
        float[] row = s.strideL() == 1 ? row(len) : null;
        for (int l = 0; l < lanes; l++) {
            long p = base + l * s.strideD();
            if (row != null) {
                for (int t = 0; t < len; t++) row[t] = buf[(from + t) * w + l];
                MemorySegment.copy(row, 0, seg, F, p * 4, len);
            } else {
                for (int t = 0; t < len; t++, p += s.strideL()) seg.set(F, p * 4, buf[(from + t) * w + l]);
            }
        }
    }

    /**
     * Rows (b, d0 .. d0+W) for t < L into a LaneFft packed buffer of n samples: even t at (t/2)*W + l,
     * odd t at odd + (t/2)*W + l; zeros for missing channels and for L <= t < n.
     */
    static void gatherPacked(Seq s, int b, int d0, float[] buf, int odd, int n) {
        MemorySegment seg = s.tensor().storageSegment();
        int lanes = Math.min(w, s.channels() - d0), len = s.length(), half = n / 2;
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        if (lanes == w && s.strideD() == 1) {
            for (int t = 0; t < len; t++) {
                FloatVector.fromMemorySegment(species, seg, (base + t * s.strideL()) * 4, ByteOrder.LITTLE_ENDIAN)
                        .intoArray(buf, ((t & 1) == 0 ? 0 : odd) + (t >> 1) * w);
            }
        } else {
            if (lanes < w) {
                Arrays.fill(buf, 0, half * w, 0f);
                Arrays.fill(buf, odd, odd + half * w, 0f);
            }
            float[] row = row(len);
            for (int l = 0; l < lanes; l++) {
                long p = base + l * s.strideD();
                if (s.strideL() == 1) {
                    MemorySegment.copy(seg, F, p * 4, row, 0, len);
                } else {
                    for (int t = 0; t < len; t++, p += s.strideL()) row[t] = seg.get(F, p * 4);
                }
                for (int t = 0; t + 1 < len; t += 2) {
                    int j = (t >> 1) * w + l;
                    buf[j] = row[t];
                    buf[odd + j] = row[t + 1];
                }
                if ((len & 1) == 1) buf[((len - 1) >> 1) * w + l] = row[len - 1];
            }
        }
        Arrays.fill(buf, ((len + 1) >> 1) * w, half * w, 0f); // even samples from L on
        Arrays.fill(buf, odd + (len >> 1) * w, odd + half * w, 0f); // odd samples from L on
    }

    /**
     * Output t < L of rows (b, d0 + l) is sample first + t of a LaneFft inversePacked result at r: even m
     * at r + (m/2)*W + l, odd m negated at r + odd + (m/2)*W + l.
     */
    static void scatterPacked(float[] buf, int r, int odd, int first, Seq s, int b, int d0) {
        MemorySegment seg = s.tensor().storageSegment();
        int lanes = Math.min(w, s.channels() - d0), len = s.length();
        long base = s.tensor().offset() + b * s.strideB() + d0 * s.strideD();
        if (lanes == w && s.strideD() == 1) {
            for (int t = 0; t < len; t++) {
                int m = first + t;
                FloatVector v = (m & 1) == 0 ? FloatVector.fromArray(species, buf, r + (m >> 1) * w)
                        : FloatVector.fromArray(species, buf, r + odd + (m >> 1) * w).neg();
                v.intoMemorySegment(seg, (base + t * s.strideL()) * 4, ByteOrder.LITTLE_ENDIAN);
            }
            return;
        }
        float[] row = row(len);
        for (int l = 0; l < lanes; l++) {
            for (int t = 0; t < len; t++) {
                int m = first + t;
                row[t] = (m & 1) == 0 ? buf[r + (m >> 1) * w + l] : -buf[r + odd + (m >> 1) * w + l];
            }
            long p = base + l * s.strideD();
            if (s.strideL() == 1) {
                MemorySegment.copy(row, 0, seg, F, p * 4, len);
            } else {
                for (int t = 0; t < len; t++, p += s.strideL()) seg.set(F, p * 4, row[t]);
            }
        }
    }

    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** A per-thread row buffer of at least len floats (grown once, then reused). */
    private static float[] row(int len) {
        float[][] h = ROW.get();
        if (h[0].length < len) h[0] = new float[len];
        return h[0];
    }

    /** Taps j < count of channels d0 .. d0+W into buf[j*W + l]; zeros elsewhere up to padTo. */
    static void gatherKernel(ChannelKernel k, int d0, int count, float[] buf, int padTo) {
        MemorySegment seg = k.tensor().storageSegment();
        int lanes = Math.min(w, k.channels() - d0);
        Arrays.fill(buf, 0, padTo * w, 0f);
        for (int l = 0; l < lanes; l++) {
            long p = k.tensor().offset() + (long) (d0 + l) * k.strideD();
            for (int j = 0; j < count; j++, p += k.strideN()) buf[j * w + l] = seg.get(F, p * 4);
        }
    }

    /** One value per channel (a bias [D]) for channels d0 .. d0+W into buf[l]. */
    static void gatherVector(dev.longconv.Tensor v, int d0, float[] buf) {
        Arrays.fill(buf, 0, w, 0f);
        int lanes = (int) Math.min(w, v.dim(0) - d0);
        for (int l = 0; l < lanes; l++) buf[l] = (float) v.get(d0 + l);
    }
}
