package dev.longconv.simd;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Complex DFT of any size n >= 1, on interleaved (re, im) doubles, in place. Sizes whose prime
 * factors are at most 13 use a mixed-radix Stockham FFT; others use Bluestein's chirp-z transform.
 * Twiddles come from exact integer angle indices, so the error stays at float64 rounding level.
 *
 * <p>Plans are cached per size, immutable and safe to share between threads; each thread keeps its
 * own scratch, so calls allocate nothing after the first on a thread.
 */
public final class ComplexFft {
    private static final ConcurrentHashMap<Integer, ComplexFft> CACHE = new ConcurrentHashMap<>();

    private final int n;
    private final MixedRadix mixed;
    private final Bluestein bluestein;
    private final ThreadLocal<double[]> scratch;

    private ComplexFft(int n) {
        this.n = n;
        this.mixed = MixedRadix.supports(n) ? new MixedRadix(n) : null;
        this.bluestein = mixed == null ? new Bluestein(n) : null;
        int size = mixed != null ? mixed.scratchSize() : bluestein.scratchSize();
        this.scratch = ThreadLocal.withInitial(() -> new double[size]);
    }

    /** The plan for size n (n >= 1). */
    public static ComplexFft of(int n) {
        if (n < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + n);
        return CACHE.computeIfAbsent(n, ComplexFft::new);
    }

    public int size() {
        return n;
    }

    /** X[k] = sum_j x[j] e^{-2 pi i j k / n}, over data[off .. off + 2n). */
    public void forward(double[] data, int off) {
        if (mixed != null) mixed.forward(data, off, scratch.get());
        else bluestein.forward(data, off, scratch.get());
    }

    /** x[j] = (1/n) sum_k X[k] e^{+2 pi i j k / n}, over data[off .. off + 2n). */
    public void inverse(double[] data, int off) {
        // ifft(v) = conj(fft(conj(v))) / n: one engine serves both directions.
        for (int i = off + 1; i < off + 2 * n; i += 2) data[i] = -data[i];
        forward(data, off);
        double s = 1.0 / n;
        for (int i = off; i < off + 2 * n; i += 2) {
            data[i] *= s;
            data[i + 1] *= -s;
        }
    }
}
