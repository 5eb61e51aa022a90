package dev.longconv.simd;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Real-input discrete Fourier transform of any size n >= 1, in float64, with the semantics of
 * numpy.fft.rfft and numpy.fft.irfft.
 *
 * <p>{@link #forward} writes the n/2+1 non-redundant bins X[k] = sum_j x[j] e^{-2 pi i jk/n},
 * k = 0 .. n/2, interleaved (re, im), unnormalized. {@link #inverse} reads such bins, treats them as
 * the half of a Hermitian spectrum and writes the n real samples scaled by 1/n; like numpy, it
 * ignores the imaginary part of bin 0 and, for even n, of bin n/2, since a real signal cannot have
 * one there.
 *
 * <p>Even n packs the samples into a complex sequence of n/2 (even samples real, odd imaginary),
 * transforms that with {@link ComplexFft} and separates the two halves afterwards, so it costs about
 * half a complex FFT of size n. Odd n has no such split and uses a complex FFT of size n. Either way
 * the cost is O(n log n) and the error stays at float64 rounding level.
 *
 * <p>Thread-safety: plans are cached per size, immutable and safe to share between threads. Working
 * memory is per thread (one buffer per plan and thread, kept for the thread's lifetime), so calls
 * allocate nothing after a thread's first call on a plan, and concurrent calls give bit-identical
 * results to sequential ones. Input and output ranges must not overlap.
 */
public final class RealFft {
    private static final ConcurrentHashMap<Integer, RealFft> CACHE = new ConcurrentHashMap<>();

    private final int n;
    private final ComplexFft complex;
    /** Even n: e^{-2 pi i k / n} for k = 0 .. n/2, interleaved; null for odd n. */
    private final double[] twiddle;
    private final ThreadLocal<double[]> scratch;

    private RealFft(int n) {
        this.n = n;
        boolean even = n % 2 == 0;
        this.complex = ComplexFft.of(even ? n / 2 : n);
        if (even) {
            twiddle = new double[2 * (n / 2 + 1)];
            for (int k = 0; k <= n / 2; k++) {
                double ang = -2 * Math.PI * k / n; // k < n: the index is already exact, no reduction needed
                twiddle[2 * k] = Math.cos(ang);
                twiddle[2 * k + 1] = Math.sin(ang);
            }
        } else {
            twiddle = null;
        }
        int size = 2 * complex.size();
        this.scratch = ThreadLocal.withInitial(() -> new double[size]);
    }

    /**
     * The plan for size n, created on first use and cached.
     *
     * @throws IllegalArgumentException if n &lt; 1 (or so large that the working buffers cannot be arrays)
     */
    public static RealFft of(int n) {
        if (n < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + n);
        return CACHE.computeIfAbsent(n, RealFft::new);
    }

    /** The transform size n (number of real samples). */
    public int size() {
        return n;
    }

    /**
     * rfft: bins 0 .. n/2 of the DFT of x[xOff .. xOff+n), interleaved (re, im) into
     * out[outOff .. outOff + 2(n/2+1)); no normalization.
     */
    public void forward(double[] x, int xOff, double[] out, int outOff) {
        double[] z = scratch.get();
        if (twiddle == null) {
            for (int j = 0; j < n; j++) {
                z[2 * j] = x[xOff + j];
                z[2 * j + 1] = 0;
            }
            complex.forward(z, 0);
            System.arraycopy(z, 0, out, outOff, 2 * (n / 2 + 1));
            out[outOff + 1] = 0; // exactly zero for real input, as numpy returns; the complex path leaves rounding noise
            return;
        }
        int h = n / 2;
        System.arraycopy(x, xOff, z, 0, n); // z_j = x_2j + i x_2j+1
        complex.forward(z, 0);
        // With A = Z_k and B = conj(Z_{h-k}): the even samples' DFT is (A + B) / 2, the odd samples'
        // (A - B) / 2i, and X_k = E_k + e^{-2 pi i k/n} O_k. At k = 0 and h both are real.
        out[outOff] = z[0] + z[1];
        out[outOff + 1] = 0;
        out[outOff + 2 * h] = z[0] - z[1];
        out[outOff + 2 * h + 1] = 0;
        for (int k = 1; k < h; k++) {
            int a = 2 * k, b = 2 * (h - k);
            double ar = z[a], ai = z[a + 1], br = z[b], bi = -z[b + 1];
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
            double or = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
            double wr = twiddle[2 * k], wi = twiddle[2 * k + 1];
            out[outOff + 2 * k] = er + wr * or - wi * oi;
            out[outOff + 2 * k + 1] = ei + wr * oi + wi * or;
        }
    }

    /**
     * irfft: the n real samples whose rfft is the n/2+1 bins interleaved in spec[specOff ..], written
     * to x[xOff .. xOff+n) and scaled by 1/n. The imaginary parts of bin 0 and (n even) bin n/2 are
     * ignored, as numpy does. {@code spec} is not modified.
     */
    public void inverse(double[] spec, int specOff, double[] x, int xOff) {
        double[] z = scratch.get();
        if (twiddle == null) {
            z[0] = spec[specOff];
            z[1] = 0;
            for (int k = 1; k <= n / 2; k++) {
                double re = spec[specOff + 2 * k], im = spec[specOff + 2 * k + 1];
                z[2 * k] = re;
                z[2 * k + 1] = im;
                z[2 * (n - k)] = re;
                z[2 * (n - k) + 1] = -im;
            }
            complex.inverse(z, 0);
            for (int j = 0; j < n; j++) x[xOff + j] = z[2 * j];
            return;
        }
        int h = n / 2;
        // Undo the forward split: E_k = (X_k + conj X_{h-k}) / 2, O_k = (X_k - conj X_{h-k}) e^{+2 pi i k/n} / 2,
        // Z_k = E_k + i O_k; the size-h inverse then yields x_2j + i x_2j+1, its 1/h and the halves giving 1/n.
        // k = 0 pairs bin 0 with bin h, both taken as real.
        double d0 = spec[specOff], dh = spec[specOff + 2 * h];
        z[0] = 0.5 * (d0 + dh);
        z[1] = 0.5 * (d0 - dh);
        for (int k = 1; k < h; k++) {
            int a = specOff + 2 * k, b = specOff + 2 * (h - k);
            double ar = spec[a], ai = spec[a + 1], br = spec[b], bi = -spec[b + 1];
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
            double dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
            double wr = twiddle[2 * k], wi = -twiddle[2 * k + 1];
            double or = dr * wr - di * wi, oi = dr * wi + di * wr;
            z[2 * k] = er - oi;
            z[2 * k + 1] = ei + or;
        }
        complex.inverse(z, 0);
        System.arraycopy(z, 0, x, xOff, n);
    }
}
