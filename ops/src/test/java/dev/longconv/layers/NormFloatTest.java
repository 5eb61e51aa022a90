package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A norm's float32 row form (on float lanes for the RMS types where the Vector API is readable) against its float64
 * form on the same float32 values, for every norm type, at row lengths below, at and past every vector width, at
 * offsets that are not vector-aligned, into another row and in place; rows of 1, 2 and 4 (or more) vectors at every
 * width reach each of the flat form's partial-sum loops (one, two and four accumulators). Tolerance: relative L2 1e-6
 * per row.
 */
class NormFloatTest {
    /**
     * The norms' factors on double lanes (runs of rows whose sums of squares are known) have the bits of the scalar
     * factor, for every norm with one, at sums from zero and subnormal to huge, for every count (tails left alone).
     */
    @Test
    void factorsOnLanesHaveTheBitsOfTheScalarFactor() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.longconv.simd.Simd.status().available(), () -> "vector path unavailable: " + dev.longconv.simd.Simd.status().reason());
        long seed = TnnTestSupport.SEED + 91;
        SplittableRandom rng = new SplittableRandom(seed);
        for (NormType type : new NormType[] {NormType.SIMPLE_RMS, NormType.RMS, NormType.GATED_RMS, NormType.SCALE}) {
            for (int n = 0; n <= 37; n++) {
                int d = 1 + rng.nextInt(600);
                double[] sq = new double[n];
                for (int k = 0; k < n; k++) {
                    sq[k] = switch (k % 4) {
                        case 0 -> 0;
                        case 1 -> Double.MIN_VALUE * rng.nextInt(1, 1000);
                        default -> rng.nextDouble() * Math.pow(2, rng.nextInt(-60, 60));
                    };
                }
                double[] lanes = sq.clone();
                int done = VectorNorms.factorsOnLanes(type, lanes, n, d);
                assertTrue(done >= 0 && done <= n, type + " n=" + n + ": " + done + " done");
                for (int k = 0; k < n; k++) {
                    double want = k < done ? Norm.factor(type, sq[k], d) : sq[k];
                    assertTrue(Double.doubleToRawLongBits(want) == Double.doubleToRawLongBits(lanes[k]),
                            type + " n=" + n + " d=" + d + " k=" + k + " sq=" + sq[k] + ": " + want + " against " + lanes[k] + " (seed " + seed + ")");
                }
            }
        }
    }

    @Test
    void floatRowsFollowTheFloat64Form() {
        long seed = TnnTestSupport.SEED + 29;
        SplittableRandom rng = new SplittableRandom(seed);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        for (NormType type : NormType.values()) {
            for (int d : new int[] {1, 7, 8, 15, 16, 17, 32, 33, 48, 64, 96, 100}) {
                List<Tensor> params = new ArrayList<>();
                for (String name : type.parameterNames()) {
                    Tensor p = Tensor.zeros(DType.FLOAT64, name.equals("scala") ? 1 : d);
                    for (int i = 0; i < p.dim(0); i++) p.set(rng.nextDouble(0.5, 2), i);
                    params.add(p);
                }
                Norm.Bound norm = new Norm(type, d, params).bind();
                for (boolean inPlace : new boolean[] {false, true}) {
                    int rows = rng.nextInt(4) == 0 ? 257 + rng.nextInt(300) : 1 + rng.nextInt(3);
                    try (Arena arena = Arena.ofConfined()) {
                        int at = rng.nextInt(5);
                        long n = (long) rows * d + at;
                        MemorySegment x = arena.allocate(4L * n), y = inPlace ? x : arena.allocate(4L * n);
                        double[] xd = new double[rows * d], want = new double[rows * d];
                        for (int i = 0; i < rows * d; i++) {
                            x.setAtIndex(f, at + i, (float) rng.nextDouble(-3, 3));
                            xd[i] = x.getAtIndex(f, at + i);
                        }
                        for (int r = 0; r < rows; r++) norm.forward(xd, r * d, want, r * d);
                        norm.forwardFloat(x, at, y, at, rows, Norm.floatScratch());
                        for (int r = 0; r < rows; r++) {
                            double err = 0, ref = 0;
                            for (int i = r * d; i < (r + 1) * d; i++) {
                                double diff = y.getAtIndex(f, at + i) - want[i];
                                err += diff * diff;
                                ref += want[i] * want[i];
                            }
                            double rel = ref == 0 ? Math.sqrt(err) : Math.sqrt(err / ref);
                            assertTrue(rel <= 1e-6, type + " d=" + d + " row " + r + " of " + rows + " inPlace=" + inPlace + " seed=" + seed + ": relative L2 " + rel);
                        }
                    }
                }
                params.forEach(Tensor::close);
            }
        }
    }

    /**
     * The ReLU a norm applies in its lane loop gives the bits of the norm followed by the activation's own pass, for
     * every norm type and row length (where the norm cannot apply it, it says so and leaves the rows as the plain norm
     * does), including inputs that scale to -0, NaN and infinities.
     */
    @Test
    void reluInTheNormEqualsTheActivationPassBitForBit() {
        long seed = TnnTestSupport.SEED + 31;
        SplittableRandom rng = new SplittableRandom(seed);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED;
        float[] special = {-0f, 0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -1e-45f};
        int fused = 0;
        for (NormType type : NormType.values()) {
            for (int d : new int[] {1, 7, 8, 16, 32, 33, 64, 96}) {
                List<Tensor> params = new ArrayList<>();
                for (String name : type.parameterNames()) {
                    Tensor p = Tensor.zeros(DType.FLOAT64, name.equals("scala") ? 1 : d);
                    for (int i = 0; i < p.dim(0); i++) p.set(rng.nextDouble(-2, 2), i);
                    params.add(p);
                }
                Norm.Bound norm = new Norm(type, d, params).bind();
                int rows = 1 + rng.nextInt(40);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment x = arena.allocate(4L * rows * d), plain = arena.allocate(4L * rows * d), withRelu = arena.allocate(4L * rows * d);
                    for (int i = 0; i < rows * d; i++) {
                        x.setAtIndex(f, i, i % 97 == 5 ? special[rng.nextInt(special.length)] : (float) rng.nextDouble(-3, 3));
                    }
                    norm.forwardFloat(x, 0, plain, 0, rows, Norm.floatScratch());
                    FloatRows.biasActivation(Activation.RELU, rows, d, plain, 0, d, null, null, 0, 0, plain, 0, d);
                    boolean applied = norm.forwardFloat(x, 0, withRelu, 0, rows, Norm.floatScratch(), true);
                    if (applied) {
                        fused++;
                    } else {
                        FloatRows.biasActivation(Activation.RELU, rows, d, withRelu, 0, d, null, null, 0, 0, withRelu, 0, d);
                    }
                    for (int i = 0; i < rows * d; i++) {
                        int want = Float.floatToRawIntBits(plain.getAtIndex(f, i)), got = Float.floatToRawIntBits(withRelu.getAtIndex(f, i));
                        assertTrue(want == got, type + " d=" + d + " rows=" + rows + " element " + i + " applied=" + applied + " seed=" + seed
                                + ": " + Float.intBitsToFloat(got) + " against " + Float.intBitsToFloat(want));
                    }
                }
                params.forEach(Tensor::close);
            }
        }
        if (dev.longconv.simd.Simd.status().available()) assertTrue(fused > 0, "no norm applied the ReLU in its lane loop");
    }
}
