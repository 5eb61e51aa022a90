package dev.longconv.layers;

import dev.longconv.simd.Simd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The lane exponentials and lane sums give the same bits whatever the JIT has done: {@link VectorActivations}' float
 * and double loops and {@link VectorNorms}' sums of squares against scalar models of their steps (plain float and
 * double arithmetic and Math.fma, which Java rounds the same way interpreted and compiled), bit for bit, on the first
 * calls and again after enough calls for C2 to compile the loops; and the exponentials against Math.exp and
 * Math.expm1 within a few ulps, including the subnormal, overflow and special inputs. Before the lanes had their own
 * exponential, the Vector API's EXP gave different bits in the two JIT states and a prepared layer two answers.
 */
class VectorActivationsTest {
    private static final Activation[] LANE_ACTIVATIONS = {Activation.NONE, Activation.RELU, Activation.LEAK, Activation.EXP,
            Activation.SIGMOID, Activation.SILU, Activation.ELU, Activation.ONE_PLUS_ELU, Activation.TWO_PLUS_ELU};
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Calls of each loop between the first comparison and the second: enough for C2 to compile them (OSR included). */
    private static final int WARM_CALLS = 1500;

    @Test
    void floatLanesFollowTheirStepsBitForBitColdAndWarm() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 41;
        int n = 1024;
        float[] x = floatInputs(new SplittableRandom(seed), n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * n), out = arena.allocate(4L * n);
            MemorySegment.copy(x, 0, in, F32, 0, n);
            for (Activation a : LANE_ACTIVATIONS) {
                for (int pass = 0; pass < 2; pass++) {
                    VectorActivations.applyFloat(a, 1, n, in, 0, n, null, null, 0, 0, out, 0, n);
                    for (int i = 0; i < n; i++) {
                        float want = floatModel(a, x[i]), got = out.getAtIndex(F32, i);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got),
                                a + (pass == 0 ? " cold" : " warm") + " at x=" + x[i] + " (index " + i + ", seed " + seed + "): want " + want + ", got " + got);
                    }
                    if (pass == 0) for (int c = 0; c < WARM_CALLS; c++) VectorActivations.applyFloat(a, 1, n, in, 0, n, null, null, 0, 0, out, 0, n);
                }
            }
        }
    }

    @Test
    void combinedRowsRoundEachFloat64SumOnceColdAndWarm() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 43;
        SplittableRandom rng = new SplittableRandom(seed);
        double[] a = new double[67], b = new double[67];
        for (int i = 0; i < a.length; i++) {
            a[i] = rng.nextDouble(-1e3, 1e3);
            b[i] = rng.nextDouble(-1, 1) * Math.pow(2, rng.nextInt(-40, 40));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(4L * (a.length + 2));
            for (int pass = 0; pass < 2; pass++) {
                for (int n : new int[] {0, 1, 7, 8, 16, 33, 67}) {
                    out.fill((byte) -1);
                    double s = rng.nextDouble(-2, 2), t = rng.nextDouble(-2, 2);
                    int done = VectorActivations.combineRow(s, a, t, b, n, out, 4);
                    assertTrue(done <= n && n - done < 8, "n=" + n + ": " + done + " done");
                    for (int i = 0; i < done; i++) {
                        float want = (float) (s * a[i] + t * b[i]), got = out.getAtIndex(F32, i + 1);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), (pass == 0 ? "cold" : "warm") + " n=" + n + " index " + i + " seed " + seed);
                    }
                    for (int i = done + 1; i < a.length + 2; i++) assertTrue(Float.isNaN(out.getAtIndex(F32, i)), "n=" + n + ": float " + i + " past the lanes written");
                    assertTrue(Float.isNaN(out.getAtIndex(F32, 0)), "n=" + n + ": the float before the row");
                }
                if (pass == 0) for (int c = 0; c < WARM_CALLS * 10; c++) VectorActivations.combineRow(0.5, a, 0.25, b, 64, out, 4);
            }
        }
    }

    /**
     * combineRows gives every row the bits of its own combineRow, narrow rows (its flat loop over all of them) and wide
     * ones, rows apart by more than their length, cold and warm; it leaves the rest of each row and the gaps untouched.
     */
    @Test
    void combinedRunsOfRowsEqualTheirRowsOneByOne() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 44;
        SplittableRandom rng = new SplittableRandom(seed);
        int w = dev.longconv.simd.Lanes.W / 2; // doubles per vector at this JVM's width
        double[] a = new double[40 * w], b = new double[40 * w];
        for (int i = 0; i < a.length; i++) {
            a[i] = rng.nextDouble(-1e3, 1e3);
            b[i] = rng.nextDouble(-1, 1) * Math.pow(2, rng.nextInt(-40, 40));
        }
        try (Arena arena = Arena.ofConfined()) {
            for (int pass = 0; pass < 2; pass++) {
                for (int n : new int[] {1, 2 * w, 4 * w, 4 * w + 3, 2 * w * (VectorActivations.FLAT_COMBINE_MAX_PAIRS - 1), 2 * w * VectorActivations.FLAT_COMBINE_MAX_PAIRS, 40 * w}) {
                    for (int rows : new int[] {1, 2, 5, 17}) {
                        double[] s = new double[rows], t = new double[rows];
                        for (int k = 0; k < rows; k++) {
                            s[k] = rng.nextDouble(-2, 2);
                            t[k] = rng.nextDouble(-2, 2);
                        }
                        long ld = 4L * (n + 3), size = 4 + rows * ld;
                        MemorySegment batch = arena.allocate(size), single = arena.allocate(size);
                        batch.fill((byte) -1);
                        single.fill((byte) -1);
                        int done = VectorActivations.combineRows(s, t, rows, a, b, n, batch, 4, ld);
                        int one = 0;
                        for (int k = 0; k < rows; k++) one = VectorActivations.combineRow(s[k], a, t[k], b, n, single, 4 + k * ld);
                        String where = (pass == 0 ? "cold" : "warm") + " n=" + n + " rows=" + rows + " seed " + seed;
                        assertEquals(one, done, where + ": elements done per row");
                        for (long i = 0; i < size / 4; i++) {
                            assertEquals(Float.floatToRawIntBits(single.getAtIndex(F32, i)), Float.floatToRawIntBits(batch.getAtIndex(F32, i)), where + " float " + i);
                        }
                        if (pass == 0) for (int c = 0; c < WARM_CALLS; c++) VectorActivations.combineRows(s, t, rows, a, b, n, batch, 4, ld);
                    }
                }
            }
        }
        assertEquals(0, VectorActivations.combineRows(new double[1], new double[1], 1, a, b, 16, MemorySegment.ofArray(new float[20]), 0, 64), "heap");
    }

    @Test
    void doubleLanesFollowTheirStepsBitForBitColdAndWarm() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 43;
        int n = 1024;
        double[] x = doubleInputs(new SplittableRandom(seed), n), out = new double[n];
        for (Activation a : LANE_ACTIVATIONS) {
            for (int pass = 0; pass < 2; pass++) {
                VectorActivations.apply(a, x, out, 0, n);
                for (int i = 0; i < n; i++) {
                    double want = doubleModel(a, x[i]);
                    assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(out[i]),
                            a + (pass == 0 ? " cold" : " warm") + " at x=" + x[i] + " (index " + i + ", seed " + seed + "): want " + want + ", got " + out[i]);
                }
                if (pass == 0) for (int c = 0; c < WARM_CALLS; c++) VectorActivations.apply(a, x, out, 0, n);
            }
        }
    }

    @Test
    void laneExponentialsAreWithinAFewUlps() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 47;
        int n = 1024;
        SplittableRandom rng = new SplittableRandom(seed);
        float[] xf = floatInputs(rng, n);
        double[] xd = doubleInputs(rng, n), yd = new double[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * n), out = arena.allocate(4L * n);
            MemorySegment.copy(xf, 0, in, F32, 0, n);
            for (Activation a : new Activation[] {Activation.EXP, Activation.ELU}) {
                VectorActivations.applyFloat(a, 1, n, in, 0, n, null, null, 0, 0, out, 0, n);
                for (int i = 0; i < n; i++) {
                    double x = xf[i];
                    float want = (float) (a == Activation.EXP ? Math.exp(x) : x > 0 ? x : Math.expm1(x)), got = out.getAtIndex(F32, i);
                    assertClose(want, got, 2 * Math.ulp(want), a + " (float) at x=" + x + " seed " + seed);
                }
                VectorActivations.apply(a, xd, yd, 0, n);
                for (int i = 0; i < n; i++) {
                    double x = xd[i], want = a == Activation.EXP ? Math.exp(x) : x > 0 ? x : Math.expm1(x);
                    assertClose(want, yd[i], 3 * Math.ulp(want), a + " (double) at x=" + x + " seed " + seed);
                }
            }
        }
    }

    @Test
    void normSumsFollowTheirOrderBitForBitColdAndWarm() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        long seed = TnnTestSupport.SEED + 53;
        SplittableRandom rng = new SplittableRandom(seed);
        int w = VectorNorms.lanes(), rows = 37;
        for (int d : new int[] {w, 2 * w, 3 * w, 4 * w, 8 * w}) {
            float[] x = new float[rows * d], part = new float[rows];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-3, 3) * (rng.nextInt(8) == 0 ? 1e3f : 1f);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(4L * x.length);
                MemorySegment.copy(x, 0, seg, F32, 0, x.length);
                for (int pass = 0; pass < 2; pass++) {
                    VectorNorms.partialSquares(seg, 0, rows, d, part);
                    for (int r = 0; r < rows; r++) {
                        float want = squaresModel(x, r * d, d, w);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(part[r]),
                                "d=" + d + " row " + r + (pass == 0 ? " cold" : " warm") + " seed " + seed + ": want " + want + ", got " + part[r]);
                    }
                    if (pass == 0) for (int c = 0; c < 20 * WARM_CALLS; c++) VectorNorms.partialSquares(seg, 0, rows, d, part);
                }
            }
        }
    }

    /**
     * Calls with and without a bias or a gate, and norms with and without a scale, mixed in one thread ({@link
     * MixedLaneCalls}), settle to compiled loops that allocate nothing. The float loop once read a bias only where one
     * was given: C2 hoisted that read's checks to the loop's entry, every call without a bias failed them, and the loop
     * deoptimized and recompiled over and over, allocating about 1.8 MB per call in the unintrinsified code between
     * compiles (about 200 MB in each of the 37-39 quarter seconds measured). Whether a JVM falls into that cycle
     * depends on the profiles earlier calls left (after this class's other tests, or their copies in a class loader of
     * their own, it did not), so the mix runs in a JVM of its own, with this one's vector width. The fixed code settles
     * 2-8 quarter seconds after the warming (30 runs here at 256 bits; 1-6 in four at 128); the old code allocated
     * through every quarter second, also over 30 s (111 of them).
     */
    @Test
    void mixedCallsSettleToLoopsThatAllocateNothing() throws Exception {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        assumeTrue(java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported(), "thread allocation counters unsupported on this JVM");
        long seed = TnnTestSupport.SEED + 59;
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        String bits = System.getProperty("longconv.vectorBits");
        if (bits != null) cmd.add("-Dlongconv.vectorBits=" + bits);
        cmd.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), MixedLaneCalls.class.getName(), Long.toString(seed)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "child JVM finished");
        assertEquals(0, p.exitValue(), "child JVM exit code; output:\n" + out);
        String line = out.lines().filter(l -> l.startsWith("least ")).findFirst().orElseThrow(() -> new AssertionError("no result; output:\n" + out));
        System.out.println("mixed lane calls in a child JVM: " + line + " (quarter seconds, after 2 s of warming)");
        String[] f = line.split(" ");
        assertEquals(0, Long.parseLong(f[1]), "the least a quarter second of mixed lane calls allocated, over " + f[3]
                + " (seed " + seed + "): unintrinsified lane loops?");
    }

    private static void assertClose(double want, double got, double tol, String what) {
        if (Double.isNaN(want)) {
            assertTrue(Double.isNaN(got), what + ": want NaN, got " + got);
            return;
        }
        if (Double.isInfinite(want) || want == 0) {
            assertTrue(want == got || Math.abs(got - want) <= tol, what + ": want " + want + ", got " + got);
            return;
        }
        assertTrue(Math.abs(got - want) <= tol, what + ": want " + want + ", got " + got + " (" + Math.abs(got - want) / Math.ulp(want) + " ulps)");
    }

    /** Random floats over [-12, 12], [-120, 120] (beyond the clamps, into subnormal and overflowing results) and near 0, and the special values. */
    private static float[] floatInputs(SplittableRandom rng, int n) {
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE,
                88.7f, 88.8f, -87.3f, -103.9f, -104.5f, 89.5f, 1e-30f, -1e-30f, 0.34657359f, -0.34657359f};
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i < special.length ? special[i] : switch (i % 3) {
                case 0 -> (float) rng.nextDouble(-12, 12);
                case 1 -> (float) rng.nextDouble(-120, 120);
                default -> (float) (rng.nextDouble(-1, 1) * Math.pow(10, -rng.nextInt(12)));
            };
        }
        return x;
    }

    private static double[] doubleInputs(SplittableRandom rng, int n) {
        double[] special = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, -Double.MIN_VALUE,
                709.7, 709.8, -708.3, -745.1, -746.5, 711, 1e-300, -1e-300, 0.34657359027997264};
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i < special.length ? special[i] : switch (i % 3) {
                case 0 -> rng.nextDouble(-12, 12);
                case 1 -> rng.nextDouble(-800, 800);
                default -> rng.nextDouble(-1, 1) * Math.pow(10, -rng.nextInt(17));
            };
        }
        return x;
    }

    /** {@link VectorActivations#applyFloat}'s steps for one lane, in scalar float arithmetic. */
    private static float floatModel(Activation a, float x) {
        switch (a) {
            case NONE: return x;
            case RELU: return Math.max(x, 0f);
            case LEAK: return Math.max(x, x * 0.01f);
            default: break;
        }
        boolean sigmoid = a == Activation.SIGMOID || a == Activation.SILU;
        float z = Math.min(Math.max(sigmoid ? -Math.abs(x) : x, VectorActivations.EXP_MIN_F), VectorActivations.EXP_MAX_F);
        float t = Math.fma(z, VectorActivations.LOG2E_F, VectorActivations.ROUND_F), nf = t - VectorActivations.ROUND_F;
        float f = Math.fma(nf, -VectorActivations.LN2_HI_F, z) + nf * -VectorActivations.LN2_LO_F;
        float[] c = VectorActivations.COEF_F;
        float q = c[c.length - 1];
        for (int k = c.length - 2; k >= 0; k--) q = Math.fma(q, f, c[k]);
        float p = Math.fma(f * q, f, f);
        int n = (int) nf, n1 = n >> 1;
        float s1 = Float.intBitsToFloat((n1 + 127) << 23), s2 = Float.intBitsToFloat((n - n1 + 127) << 23);
        if (a == Activation.EXP) return Math.fma(p, s1, s1) * s2;
        if (sigmoid) {
            float e = Math.fma(p, s1, s1) * s2, h = 1f / (e + 1f), sig = x < 0f ? e * h : h;
            return a == Activation.SILU ? x * sig : sig;
        }
        float s = s1 * s2, e = x <= 0f ? Math.fma(p, s, s - 1f) : x;
        return a == Activation.ELU ? e : e + (a == Activation.ONE_PLUS_ELU ? 1f : 2f);
    }

    /** {@link VectorActivations#apply}'s steps for one lane, in scalar double arithmetic. */
    private static double doubleModel(Activation a, double x) {
        switch (a) {
            case NONE: return x;
            case RELU: return Math.max(x, 0.0);
            case LEAK: return Math.max(x, x * 0.01);
            default: break;
        }
        boolean sigmoid = a == Activation.SIGMOID || a == Activation.SILU;
        double z = Math.min(Math.max(sigmoid ? -Math.abs(x) : x, VectorActivations.EXP_MIN), VectorActivations.EXP_MAX);
        double t = Math.fma(z, VectorActivations.LOG2E, VectorActivations.ROUND), nf = t - VectorActivations.ROUND;
        double f = Math.fma(nf, -VectorActivations.LN2_HI, z) + nf * -VectorActivations.LN2_LO;
        double[] c = VectorActivations.COEF;
        double q = c[c.length - 1];
        for (int k = c.length - 2; k >= 0; k--) q = Math.fma(q, f, c[k]);
        double p = Math.fma(f * q, f, f);
        long n = Double.doubleToRawLongBits(t) - VectorActivations.ROUND_BITS, n1 = n >> 1;
        double s1 = Double.longBitsToDouble((n1 + 1023) << 52), s2 = Double.longBitsToDouble((n - n1 + 1023) << 52);
        if (a == Activation.EXP) return Math.fma(p, s1, s1) * s2;
        if (sigmoid) {
            double e = Math.fma(p, s1, s1) * s2, h = 1.0 / (e + 1.0), sig = x < 0.0 ? e * h : h;
            return a == Activation.SILU ? x * sig : sig;
        }
        double s = s1 * s2, e = x <= 0.0 ? Math.fma(p, s, s - 1.0) : x;
        return a == Activation.ELU ? e : e + (a == Activation.ONE_PLUS_ELU ? 1.0 : 2.0);
    }

    /**
     * {@link VectorNorms#partialSquares}' order for one row of d = m w values: lane j of accumulator k sums x^2 over
     * the vectors k, k + A, k + 2A, .. by fused multiply-adds (A = 4, 2 or 1 accumulators as m allows), the
     * accumulators are added as (0 + 1) + (2 + 3), and the lanes folded: lane c + lane c ^ h for h = w/2 .. 1.
     */
    private static float squaresModel(float[] x, int from, int d, int w) {
        int m = d / w, accs = m % 4 == 0 ? 4 : m % 2 == 0 ? 2 : 1;
        float[][] acc = new float[accs][w];
        for (int v = 0; v < m; v++) {
            for (int j = 0; j < w; j++) {
                float xi = x[from + v * w + j];
                acc[v % accs][j] = Math.fma(xi, xi, acc[v % accs][j]);
            }
        }
        float[] sum = new float[w];
        for (int j = 0; j < w; j++) {
            sum[j] = switch (accs) {
                case 4 -> (acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j]);
                case 2 -> acc[0][j] + acc[1][j];
                default -> acc[0][j];
            };
        }
        for (int h = w / 2; h >= 1; h /= 2) {
            float[] next = new float[w];
            for (int c = 0; c < w; c++) next[c] = sum[c] + sum[c ^ h];
            sum = next;
        }
        return sum[0];
    }
}
