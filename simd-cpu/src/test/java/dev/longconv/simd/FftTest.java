package dev.longconv.simd;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain-Java FFT against a direct O(n^2) DFT (exact integer angle indices) at every size up to
 * 200 and at primes, fast sizes and generic-radix sizes beyond. Seeds derive from
 * {@code -Dlongconv.test.seed} (default 99) and the size, and every assertion message prints its
 * seed. The worst relative L2 error of each family is printed after the class.
 */
class FftTest {
    static final long SEED = Long.getLong("longconv.test.seed", 99L);
    static final double TOL = 1e-12;
    static final Map<String, Double> WORST = new ConcurrentHashMap<>();

    static List<Integer> sizes() {
        List<Integer> s = new ArrayList<>(IntStream.rangeClosed(1, 200).boxed().toList());
        // 289 = 17^2 and 2310 = 2*3*5*7*11 add a Bluestein composite and every generic radix at once.
        s.addAll(List.of(210, 243, 256, 289, 625, 1000, 1009, 2310, 4096, 4099, 6561, 8191, 10007));
        return s;
    }

    static double[] random(long seed, int len) {
        Random r = new Random(seed);
        double[] x = new double[len];
        for (int i = 0; i < len; i++) x[i] = 2 * r.nextDouble() - 1;
        return x;
    }

    /**
     * Direct DFT of interleaved complex x, bins 0 .. bins-1, sign -1 (forward) or +1 (unscaled
     * inverse). The angle index is (j k) mod n, kept exact in long arithmetic by adding k modulo n
     * along each row (the same residue as (long) j * k % n, without a division per term), and looked
     * up in a table of cos/sin(2 pi t / n), so the reference costs O(n^2) multiply-adds, not trig calls.
     */
    static double[] dft(double[] x, int n, int sign, int bins) {
        double[] c = new double[n], s = new double[n];
        for (int t = 0; t < n; t++) {
            double ang = 2 * Math.PI * t / n;
            c[t] = Math.cos(ang);
            s[t] = sign * Math.sin(ang);
        }
        double[] out = new double[2 * bins];
        for (int k = 0; k < bins; k++) {
            double sr = 0, si = 0;
            long t = 0;
            for (int j = 0; j < n; j++) {
                int i = (int) t;
                sr += x[2 * j] * c[i] - x[2 * j + 1] * s[i];
                si += x[2 * j] * s[i] + x[2 * j + 1] * c[i];
                t += k;
                if (t >= n) t -= n;
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

    static void check(String family, double err, String what) {
        WORST.merge(family, err, Math::max);
        assertTrue(err <= TOL, family + ": " + what + " rel L2 err=" + err);
    }

    @AfterAll
    static void report() {
        StringBuilder sb = new StringBuilder("FftTest worst relative error (seed base " + SEED + "):");
        new TreeMap<>(WORST).forEach((k, v) -> sb.append(String.format("%n  %-34s %.2e", k, v)));
        System.out.println(sb);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void complexMatchesDirectDft(int n) {
        ComplexFft plan = ComplexFft.of(n);
        assertEquals(n, plan.size());
        long seed = SEED + n;
        // Offset 4 into a padded array: the API addresses rows inside larger arrays, and the padding must survive.
        double[] x = random(seed, 2 * n), y = new double[2 * n + 7];
        Arrays.fill(y, 42);
        System.arraycopy(x, 0, y, 4, 2 * n);
        plan.forward(y, 4);
        check("complex forward", relErr(Arrays.copyOfRange(y, 4, 4 + 2 * n), dft(x, n, -1, n), 2 * n), "n=" + n + " seed=" + seed);
        plan.inverse(y, 4);
        check("complex inverse(forward)", relErr(Arrays.copyOfRange(y, 4, 4 + 2 * n), x, 2 * n), "n=" + n + " seed=" + seed);
        for (int i : new int[] {0, 1, 2, 3, 4 + 2 * n, 5 + 2 * n, 6 + 2 * n}) assertEquals(42, y[i], "padding n=" + n);

        // The inverse on its own, against the direct sum with +i and 1/n.
        long seed2 = seed ^ 0x5DEECE66DL;
        double[] spec = random(seed2, 2 * n), z = spec.clone(), expect = dft(spec, n, 1, n);
        for (int i = 0; i < 2 * n; i++) expect[i] /= n;
        plan.inverse(z, 0);
        check("complex inverse", relErr(z, expect, 2 * n), "n=" + n + " seed=" + seed2);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void realMatchesDirectDftAndInverts(int n) {
        RealFft plan = RealFft.of(n);
        assertEquals(n, plan.size());
        long seed = SEED ^ n;
        int bins = n / 2 + 1;
        double[] x = random(seed, n), xc = new double[2 * n];
        for (int j = 0; j < n; j++) xc[2 * j] = x[j];
        double[] expect = dft(xc, n, -1, bins);
        double[] in = new double[n + 3], out = new double[2 * bins + 5];
        System.arraycopy(x, 0, in, 3, n);
        double[] inBefore = in.clone();
        plan.forward(in, 3, out, 5);
        assertArrayEquals(inBefore, in, "rfft must not modify its input, n=" + n);
        check("rfft forward", relErr(Arrays.copyOfRange(out, 5, 5 + 2 * bins), expect, 2 * bins), "n=" + n + " seed=" + seed);
        // numpy returns exact zeros there; the split's algebra must too, not rounding noise.
        assertEquals(0.0, out[5 + 1], "Im X_0 n=" + n);
        if (n % 2 == 0) assertEquals(0.0, out[5 + 2 * (n / 2) + 1], "Im X_n/2 n=" + n);

        double[] outBefore = out.clone(), back = new double[n + 2];
        plan.inverse(out, 5, back, 2);
        assertArrayEquals(outBefore, out, "irfft must not modify its input, n=" + n);
        check("irfft(rfft) round trip", relErr(Arrays.copyOfRange(back, 2, 2 + n), x, n), "n=" + n + " seed=" + seed);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void irfftIgnoresImaginaryPartsOfDcAndNyquist(int n) {
        long seed = SEED * 31 + n;
        int bins = n / 2 + 1;
        double[] spec = random(seed, 2 * bins);
        spec[1] = 0.75; // never zero: the point is that it is ignored
        if (n % 2 == 0) spec[2 * (n / 2) + 1] = -0.5;
        // Direct formula: the Hermitian extension with Im X_0 (and Im X_{n/2}, n even) dropped.
        double[] full = new double[2 * n];
        full[0] = spec[0];
        for (int k = 1; k < bins; k++) {
            full[2 * k] = spec[2 * k];
            full[2 * k + 1] = (n % 2 == 0 && k == n / 2) ? 0 : spec[2 * k + 1];
            full[2 * (n - k)] = full[2 * k];
            full[2 * (n - k) + 1] = -full[2 * k + 1];
        }
        double[] direct = dft(full, n, 1, n), expect = new double[n];
        for (int j = 0; j < n; j++) expect[j] = direct[2 * j] / n;
        double[] y = new double[n];
        RealFft.of(n).inverse(spec, 0, y, 0);
        check("irfft vs direct (Im DC/Nyq set)", relErr(y, expect, n), "n=" + n + " seed=" + seed);
    }

    /** Round trips at sizes too large for a full direct DFT, plus a few bins summed directly. */
    @Test
    void largeSizesRoundTripAndMatchSampledBins() {
        // 65536 and 2^20: radix-4 halves; 65537: prime, Bluestein over 2^18; 240240 = 16*3*5*7*11*13: every radix.
        for (int n : new int[] {65536, 65537, 1 << 20, 240240}) {
            long seed = SEED + n;
            double[] x = random(seed, n), spec = new double[2 * (n / 2 + 1)], back = new double[n];
            RealFft.of(n).forward(x, 0, spec, 0);
            // By Parseval the rms bin magnitude is |x|_2, the natural scale for one bin's error.
            double norm = 0;
            for (double v : x) norm += v * v;
            norm = Math.sqrt(norm);
            for (int k : new int[] {0, 1, 7, n / 3, n / 2 - 1, n / 2}) {
                // Kahan sums, so the reference's own rounding stays well below what is being checked.
                double sr = 0, cr = 0, si = 0, ci = 0;
                for (int j = 0; j < n; j++) {
                    double ang = -2 * Math.PI * ((long) j * k % n) / n;
                    double yr = x[j] * Math.cos(ang) - cr, tr = sr + yr;
                    cr = (tr - sr) - yr;
                    sr = tr;
                    double yi = x[j] * Math.sin(ang) - ci, ti = si + yi;
                    ci = (ti - si) - yi;
                    si = ti;
                }
                double err = Math.hypot(spec[2 * k] - sr, spec[2 * k + 1] - si) / norm;
                check("large: sampled bins vs direct", err, "n=" + n + " bin " + k + " seed=" + seed);
            }
            RealFft.of(n).inverse(spec, 0, back, 0);
            check("large: irfft(rfft) round trip", relErr(back, x, n), "n=" + n + " seed=" + seed);
        }
        for (int n : new int[] {65537, 1 << 20}) {
            long seed = SEED * 7 + n;
            double[] x = random(seed, 2 * n), y = x.clone();
            ComplexFft.of(n).forward(y, 0);
            ComplexFft.of(n).inverse(y, 0);
            check("large: complex round trip", relErr(y, x, 2 * n), "n=" + n + " seed=" + seed);
        }
    }

    @Test
    void sharedPlansAreThreadSafeAndBitIdentical() throws Exception {
        int threads = 4, inputs = 12, reps = 6;
        int nr = 3 * 4096 + 6; // even, with a Bluestein half (6147 = 3 * 3 * 683)
        int nc = 4099; // prime: Bluestein
        int ng = 2310; // generic radices 7 and 11
        RealFft real = RealFft.of(nr);
        ComplexFft cb = ComplexFft.of(nc), cg = ComplexFft.of(ng);
        double[][] xr = new double[inputs][], xb = new double[inputs][], xg = new double[inputs][];
        double[][] er = new double[inputs][], eri = new double[inputs][], eb = new double[inputs][], eg = new double[inputs][];
        for (int i = 0; i < inputs; i++) {
            xr[i] = random(SEED + i, nr);
            xb[i] = random(SEED + 100 + i, 2 * nc);
            xg[i] = random(SEED + 200 + i, 2 * ng);
            er[i] = new double[2 * (nr / 2 + 1)];
            real.forward(xr[i], 0, er[i], 0);
            eri[i] = new double[nr];
            real.inverse(er[i], 0, eri[i], 0);
            eb[i] = xb[i].clone();
            cb.forward(eb[i], 0);
            cb.inverse(eb[i], 0);
            eg[i] = xg[i].clone();
            cg.inverse(eg[i], 0);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads); // all threads in the plans at once
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int rep = 0; rep < reps; rep++) {
                        for (int step = 0; step < inputs; step++) {
                            int i = (first * inputs / threads + step) % inputs; // threads on different inputs
                            String msg = "thread " + first + " input " + i + " seed base " + SEED;
                            double[] out = new double[2 * (nr / 2 + 1)], back = new double[nr];
                            real.forward(xr[i], 0, out, 0);
                            assertArrayEquals(er[i], out, "rfft " + msg);
                            real.inverse(out, 0, back, 0);
                            assertArrayEquals(eri[i], back, "irfft " + msg);
                            double[] b = xb[i].clone();
                            cb.forward(b, 0);
                            cb.inverse(b, 0);
                            assertArrayEquals(eb[i], b, "complex Bluestein " + msg);
                            double[] g = xg[i].clone();
                            cg.inverse(g, 0);
                            assertArrayEquals(eg[i], g, "complex generic radix " + msg);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    /** After a thread's first call on a plan, calls allocate nothing (scratch is per plan and thread). */
    @Test
    void noAllocationPerCallAfterWarmUp() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!mx.isThreadAllocatedMemorySupported() || !mx.isThreadAllocatedMemoryEnabled()) return;
        int[] sizes = {16, 30, 31, 1000, 1009, 2310, 4096};
        RealFft[] rp = new RealFft[sizes.length];
        ComplexFft[] cp = new ComplexFft[sizes.length];
        double[][] x = new double[sizes.length][], s = new double[sizes.length][], c = new double[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            int n = sizes[i];
            rp[i] = RealFft.of(n);
            cp[i] = ComplexFft.of(n);
            x[i] = random(SEED + n, n);
            s[i] = new double[2 * (n / 2 + 1)];
            c[i] = random(SEED - n, 2 * n);
        }
        int calls = 0;
        for (int warm = 0; warm < 2; warm++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int rep = 0; rep < 200; rep++) {
                for (int i = 0; i < sizes.length; i++) {
                    rp[i].forward(x[i], 0, s[i], 0);
                    rp[i].inverse(s[i], 0, x[i], 0);
                    cp[i].forward(c[i], 0);
                    cp[i].inverse(c[i], 0);
                    calls += 4;
                }
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            // The first round may allocate each plan's per-thread scratch once; the second must not allocate.
            if (warm == 1) assertTrue(bytes < 1024, bytes + " bytes allocated over " + calls / 2 + " calls");
        }
    }

    @Test
    void fastSizes() {
        for (int n = 1; n <= 5000; n++) {
            int brute = n;
            while (!isFastBrute(brute)) brute++;
            assertEquals(isFastBrute(n), FftSizes.isFast(n), "isFast(" + n + ")");
            assertEquals(brute, FftSizes.nextFast(n), "nextFast(" + n + ")");
        }
        assertTrue(FftSizes.isFast(1) && FftSizes.isFast(2 * 3 * 5 * 64) && FftSizes.isFast(1 << 30));
        assertFalse(FftSizes.isFast(7) || FftSizes.isFast(0) || FftSizes.isFast(-8) || FftSizes.isFast(Integer.MAX_VALUE));
        // 2^8 3^12 5^3 = 2125764000 is the largest fast int; nothing fast lies between it and 2^31 - 1.
        assertTrue(FftSizes.isFast(2125764000));
        assertEquals(2125764000, FftSizes.nextFast(2125764000));
        assertEquals(2125764000, FftSizes.nextFast(2125000000));
        assertEquals(1 << 30, FftSizes.nextFast((1 << 30) - 1));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(2125764001));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(0));
        assertThrows(IllegalArgumentException.class, () -> FftSizes.nextFast(-5));
    }

    private static boolean isFastBrute(int n) {
        for (int p = 2; p <= n; p++) {
            if (n % p != 0) continue;
            if (p > 5) return false;
            while (n % p == 0) n /= p;
        }
        return true;
    }

    @Test
    void badSizes() {
        for (int n : new int[] {0, -1, -3, Integer.MIN_VALUE}) {
            var e1 = assertThrows(IllegalArgumentException.class, () -> RealFft.of(n));
            assertTrue(e1.getMessage().contains(Integer.toString(n)), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> ComplexFft.of(n));
            assertTrue(e2.getMessage().contains(Integer.toString(n)), e2.getMessage());
        }
        // Sizes whose buffers cannot be Java arrays fail up front with a clear message, before allocating.
        for (int n : new int[] {Integer.MAX_VALUE, (1 << 27) + 1 /* 3^4 19 87211: Bluestein */, 1 << 30}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ComplexFft.of(n));
            assertTrue(e.getMessage().contains(Integer.toString(n)), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> RealFft.of(Integer.MAX_VALUE));
    }
}
