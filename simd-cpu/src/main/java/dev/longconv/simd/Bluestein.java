package dev.longconv.simd;

import java.util.Arrays;

/**
 * Chirp-z DFT for sizes with a prime factor the mixed-radix engine does not take: the DFT of size n
 * becomes a circular convolution of size m = 2^k >= 2n-1. Chirp angles use (k^2 mod 2n) in exact
 * integer arithmetic, so large n keeps float64 accuracy.
 */
final class Bluestein {
    private final int n, m;
    private final MixedRadix inner;
    /** exp(-i pi k^2 / n), k < n, interleaved. */
    private final double[] chirp;
    /** DFT_m of b, b_k = conj(chirp_|k|) for |k| < n (wrapped), scaled by 1/m to fold in the inverse's scale. */
    private final double[] kernelSpectrum;

    /** Largest n whose inner buffers (4m + a few doubles, m = 2^28) still fit in one Java array. */
    static final int MAX_N = 1 << 27;

    Bluestein(int n) {
        if (n > MAX_N)
            throw new IllegalArgumentException("FFT size " + n + " has a prime factor above " + MixedRadix.MAX_RADIX
                    + " and exceeds the chirp-z limit " + MAX_N + " (its power-of-two inner FFT would not fit in a Java array)");
        this.n = n;
        // Linear convolution of n chirped samples with a kernel of 2n-1 taps, made circular without wrap-around.
        this.m = Integer.highestOneBit(2 * n - 1) == 2 * n - 1 ? 2 * n - 1 : Integer.highestOneBit(2 * n - 1) << 1;
        this.inner = new MixedRadix(m);
        this.chirp = new double[2 * n];
        for (int k = 0; k < n; k++) {
            long e = (long) k * k % (2L * n);
            double ang = -Math.PI * e / n;
            chirp[2 * k] = Math.cos(ang);
            chirp[2 * k + 1] = Math.sin(ang);
        }
        this.kernelSpectrum = new double[2 * m];
        for (int k = 0; k < n; k++) {
            kernelSpectrum[2 * k] = chirp[2 * k];
            kernelSpectrum[2 * k + 1] = -chirp[2 * k + 1];
            if (k > 0) {
                kernelSpectrum[2 * (m - k)] = chirp[2 * k];
                kernelSpectrum[2 * (m - k) + 1] = -chirp[2 * k + 1];
            }
        }
        inner.forward(kernelSpectrum, 0, new double[inner.scratchSize()]);
        for (int i = 0; i < 2 * m; i++) kernelSpectrum[i] /= m;
    }

    int scratchSize() {
        return 2 * m + inner.scratchSize();
    }

    void forward(double[] x, int off, double[] scratch) {
        int so = inner.scratchSize(); // scratch[0 .. so) for the inner FFT, then the length-m buffer a
        for (int k = 0; k < n; k++) {
            double xr = x[off + 2 * k], xi = x[off + 2 * k + 1], cr = chirp[2 * k], ci = chirp[2 * k + 1];
            scratch[so + 2 * k] = xr * cr - xi * ci;
            scratch[so + 2 * k + 1] = xr * ci + xi * cr;
        }
        Arrays.fill(scratch, so + 2 * n, so + 2 * m, 0);
        inner.forward(scratch, so, scratch);
        // Pointwise product, conjugated so the forward engine computes the inverse: ifft(v) = conj(fft(conj(v))) / m.
        for (int k = 0; k < m; k++) {
            int i = so + 2 * k;
            double ar = scratch[i], ai = scratch[i + 1], br = kernelSpectrum[2 * k], bi = kernelSpectrum[2 * k + 1];
            scratch[i] = ar * br - ai * bi;
            scratch[i + 1] = -(ar * bi + ai * br);
        }
        inner.forward(scratch, so, scratch);
        for (int k = 0; k < n; k++) {
            double vr = scratch[so + 2 * k], vi = -scratch[so + 2 * k + 1], cr = chirp[2 * k], ci = chirp[2 * k + 1];
            x[off + 2 * k] = vr * cr - vi * ci;
            x[off + 2 * k + 1] = vr * ci + vi * cr;
        }
    }
}
