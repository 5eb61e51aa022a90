package dev.longconv.simd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain-Java FFT against a direct O(n^2) DFT (exact integer angle indices) at every size up to
 * 200 and at primes and fast sizes beyond. Seeds come from the size and are printed on failure.
 */
class FftTest {
    static final long SEED = Long.getLong("longconv.test.seed", 99L);
    static final double TOL = 1e-12;

    static List<Integer> sizes() {
        List<Integer> s = new ArrayList<>(IntStream.rangeClosed(1, 200).boxed().toList());
        s.addAll(List.of(210, 243, 256, 289, 625, 1000, 1009, 2310, 4096, 4099, 6561));
        return s;
    }

    static double[] random(long seed, int len) {
        Random r = new Random(seed);
        double[] x = new double[len];
        for (int i = 0; i < len; i++) x[i] = 2 * r.nextDouble() - 1;
        return x;
    }

    /** Direct DFT of interleaved complex x, sign -1 (forward) or +1 (unscaled inverse). */
    static double[] dft(double[] x, int n, int sign) {
        double[] out = new double[2 * n];
        for (int k = 0; k < n; k++) {
            double sr = 0, si = 0;
            for (int j = 0; j < n; j++) {
                double ang = sign * 2 * Math.PI * ((long) j * k % n) / n, c = Math.cos(ang), s = Math.sin(ang);
                sr += x[2 * j] * c - x[2 * j + 1] * s;
                si += x[2 * j] * s + x[2 * j + 1] * c;
            }
            out[2 * k] = sr;
            out[2 * k + 1] = si;
        }
        return out;
    }

    static double relErr(double[] a, double[] e, int len) {
        double num = 0, den = 0;
        for (int i = 0; i < len; i++) {
            num += (a[i] - e[i]) * (a[i] - e[i]);
            den += e[i] * e[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void complexMatchesDirectDft(int n) {
        long seed = SEED + n;
        double[] x = random(seed, 2 * n), y = x.clone();
        ComplexFft.of(n).forward(y, 0);
        double err = relErr(y, dft(x, n, -1), 2 * n);
        assertTrue(err < TOL, "forward n=" + n + " seed=" + seed + " err=" + err);
        ComplexFft.of(n).inverse(y, 0);
        err = relErr(y, x, 2 * n);
        assertTrue(err < TOL, "round trip n=" + n + " seed=" + seed + " err=" + err);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void realMatchesDirectDftAndInverts(int n) {
        long seed = SEED ^ n;
        double[] x = random(seed, n), xc = new double[2 * n];
        for (int j = 0; j < n; j++) xc[2 * j] = x[j];
        double[] full = dft(xc, n, -1);
        // Offsets in and out: the API addresses rows inside larger arrays.
        double[] in = new double[n + 3], out = new double[2 * (n / 2 + 1) + 5];
        System.arraycopy(x, 0, in, 3, n);
        RealFft.of(n).forward(in, 3, out, 5);
        double[] bins = Arrays.copyOfRange(out, 5, 5 + 2 * (n / 2 + 1));
        double err = relErr(bins, full, 2 * (n / 2 + 1));
        assertTrue(err < TOL, "rfft n=" + n + " seed=" + seed + " err=" + err);
        double[] back = new double[n + 2];
        RealFft.of(n).inverse(out, 5, back, 2);
        err = relErr(Arrays.copyOfRange(back, 2, 2 + n), x, n);
        assertTrue(err < TOL, "irfft(rfft) n=" + n + " seed=" + seed + " err=" + err);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void irfftIgnoresImaginaryPartsOfDcAndNyquist(int n) {
        if (n > 300) return;
        long seed = SEED * 31 + n;
        int bins = n / 2 + 1;
        double[] spec = random(seed, 2 * bins);
        // Direct formula: Hermitian extension with Im X_0 (and Im X_{n/2}, n even) dropped.
        double[] full = new double[2 * n];
        full[0] = spec[0];
        for (int k = 1; k < bins; k++) {
            full[2 * k] = spec[2 * k];
            full[2 * k + 1] = (n % 2 == 0 && k == n / 2) ? 0 : spec[2 * k + 1];
            full[2 * (n - k)] = full[2 * k];
            full[2 * (n - k) + 1] = -full[2 * k + 1];
        }
        double[] direct = dft(full, n, 1), expect = new double[n];
        for (int j = 0; j < n; j++) expect[j] = direct[2 * j] / n;
        double[] y = new double[n];
        RealFft.of(n).inverse(spec, 0, y, 0);
        double err = relErr(y, expect, n);
        assertTrue(err < TOL, "irfft n=" + n + " seed=" + seed + " err=" + err);
    }

    @Test
    void largeSizesRoundTripAndMatchSampledBins() {
        for (int n : new int[] {65536, 65537, 1 << 20, 3 * 5 * 7 * 11 * 13 * 16}) {
            long seed = SEED + n;
            double[] x = random(seed, n), spec = new double[2 * (n / 2 + 1)], back = new double[n];
            RealFft.of(n).forward(x, 0, spec, 0);
            for (int k : new int[] {0, 1, 7, n / 3, n / 2}) {
                double sr = 0, si = 0;
                for (int j = 0; j < n; j++) {
                    double ang = -2 * Math.PI * ((long) j * k % n) / n;
                    sr += x[j] * Math.cos(ang);
                    si += x[j] * Math.sin(ang);
                }
                double mag = Math.sqrt(n); // typical bin magnitude of unit-variance noise
                assertEquals(sr, spec[2 * k], 1e-11 * mag * 30, "n=" + n + " bin " + k + " re seed=" + seed);
                assertEquals(si, spec[2 * k + 1], 1e-11 * mag * 30, "n=" + n + " bin " + k + " im seed=" + seed);
            }
            RealFft.of(n).inverse(spec, 0, back, 0);
            double err = relErr(back, x, n);
            assertTrue(err < TOL, "round trip n=" + n + " seed=" + seed + " err=" + err);
        }
    }

    @Test
    void sharedPlanIsThreadSafeAndBitIdentical() throws Exception {
        int n = 3 * 4096 + 6; // even, with a Bluestein half (6147 = 3 * 2049 = 3 * 3 * 683)
        RealFft plan = RealFft.of(n);
        double[][] inputs = new double[16][];
        double[][] expect = new double[16][];
        for (int i = 0; i < 16; i++) {
            inputs[i] = random(SEED + i, n);
            expect[i] = new double[2 * (n / 2 + 1)];
            plan.forward(inputs[i], 0, expect[i], 0);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                fs.add(pool.submit(() -> {
                    for (int rep = 0; rep < 20; rep++) {
                        for (int i = 0; i < 16; i++) {
                            double[] out = new double[2 * (n / 2 + 1)];
                            plan.forward(inputs[i], 0, out, 0);
                            assertArrayEquals(expect[i], out, "input " + i);
                        }
                    }
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fastSizes() {
        for (int n = 1; n <= 5000; n++) {
            int brute = n;
            while (!FftSizes.isFast(brute)) brute++;
            assertEquals(brute, FftSizes.nextFast(n), "nextFast(" + n + ")");
        }
        assertTrue(FftSizes.isFast(1) && FftSizes.isFast(2 * 3 * 5 * 64) && !FftSizes.isFast(7) && !FftSizes.isFast(0));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(0));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(Integer.MAX_VALUE));
    }

    @Test
    void badSizes() {
        assertThrows(IllegalArgumentException.class, () -> RealFft.of(0));
        assertThrows(IllegalArgumentException.class, () -> ComplexFft.of(-3));
    }
}
