package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.simd.FftSizes;

import java.util.Locale;

/**
 * The FFT size N for a sequence of length L and the frequencies ω_m, m = 0..N/2, at which a
 * frequency-domain TNO ({@link FdTno}, {@link FdTnoNoRpe}) evaluates its kernel. Both rules keep N >= 2L,
 * so the product is a linear (not circular) convolution and a causal kernel's support 0..N/2 stays clear
 * of the wrap-around; the kernel, and so the output, depends on the grid, so a model must run on the grid
 * it was trained on.
 */
public enum FrequencyGrid {
    /**
     * ski-tnn's rule ({@code TnoFD}, {@code TnoFDNoRPE}): N = 2^⌈log2(2L)⌉ and ω = torch.linspace(0, π, N/2 + 1)
     * in float32, reproduced value for value ({@link TorchFloat32#linspace}). The default when loading weights.
     */
    UPSTREAM("upstream"),
    /** N = 2 · the smallest 2^a 3^b 5^c >= L (often a third less work), ω_m = π m / (N/2) in float64. */
    FAST("fast");

    private final String key;

    FrequencyGrid(String key) {
        this.key = key;
    }

    /** The name of the hyperparameter value ({@code fft_size}). */
    public String key() {
        return key;
    }

    /** The FFT size for length L. */
    public int fftSize(int len) {
        if (len < 1) throw new IllegalArgumentException("length must be >= 1, got " + len);
        return switch (this) {
            case UPSTREAM -> {
                if (len > (1 << 29)) throw new ArithmeticException("2L exceeds 2^30: " + len);
                yield Integer.highestOneBit(2 * len - 1) << 1;
            }
            case FAST -> Math.multiplyExact(2, FftSizes.nextFast(len));
        };
    }

    /** ω_m for m = 0..n/2 (n even). */
    public double[] frequencies(int n) {
        int bins = n / 2 + 1;
        if (this == UPSTREAM) return TorchFloat32.linspace(0.0, Math.PI, bins);
        double[] w = new double[bins];
        for (int m = 0; m < bins; m++) w[m] = Math.PI * m / (n / 2);
        return w;
    }

    /** "upstream" (also "pow2") or "fast"; {@code op} names the layer in the error. */
    public static FrequencyGrid parse(String name, String op) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "upstream", "pow2" -> UPSTREAM;
            case "fast" -> FAST;
            default -> throw new LongConvException(op, "fft_size", "upstream (2^ceil(log2(2L)), ski-tnn's) or fast (2 * nextFast(L))",
                    "'" + name + "'");
        };
    }
}
