package dev.longconv.simd;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Real-input DFT of any size n >= 1 with numpy.fft.rfft / irfft semantics. Even n packs the
 * samples into a complex sequence of n/2 (even samples real, odd imaginary) and separates the two
 * halves afterwards, so it costs about half a complex FFT of size n; odd n uses a complex FFT of n.
 *
 * <p>Plans are cached per size, immutable and safe to share between threads; scratch is per thread,
 * so calls allocate nothing after the first on a thread.
 */
public final class RealFft {
    private static final ConcurrentHashMap<Integer, RealFft> CACHE = new ConcurrentHashMap<>();

    private final int n;
    private final ComplexFft complex;
    /** Even n: e^{-2 pi i k / n} for k = 0 .. n/2, interleaved. */
    private final double[] twiddle;
    private final ThreadLocal<double[]> scratch;

    private RealFft(int n) {
        this.n = n;
        boolean even = n % 2 == 0;
        this.complex = ComplexFft.of(even ? n / 2 : n);
        if (even) {
            twiddle = new double[2 * (n / 2 + 1)];
            for (int k = 0; k <= n / 2; k++) {
                double ang = -2 * Math.PI * k / n;
                twiddle[2 * k] = Math.cos(ang);
                twiddle[2 * k + 1] = Math.sin(ang);
            }
        } else {
            twiddle = null;
        }
        int size = 2 * complex.size();
        this.scratch = ThreadLocal.withInitial(() -> new double[size]);
    }

    /** The plan for size n (n >= 1). */
    public static RealFft of(int n) {
        if (n < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + n);
        return CACHE.computeIfAbsent(n, RealFft::new);
    }

    public int size() {
        return n;
    }

    /** Bins 0 .. n/2 of the DFT of x[xOff .. xOff+n), interleaved into out[outOff ..]; no normalization. */
    public void forward(double[] x, int xOff, double[] out, int outOff) {
        double[] z = scratch.get();
        if (twiddle == null) {
            for (int j = 0; j < n; j++) {
                z[2 * j] = x[xOff + j];
                z[2 * j + 1] = 0;
            }
            complex.forward(z, 0);
            System.arraycopy(z, 0, out, outOff, 2 * (n / 2 + 1));
            return;
        }
        int h = n / 2;
        System.arraycopy(x, xOff, z, 0, n); // z_j = x_2j + i x_2j+1
        complex.forward(z, 0);
        for (int k = 0; k <= h; k++) {
            int a = 2 * (k % h), b = 2 * ((h - k) % h);
            double ar = z[a], ai = z[a + 1], br = z[b], bi = -z[b + 1];
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi); // even samples' DFT
            double or = 0.5 * (ai - bi), oi = -0.5 * (ar - br); // odd samples' DFT: (A - B) / 2i
            double wr = twiddle[2 * k], wi = twiddle[2 * k + 1];
            out[outOff + 2 * k] = er + wr * or - wi * oi;
            out[outOff + 2 * k + 1] = ei + wr * oi + wi * or;
        }
    }

    /**
     * irfft: n reals from bins 0 .. n/2 in spec[specOff ..], scaled by 1/n. The imaginary parts of
     * bin 0 and (n even) bin n/2 are ignored, as numpy does.
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
        for (int k = 0; k < h; k++) {
            double ar = spec[specOff + 2 * k], ai = k == 0 ? 0 : spec[specOff + 2 * k + 1];
            int m = h - k;
            double br = spec[specOff + 2 * m], bi = m == h ? 0 : -spec[specOff + 2 * m + 1]; // conj(X_{h-k})
            double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
            double dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
            double wr = twiddle[2 * k], wi = -twiddle[2 * k + 1]; // W^{-k}
            double or = dr * wr - di * wi, oi = dr * wi + di * wr;
            z[2 * k] = er - oi; // Z = E + i O
            z[2 * k + 1] = ei + or;
        }
        complex.inverse(z, 0);
        System.arraycopy(z, 0, x, xOff, n);
    }
}
