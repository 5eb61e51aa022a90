package dev.longconv.layers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 rows of the prepared layers (bias, activation, gate in one pass) against the float64 reference of the
 * same float32 inputs, for every activation, with and without a gate, at row lengths below, at and past every vector
 * width (1, 7, 8, 15, 16, 17, 33, 100) and at offsets that are not vector-aligned. Tolerance: relative L2 1e-6.
 */
class FloatRowsTest {
    @Test
    void rowsFollowTheFloat64Reference() {
        long seed = TnnTestSupport.SEED + 17;
        SplittableRandom rng = new SplittableRandom(seed);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        for (Activation a : Activation.values()) {
            for (int n : new int[] {1, 7, 8, 15, 16, 17, 33, 100}) {
                for (boolean gated : new boolean[] {false, true}) {
                    try (Arena arena = Arena.ofConfined()) {
                        int at = rng.nextInt(5);
                        MemorySegment in = arena.allocate(4L * (n + at)), gate = arena.allocate(4L * (n + at)), out = arena.allocate(4L * (n + at));
                        float[] bias = new float[n];
                        for (int j = 0; j < n; j++) {
                            in.setAtIndex(f, at + j, (float) rng.nextDouble(-8, 8));
                            gate.setAtIndex(f, at + j, (float) rng.nextDouble(-2, 2));
                            bias[j] = (float) rng.nextDouble(-1, 1);
                        }
                        FloatRows.biasActivation(a, in, at, bias, gated ? gate : null, at, out, at);
                        double err = 0, norm = 0;
                        for (int j = 0; j < n; j++) {
                            double want = TnnReference.act(a.upstreamName(), (double) in.getAtIndex(f, at + j) + bias[j]);
                            if (gated) want *= gate.getAtIndex(f, at + j);
                            double d = out.getAtIndex(f, at + j) - want;
                            err += d * d;
                            norm += want * want;
                        }
                        double rel = norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
                        assertTrue(rel <= 1e-6, a + " n=" + n + " gated=" + gated + " seed=" + seed + ": relative L2 " + rel);
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
            FloatRows.biasActivation(Activation.RELU, row, 0, bias, null, 0, row, 0);
            for (int j = 0; j < 19; j++) assertEquals(Math.max(0, j - 9 + 0.5f), row.getAtIndex(ValueLayout.JAVA_FLOAT, j), "j=" + j);
        }
    }
}
