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
     * {@link FloatRows#biasActivation} on float lanes over whole vectors of the row: out = act(in + bias) (· gate);
     * returns the index where the whole vectors stop (the caller finishes the tail).
     */
    static int applyFloat(Activation a, MemorySegment in, long inAt, float[] bias, MemorySegment gate, long gateAt, MemorySegment out, long outAt) {
        int w = FLOATS.length(), j = 0;
        for (; j + w <= bias.length; j += w) {
            FloatVector x = FloatVector.fromMemorySegment(FLOATS, in, (inAt + j) * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .add(FloatVector.fromArray(FLOATS, bias, j));
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
            if (gate != null) y = y.mul(FloatVector.fromMemorySegment(FLOATS, gate, (gateAt + j) * Float.BYTES, ByteOrder.LITTLE_ENDIAN));
            y.intoMemorySegment(out, (outAt + j) * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
        }
        return j;
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
