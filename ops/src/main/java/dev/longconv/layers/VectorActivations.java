package dev.longconv.layers;

import dev.longconv.simd.Lanes;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activations whose vector form is exact enough to share with their scalar form (relu, leak, exp, sigmoid, silu,
 * elu), on DoubleVector lanes: the exponential through the Vector API's intrinsic, several times faster than a
 * Math.exp per element. Loaded only where the Vector API is readable ({@link Activation#applyAll}).
 *
 * <p>The sigmoid is 1 / (1 + e^-x) through e = e^-|x|, so that no lane overflows: x >= 0 gives q = 1 / (1 + e), x < 0
 * gives e q (the scalar form divides e / (1 + e): at most an ulp apart). One division per vector instead of two: the
 * divisions were most of a small GTU's SiLU (ServingBench.gtuPrepared, stack profiler).
 *
 * <p>Every activation is written out inside its loop's switch, not in helpers that take and return vectors: C2 inlines
 * such a helper only where it judges the call hot when it compiles the loop, and where it does not, every vector is
 * boxed. A sigmoid helper did that in some JVM runs and not others: a warm prepared GTU (SiLU) then allocated 697 KB
 * per call instead of 0.9 KB.
 */
final class VectorActivations {
    private VectorActivations() {}

    /** The lane kernels' species ({@link Lanes}), and doubles in vectors of the same size: a forced -Dlongconv.vectorBits holds here too. */
    private static final VectorSpecies<Float> FLOATS = Lanes.FLOAT;
    private static final VectorSpecies<Double> SPECIES = VectorSpecies.of(double.class, Lanes.FLOAT.vectorShape());

    /** Floats per vector in the float loops. */
    static int floatLanes() {
        return FLOATS.length();
    }

    /** Doubles per vector in the double loops. */
    static int doubleLanes() {
        return SPECIES.length();
    }

    /** Whether {@code a} has a vector form here. */
    static boolean covers(Activation a) {
        return switch (a) {
            case NONE, RELU, LEAK, EXP, SIGMOID, SILU, ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> true;
            case GELU -> false;
        };
    }

    /** out[i] = a(in[i]) for i in [from, to); tails through the scalar form. */
    static void apply(Activation a, double[] in, double[] out, int from, int to) {
        int w = SPECIES.length(), i = from;
        for (; i + w <= to; i += w) {
            DoubleVector x = DoubleVector.fromArray(SPECIES, in, i);
            DoubleVector y = switch (a) {
                case NONE -> x;
                case RELU -> x.max(0.0);
                case LEAK -> x.max(x.mul(0.01));
                case EXP -> x.lanewise(VectorOperators.EXP);
                case SIGMOID, SILU -> { // see the class note on the sigmoid
                    DoubleVector e = x.abs().neg().lanewise(VectorOperators.EXP);
                    DoubleVector q = DoubleVector.broadcast(SPECIES, 1.0).div(e.add(1.0));
                    DoubleVector s = q.blend(e.mul(q), x.compare(VectorOperators.LT, 0.0));
                    yield a == Activation.SILU ? x.mul(s) : s;
                }
                case ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> {
                    DoubleVector e = x.blend(x.lanewise(VectorOperators.EXPM1), x.compare(VectorOperators.LE, 0.0));
                    yield a == Activation.ELU ? e : e.add(a == Activation.ONE_PLUS_ELU ? 1.0 : 2.0);
                }
                case GELU -> throw new IllegalStateException("gelu has no vector form here");
            };
            y.intoArray(out, i);
        }
        for (; i < to; i++) out[i] = a.apply(in[i]);
    }

    /**
     * {@link FloatRows#biasActivation} on float lanes over the whole vectors of each row: out = act(in + bias) (·
     * gate), bias null adding nothing; returns the index in the row where the whole vectors stop (the caller finishes
     * the tails). Offsets and strides count elements. Where every row is whole vectors and the rows lie back to back
     * (stride d everywhere), the rows run as one flat loop with the bias index wrapping at d: a loop per row of a few
     * vectors (d = 32 is four AVX2 vectors) ran at half the speed of the flat loop, in loop entry and exit. The loops
     * count in int: with a long counter C2 kept deoptimizing and recompiling this method (profile_predicate traps,
     * dozens a second), and between compiles the unintrinsified vectors allocated megabytes per call.
     */
    static int applyFloat(Activation a, int rows, int d, MemorySegment in, long inAt, long inStride, float[] bias,
                          MemorySegment gate, long gateAt, long gateStride, MemorySegment out, long outAt, long outStride) {
        int w = FLOATS.length(), whole = d - d % w;
        boolean flat = whole == d && inStride == d && outStride == d && (gate == null || gateStride == d) && (long) rows * d <= Integer.MAX_VALUE - w;
        int count = flat ? rows * d : whole, rowCount = flat ? 1 : rows;
        for (int r = 0; r < rowCount; r++) {
            long i = (inAt + r * inStride) * Float.BYTES, g = (gateAt + r * gateStride) * Float.BYTES, o = (outAt + r * outStride) * Float.BYTES;
            int b = 0;
            for (int j = 0; j < count; j += w) {
                FloatVector x = FloatVector.fromMemorySegment(FLOATS, in, i + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
                if (bias != null) {
                    x = x.add(FloatVector.fromArray(FLOATS, bias, b));
                    b = b + w == d ? 0 : b + w;
                }
                FloatVector y = switch (a) {
                    case NONE -> x;
                    case RELU -> x.max(0f);
                    case LEAK -> x.max(x.mul(0.01f));
                    case EXP -> x.lanewise(VectorOperators.EXP);
                    case SIGMOID, SILU -> { // see the class note on the sigmoid
                        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
                        FloatVector q = FloatVector.broadcast(FLOATS, 1f).div(e.add(1f));
                        FloatVector s = q.blend(e.mul(q), x.compare(VectorOperators.LT, 0f));
                        yield a == Activation.SILU ? x.mul(s) : s;
                    }
                    case ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> {
                        FloatVector e = x.blend(x.lanewise(VectorOperators.EXPM1), x.compare(VectorOperators.LE, 0f));
                        yield a == Activation.ELU ? e : e.add(a == Activation.ONE_PLUS_ELU ? 1f : 2f);
                    }
                    case GELU -> throw new IllegalStateException("gelu has no vector form here");
                };
                if (gate != null) y = y.mul(FloatVector.fromMemorySegment(FLOATS, gate, g + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN));
                y.intoMemorySegment(out, o + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            }
        }
        return whole;
    }
}
