package dev.longconv.layers;

import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.spi.HostTasks;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.Simd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The float32 rows of the prepared layers (bias, activation, gate in one pass) against the float64 reference of the
 * same float32 inputs, for every activation, with a gate, without one and without a bias, at row lengths below, at and
 * past every vector width (1, 7, 8, 15, 16, 17, 33, 100), over one to three rows with strides past the row length and
 * at offsets that are not vector-aligned. Tolerance: relative L2 1e-6.
 */
class FloatRowsTest {
    @Test
    void rowsFollowTheFloat64Reference() {
        long seed = TnnTestSupport.SEED + 17;
        SplittableRandom rng = new SplittableRandom(seed);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        for (Activation a : Activation.values()) {
            for (int n : new int[] {1, 7, 8, 15, 16, 17, 33, 100}) {
                for (int variant = 0; variant < 3; variant++) {
                    boolean gated = variant == 1, biased = variant != 2;
                    int rows = 1 + rng.nextInt(3);
                    long inStride = n + rng.nextInt(3), gateStride = n + rng.nextInt(3), outStride = n + rng.nextInt(3);
                    try (Arena arena = Arena.ofConfined()) {
                        int at = rng.nextInt(5);
                        MemorySegment in = arena.allocate(4L * (rows * inStride + at)), gate = arena.allocate(4L * (rows * gateStride + at));
                        MemorySegment out = arena.allocate(4L * (rows * outStride + at));
                        float[] bias = new float[n];
                        for (int j = 0; j < n; j++) bias[j] = (float) rng.nextDouble(-1, 1);
                        for (long j = 0; j < rows * inStride; j++) in.setAtIndex(f, at + j, (float) rng.nextDouble(-8, 8));
                        for (long j = 0; j < rows * gateStride; j++) gate.setAtIndex(f, at + j, (float) rng.nextDouble(-2, 2));
                        FloatRows.biasActivation(a, rows, n, in, at, inStride, biased ? bias : null, gated ? gate : null, at, gateStride, out, at, outStride);
                        for (int r = 0; r < rows; r++) {
                            double err = 0, norm = 0;
                            for (int j = 0; j < n; j++) {
                                double x = (double) in.getAtIndex(f, at + r * inStride + j) + (biased ? bias[j] : 0);
                                double want = TnnReference.act(a.upstreamName(), x);
                                if (gated) want *= gate.getAtIndex(f, at + r * gateStride + j);
                                double d = out.getAtIndex(f, at + r * outStride + j) - want;
                                err += d * d;
                                norm += want * want;
                            }
                            double rel = norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
                            assertTrue(rel <= 1e-6, a + " n=" + n + " row " + r + " of " + rows + " gated=" + gated + " biased=" + biased
                                    + " seed=" + seed + ": relative L2 " + rel);
                        }
                    }
                }
            }
        }
    }

    /**
     * Runs of rows on a backend's pool ({@link HostTasks}, here a proxy claiming 2 to 4 threads that runs the tasks on
     * this thread, last first) give the bits of one pass over all rows, with and without a gate, over strided rows; rows
     * in a confined arena, which a pool thread may not touch, go in one pass without asking the pool.
     */
    @Test
    void runsOfRowsOnThePoolGiveTheBitsOfOnePass() {
        long seed = TnnTestSupport.SEED + 19;
        SplittableRandom rng = new SplittableRandom(seed);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        Backend vector = Backends.get("vector");
        for (Activation a : new Activation[] {Activation.SILU, Activation.RELU, Activation.NONE}) {
            for (int n : new int[] {1, 17, 96}) {
                for (boolean gated : new boolean[] {false, true}) {
                    int rows = 1 + rng.nextInt(50), threads = 2 + rng.nextInt(3);
                    long inStride = 2L * n, gateStride = n + 1, outStride = n;
                    List<Integer> ran = new ArrayList<>();
                    Backend pool = TnnTestSupport.reversedTasks(vector, threads, ran);
                    String what = a + " n=" + n + " rows=" + rows + " threads=" + threads + " gated=" + gated + " seed=" + seed;
                    for (boolean confined : new boolean[] {false, true}) {
                        try (Arena arena = confined ? Arena.ofConfined() : Arena.ofShared()) {
                            MemorySegment in = arena.allocate(4L * rows * inStride), gate = arena.allocate(4L * rows * gateStride);
                            MemorySegment one = arena.allocate(4L * rows * outStride), runs = arena.allocate(4L * rows * outStride);
                            float[] bias = new float[n];
                            for (int j = 0; j < n; j++) bias[j] = (float) rng.nextDouble(-1, 1);
                            for (long j = 0; j < rows * inStride; j++) in.setAtIndex(f, j, (float) rng.nextDouble(-8, 8));
                            for (long j = 0; j < rows * gateStride; j++) gate.setAtIndex(f, j, (float) rng.nextDouble(-2, 2));
                            ran.clear();
                            FloatRows.biasActivation(a, rows, n, in, 0, inStride, bias, gated ? gate : null, 0, gateStride, one, 0, outStride);
                            FloatRows.biasActivation(pool, a, rows, n, in, 0, inStride, bias, gated ? gate : null, 0, gateStride, runs, 0, outStride);
                            assertEquals(confined ? 0 : Math.min(threads, rows) > 1 ? Math.min(threads, rows) : 0, ran.size(),
                                    what + (confined ? " confined" : "") + ": tasks asked for");
                            for (long j = 0; j < rows * outStride; j++) {
                                assertEquals(Float.floatToRawIntBits(one.getAtIndex(f, j)), Float.floatToRawIntBits(runs.getAtIndex(f, j)),
                                        what + (confined ? " confined" : "") + " at " + j);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void outMayBeIn() {
        float[] bias = new float[19];
        java.util.Arrays.fill(bias, 0.5f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(4L * 19);
            for (int j = 0; j < 19; j++) row.setAtIndex(ValueLayout.JAVA_FLOAT, j, j - 9);
            FloatRows.biasActivation(Activation.RELU, 1, 19, row, 0, 19, bias, null, 0, 0, row, 0, 19);
            for (int j = 0; j < 19; j++) assertEquals(Math.max(0, j - 9 + 0.5f), row.getAtIndex(ValueLayout.JAVA_FLOAT, j), "j=" + j);
        }
    }

    /**
     * The layers' lane loops (activations, norms) run at the lane kernels' width, so a forced -Dlongconv.vectorBits
     * holds for them too: the build runs this class at 128 and 256 bits as well as at the CPU's width.
     */
    @Test
    void layerLoopsRunAtTheLaneKernelsWidth() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        assertEquals(Lanes.W, VectorActivations.floatLanes(), "float activation lanes");
        assertEquals(Lanes.W / 2, VectorActivations.doubleLanes(), "double activation lanes");
        assertEquals(Lanes.W, VectorNorms.lanes(), "norm lanes");
    }
}
