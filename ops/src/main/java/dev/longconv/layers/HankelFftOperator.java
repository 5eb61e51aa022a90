package dev.longconv.layers;

import dev.longconv.simd.FftSizes;
import dev.longconv.simd.RealFft;

/**
 * Z v as a correlation: with w the reversal of v, (Z v)_i = sum_j g[i + j] v_j = (g * w)[i + L - 1],
 * a window of the linear convolution of g (length 2L-1) with w (length L). That convolution has
 * length 3L-2, but only outputs L-1 .. 2L-2 are read, and a circular convolution of size N >= 2L-1
 * folds nothing into them (the tail beyond N lands at indices below L-1), so N is the smallest fast
 * FFT size >= 2L-1 rather than >= 3L-2.
 *
 * <p>Not thread-safe: one scratch buffer per operator.
 */
final class HankelFftOperator implements HankelOperator {
    private final int n;
    private final RealFft fft;
    /** rfft of the zero-padded generator, interleaved (re, im), computed once. */
    private final double[] generatorSpectrum;
    private final double[] signal;
    private final double[] spectrum;

    HankelFftOperator(double[] generator) {
        if (generator.length % 2 == 0) {
            throw new IllegalArgumentException("Hankel generator length must be 2L-1 (odd), got " + generator.length);
        }
        this.n = (generator.length + 1) / 2;
        int size = FftSizes.nextFast(2 * n - 1);
        this.fft = RealFft.of(size);
        this.signal = new double[size];
        this.spectrum = new double[2 * (size / 2 + 1)];
        this.generatorSpectrum = new double[spectrum.length];
        System.arraycopy(generator, 0, signal, 0, generator.length);
        fft.forward(signal, 0, generatorSpectrum, 0);
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public void apply(double[] v, double[] out) {
        java.util.Arrays.fill(signal, 0.0);
        for (int j = 0; j < n; j++) signal[j] = v[n - 1 - j];
        fft.forward(signal, 0, spectrum, 0);
        for (int k = 0; k < spectrum.length; k += 2) {
            double ar = spectrum[k], ai = spectrum[k + 1];
            double br = generatorSpectrum[k], bi = generatorSpectrum[k + 1];
            spectrum[k] = ar * br - ai * bi;
            spectrum[k + 1] = ar * bi + ai * br;
        }
        fft.inverse(spectrum, 0, signal, 0);
        System.arraycopy(signal, n - 1, out, 0, n);
    }
}
