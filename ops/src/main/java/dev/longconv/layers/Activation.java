package dev.longconv.layers;

import dev.longconv.simd.Simd;
import dev.longconv.LongConvException;

import java.util.Arrays;
import java.util.Locale;

/**
 * The activations of tnn-pytorch's {@code get_activation_fn} (and the Rpe's {@code get_act}), by the
 * names its constructors take. Upstream maps any unknown name to the identity; here only "none" (and
 * "identity") do, and other unknown names throw, so a misspelt name is not silently linear, unless the layer's
 * {@code lenient} hyperparameter asks for upstream's behaviour ({@link LenientNames}).
 *
 * <p>gelu is the exact form x Φ(x) = x/2 erfc(-x/√2) (PyTorch's default, not the tanh approximation);
 * elu has alpha 1, leak is leaky_relu with slope 0.01. Derivatives at kinks follow PyTorch's autograd
 * (relu'(0) = 0, leak'(0) = 0.01, elu'(0) = 1).
 */
public enum Activation {
    NONE("none"),
    RELU("relu"),
    SILU("silu"),
    GELU("gelu"),
    ELU("elu"),
    SIGMOID("sigmoid"),
    EXP("exp"),
    LEAK("leak"),
    ONE_PLUS_ELU("1+elu"),
    TWO_PLUS_ELU("2+elu");

    private static final double LEAK_SLOPE = 0.01;
    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    private final String upstreamName;

    Activation(String upstreamName) {
        this.upstreamName = upstreamName;
    }

    /** The name tnn-pytorch uses. */
    public String upstreamName() {
        return upstreamName;
    }

    /** Parses an upstream name; {@code op} and {@code argument} name the hyperparameter in the error. */
    public static Activation parse(String name, String op, String argument) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("identity")) return NONE;
        for (Activation a : values()) if (a.upstreamName.equals(n)) return a;
        throw new LongConvException(op, argument, "one of " + Arrays.stream(values()).map(Activation::upstreamName).toList()
                + " (lenient=true maps other names to the identity, as upstream)", "'" + name + "'");
    }

    public double apply(double x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> x > 0 ? x : 0;
            case SILU -> x * sigmoid(x);
            case GELU -> 0.5 * x * erfc(-x * INV_SQRT2);
            case ELU -> elu(x);
            case SIGMOID -> sigmoid(x);
            case EXP -> Math.exp(x);
            case LEAK -> x > 0 ? x : LEAK_SLOPE * x;
            case ONE_PLUS_ELU -> 1 + elu(x);
            case TWO_PLUS_ELU -> 2 + elu(x);
        };
    }

    /**
     * out[i] = apply(in[i]) for every i (out may be in): on vector lanes where the Vector API is readable and the
     * activation has a vector form (its exponential may differ from Math.exp's in the last bit), else element by
     * element. Layers use it for whole arrays, forward and prepared alike, so both give the same bits.
     */
    public void applyAll(double[] in, double[] out) {
        if (VECTOR && VectorActivations.covers(this)) VectorActivations.apply(this, in, out, 0, in.length);
        else for (int i = 0; i < in.length; i++) out[i] = apply(in[i]);
    }

    /** Whether the Vector API can be used here (checked once; the vector class is only loaded when it can). */
    private static final boolean VECTOR = Simd.status().available();

    /** d apply / dx at x. */
    public double derivative(double x) {
        return switch (this) {
            case NONE -> 1;
            case RELU -> x > 0 ? 1 : 0;
            case SILU -> {
                double s = sigmoid(x);
                yield s * (1 + x * (1 - s));
            }
            case GELU -> 0.5 * erfc(-x * INV_SQRT2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
            case ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> x > 0 ? 1 : Math.exp(x);
            case SIGMOID -> {
                double s = sigmoid(x);
                yield s * (1 - s);
            }
            case EXP -> Math.exp(x);
            case LEAK -> x > 0 ? 1 : LEAK_SLOPE;
        };
    }

    private static double elu(double x) {
        return x > 0 ? x : Math.expm1(x);
    }

    /** The logistic function, without overflow for large |x|. */
    public static double sigmoid(double x) {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1 + e);
    }

    /** The error function to within 4 ulps: erf(x) = 1 - erfc(x), computed on the side without cancellation. */
    public static double erf(double x) {
        double a = Math.abs(x);
        double r = a < 2 ? erfSeries(a) : 1 - erfcContinuedFraction(a);
        return Math.copySign(r, x);
    }

    /** The complementary error function, accurate also deep in the tail where 1 - erf(x) would cancel. */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 0) return 1 + erf(-x);
        return x < 2 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
    }

    /**
     * erf(a) = 2/√π e^{-a²} Σ_n 2^n a^{2n+1} / (1·3···(2n+1)) for a >= 0: every term is positive, so there is
     * no cancellation; below a = 2 it needs at most about 40 terms.
     */
    private static double erfSeries(double a) {
        double a2 = a * a, term = a, sum = a;
        for (int n = 1; n < 200; n++) {
            term *= 2 * a2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
    }

    /**
     * erfc(a) = e^{-a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))) for a >= 2, evaluated by the
     * modified Lentz method.
     */
    private static double erfcContinuedFraction(double a) {
        if (a > 27) return 0; // e^{-729} underflows
        final double tiny = 1e-300;
        double f = a, c = a, d = 0;
        for (int n = 1; n < 500; n++) {
            double an = n * 0.5;
            d = a + an * d;
            if (d == 0) d = tiny;
            c = a + an / c;
            if (c == 0) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
    }
}
