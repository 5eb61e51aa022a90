package dev.longconv.layers;

import jdk.incubator.vector.DoubleVector;
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

    private static DoubleVector elu(DoubleVector x) {
        return x.blend(x.lanewise(VectorOperators.EXPM1), x.compare(VectorOperators.LE, 0.0));
    }
}
