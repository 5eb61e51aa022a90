package dev.longconv.layers;

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
 */
final class VectorActivations {
    private VectorActivations() {}

    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

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
                case SIGMOID -> sigmoid(x);
                case SILU -> x.mul(sigmoid(x));
                case ELU -> elu(x);
                case ONE_PLUS_ELU -> elu(x).add(1.0);
                case TWO_PLUS_ELU -> elu(x).add(2.0);
                case GELU -> throw new IllegalStateException("gelu has no vector form here");
            };
            y.intoArray(out, i);
        }
        for (; i < to; i++) out[i] = a.apply(in[i]);
    }

    /**
     * 1 / (1 + e^-x), through e = e^-|x| so that no lane overflows: x >= 0 gives q = 1 / (1 + e), x < 0 gives e q
     * (the scalar form divides e / (1 + e): at most an ulp apart). One division per vector instead of two: the
     * divisions were most of a small GTU's SiLU (ServingBench.gtuPrepared, stack profiler).
     */
    private static DoubleVector sigmoid(DoubleVector x) {
        DoubleVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        DoubleVector q = DoubleVector.broadcast(SPECIES, 1.0).div(e.add(1.0));
        return q.blend(e.mul(q), x.compare(VectorOperators.LT, 0.0));
    }

    /**
     * {@link FloatRows#biasActivation} on float lanes over the whole vectors of each row: out = act(in + bias) (·
     * gate), bias null adding nothing; returns the index in the row where the whole vectors stop (the caller finishes
     * the tails). Offsets and strides count elements. Where every row is whole vectors and the rows lie back to back
     * (stride d everywhere), the rows run as one flat loop with the bias index wrapping at d: a loop per row of a few
     * vectors (d = 32 is four AVX2 vectors) ran at half the speed of the flat loop, in loop entry and exit.
     */
    static int applyFloat(Activation a, int rows, int d, MemorySegment in, long inAt, long inStride, float[] bias,
                          MemorySegment gate, long gateAt, long gateStride, MemorySegment out, long outAt, long outStride) {
        int w = FLOATS.length(), whole = d - d % w;
        boolean flat = whole == d && inStride == d && outStride == d && (gate == null || gateStride == d);
        long vectors = flat ? (long) rows * d : whole, rowCount = flat ? 1 : rows;
        for (long r = 0; r < rowCount; r++) {
            long i = (inAt + r * inStride) * Float.BYTES, g = (gateAt + r * gateStride) * Float.BYTES, o = (outAt + r * outStride) * Float.BYTES;
            int b = 0;
            for (long j = 0; j < vectors; j += w) {
                FloatVector x = FloatVector.fromMemorySegment(FLOATS, in, i + j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
                if (bias != null) {
                    x = x.add(FloatVector.fromArray(FLOATS, bias, b));
                    b = b + w == d ? 0 : b + w;
                }
                FloatVector y = switch (a) {
                    case NONE -> x;
                    case RELU -> x.max(0f);
                    case LEAK -> x.max(x.mul(0.01f));
                    case EXP -> x.lanewise(VectorOperators.EXP);
                    case SIGMOID -> sigmoid(x);
                    case SILU -> x.mul(sigmoid(x));
                    case ELU -> elu(x);
                    case ONE_PLUS_ELU -> elu(x).add(1f);
                    case TWO_PLUS_ELU -> elu(x).add(2f);
                    case GELU -> throw new IllegalStateException("gelu has no vector form here");
                };
                if (gate != null) y = y.mul(FloatVector.fromMemorySegment(FLOATS, gate, g + j * Float.BYTES, ByteOrder.LITTLE_ENDIAN));
                y.intoMemorySegment(out, o + j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            }
        }
        return whole;
    }

    /** The float form of {@link #sigmoid(DoubleVector)}. */
    private static FloatVector sigmoid(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        FloatVector q = FloatVector.broadcast(FLOATS, 1f).div(e.add(1f));
        return q.blend(e.mul(q), x.compare(VectorOperators.LT, 0f));
    }

    private static FloatVector elu(FloatVector x) {
        return x.blend(x.lanewise(VectorOperators.EXPM1), x.compare(VectorOperators.LE, 0f));
    }

    private static DoubleVector elu(DoubleVector x) {
        return x.blend(x.lanewise(VectorOperators.EXPM1), x.compare(VectorOperators.LE, 0.0));
    }
}
