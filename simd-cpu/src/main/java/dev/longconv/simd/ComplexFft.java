package dev.longconv.simd;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Complex discrete Fourier transform of any size n >= 1, in float64, in place on interleaved
 * (re, im) doubles data[off .. off + 2n).
 *
 * <p>{@link #forward}: X[k] = sum_j x[j] e^{-2 pi i jk/n}, unnormalized. {@link #inverse}:
 * x[j] = (1/n) sum_k X[k] e^{+2 pi i jk/n}, so inverse(forward(x)) = x up to rounding.
 *
 * <p>Sizes whose prime factors are at most 13 use a mixed-radix Stockham FFT (radix 4, 2, 3, 5
 * butterflies, 7, 11, 13 generic); other sizes use Bluestein's chirp-z transform over a power-of-two
 * FFT of at least 2n-1 points, so every size is O(n log n). Twiddles and chirps are computed with
 * Math.cos/Math.sin from exact integer angle indices (reduced in long arithmetic), never by
 * recurrence, so the error stays at float64 rounding level for large n too.
 *
 * <p>Thread-safety: plans are cached per size, immutable and safe to share between threads. Working
 * memory is per thread (one buffer per plan and thread, kept for the thread's lifetime), so calls
 * allocate nothing after a thread's first call on a plan, and concurrent calls give bit-identical
 * results to sequential ones.
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

    /**
     * The plan for size n, created on first use and cached.
     *
     * @throws IllegalArgumentException if n &lt; 1, or if the working buffers for n cannot be Java arrays
     *     (n above about 2^30, or above 2^27 for sizes with a prime factor over 13)
     */
    public static ComplexFft of(int n) {
        if (n < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + n);
        return CACHE.computeIfAbsent(n, ComplexFft::new);
    }

    /** The transform size n (number of complex points). */
    public int size() {
        return n;
    }

    /** In place: X[k] = sum_j x[j] e^{-2 pi i j k / n}, over data[off .. off + 2n); no normalization. */
    public void forward(double[] data, int off) {
        if (mixed != null) mixed.forward(data, off, scratch.get());
        else bluestein.forward(data, off, scratch.get());
    }

    /** In place: x[j] = (1/n) sum_k X[k] e^{+2 pi i j k / n}, over data[off .. off + 2n). */
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
