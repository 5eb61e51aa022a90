package dev.longconv.bench;

import org.jtransforms.fft.FloatFFT_1D;

import java.util.Arrays;

/** Benchmark anchor: the same FFT convolution per channel with JTransforms' FloatFFT_1D. Not part of the library. */
final class JTransformsConv {
    private final FloatFFT_1D fft;
    private final int n, len;
    private final float[][] kSpec;
    private final float[] buf;

    JTransformsConv(float[][] kernels, int len, int n) {
        this.n = n;
        this.len = len;
        this.fft = new FloatFFT_1D(n);
        this.buf = new float[n];
        kSpec = new float[kernels.length][];
        for (int d = 0; d < kernels.length; d++) {
            float[] k = new float[n];
            System.arraycopy(kernels[d], 0, k, 0, Math.min(len, kernels[d].length));
            fft.realForward(k);
            kSpec[d] = k;
        }
    }

    /** y[d] = causal conv of x[d] with kernel d, first len outputs. */
    void convolve(float[][] x, float[][] y) {
        for (int d = 0; d < x.length; d++) {
            Arrays.fill(buf, 0f);
            System.arraycopy(x[d], 0, buf, 0, len);
            fft.realForward(buf);
            float[] k = kSpec[d];
            // Packed layout: [Re0, Re(n/2), Re1, Im1, ...]; the first two are real.
            buf[0] *= k[0];
            buf[1] *= k[1];
            for (int i = 2; i < n; i += 2) {
                float xr = buf[i], xi = buf[i + 1];
                buf[i] = xr * k[i] - xi * k[i + 1];
                buf[i + 1] = xr * k[i + 1] + xi * k[i];
            }
            fft.realInverse(buf, true);
            System.arraycopy(buf, 0, y[d], 0, len);
        }
    }
}
