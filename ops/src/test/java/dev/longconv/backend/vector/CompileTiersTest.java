package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.layers.Activation;
import dev.longconv.layers.Gtu;
import dev.longconv.layers.NormType;
import dev.longconv.layers.PreparedLayer;
import dev.longconv.layers.Stu;
import dev.longconv.ops.ConvPlan;
import dev.longconv.simd.Simd;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every lane kernel the vector backend runs must compile at C1's profiling tier (tier 3), not only at C2. A method C1
 * gives up on ("COMPILE SKIPPED: out of virtual registers") works while C2 compiles it straight from the interpreter,
 * but when a busy C2 queue makes the JIT compile it at tier 2 first, the failed tier 3 compile leaves it at tier 2 for
 * good, and tier 2 code boxes every vector: the 6 x 4 GEMM kernel once ran at 2-3 GFLOP/s instead of about 190 that way,
 * in 7 of 16 forks of GemmBench.interleaved2t on Zen 5. Whether that happens depends on the JIT's queue, so the test asks
 * the question that decides it: a child JVM ({@code -Xbatch}, so that every compile finishes before the code runs on,
 * with a tenth of the tier 3 thresholds, at this JVM's vector width) runs GEMM, causal-conv plans at FFT sizes with radix 4, 3 and 5 stages, GTU forwards (one call
 * and prepared) and STU forwards, and no longconv method may appear in its {@code -XX:+PrintCompilation} output as
 * skipped.
 */
class CompileTiersTest {
    @Test
    void everyLaneKernelCompilesAtTierThree() throws Exception {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-Xbatch", "-XX:+PrintCompilation",
                // a tenth of the default thresholds, so that a small workload reaches every kernel's tier 3 compile
                "-XX:Tier3InvocationThreshold=20", "-XX:Tier3MinInvocationThreshold=10", "-XX:Tier3CompileThreshold=200",
                "-XX:Tier3BackEdgeThreshold=6000"));
        String bits = System.getProperty("longconv.vectorBits");
        if (bits != null) cmd.add("-Dlongconv.vectorBits=" + bits);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Workload.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM finished");
        assertEquals(0, p.exitValue(), "child JVM exit code; output tail:\n" + tail(out));
        assertTrue(out.lines().anyMatch(l -> l.equals(Workload.DONE)), "child JVM ran the workload; output tail:\n" + tail(out));
        List<String> skipped = out.lines()
                .filter(l -> l.contains("COMPILE SKIPPED") && l.contains("dev.longconv.") && !l.contains("concurrent class loading"))
                .toList();
        long compiled = out.lines().filter(l -> l.contains("dev.longconv.simd.") && !l.contains("COMPILE SKIPPED")).count();
        System.out.println("tier 3 compiles of dev.longconv.simd methods in the child JVM (vector bits " + (bits == null ? "default" : bits) + "): "
                + compiled + "; skipped longconv methods: " + skipped.size());
        assertTrue(compiled > 0, "the child compiled no lane kernel: the workload did not reach them; output tail:\n" + tail(out));
        assertTrue(skipped.isEmpty(), "longconv methods C1 could not compile (a busy C2 queue can leave them at tier 2, boxing every vector):\n"
                + String.join("\n", skipped));
    }

    private static String tail(String out) {
        return out.length() <= 4000 ? out : out.substring(out.length() - 4000);
    }

    /** The child JVM's work: each kernel often enough (over 20 calls or 6000 loop iterations, at the child's thresholds) for a tier 3 compile. */
    static final class Workload {
        static final String DONE = "compile-tiers workload done";

        public static void main(String[] args) {
            VectorBackend be = new VectorBackend();
            long t = System.nanoTime();
            for (boolean trans : new boolean[] {false, true}) {
                try (Tensor a = Tensor.random(DType.FLOAT32, 1, 96, 72); Tensor b = Tensor.random(DType.FLOAT32, 2, 72, 96);
                     Tensor a1 = Tensor.random(DType.FLOAT32, 1, 24, 40); Tensor b1 = Tensor.random(DType.FLOAT32, 2, 40, 24)) {
                    for (int i = 0; i < 2; i++) be.gemm(a, b, trans, trans).close();
                    for (int i = 0; i < 30; i++) be.gemm(a1, b1, trans, trans).close();
                }
            }
            t = lap("gemm", t);
            // FFT sizes 4096 (radix 4, four-step), 2304 = 2^8 3^2 (radix 3) and 1280 = 2^8 5 (radix 5), both layouts
            for (int len : new int[] {2048, 1025, 600}) {
                for (Layout layout : Layout.values()) {
                    int d = 16;
                    boolean bdl = layout == Layout.BDL;
                    long[] xShape = bdl ? new long[] {1, d, len} : new long[] {1, len, d}, kShape = bdl ? new long[] {d, len} : new long[] {len, d};
                    try (Tensor x = Tensor.random(DType.FLOAT32, 3, xShape); Tensor k = Tensor.random(DType.FLOAT32, 4, kShape);
                         Tensor y = Tensor.zeros(DType.FLOAT32, xShape)) {
                        ConvPlan plan = be.causalConvPlan(k, len, layout);
                        plan.applyInto(x, y);
                    }
                }
            }
            t = lap("causal-conv", t);
            gtu(be, new Gtu.Config(16, 2, true, Activation.SILU, false, 3, true, NormType.SIMPLE_RMS, false, false, 3, 16, Activation.RELU, false, 1,
                    false, 0.99, Activation.NONE));
            t = lap("gtu", t);
            for (Stu.Mode mode : Stu.Mode.values()) stu(be, mode);
            lap("stu", t);
            System.out.println(DONE);
        }

        private static long lap(String what, long since) {
            long now = System.nanoTime();
            System.out.println("workload " + what + ": " + (now - since) / 1_000_000 + " ms");
            return now;
        }

        private static void gtu(VectorBackend be, Gtu.Config c) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            long seed = 11;
            for (var e : Gtu.shapes(c).entrySet()) state.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
            int len = 64;
            Gtu g = new Gtu(c, state);
            try (Tensor x = Tensor.random(DType.FLOAT32, 7, 1, len, c.embedDim()); Tensor y = Tensor.zeros(DType.FLOAT32, 1, len, c.embedDim());
                 Tensor xs = Tensor.random(DType.FLOAT32, 8, 1, 9, c.embedDim()); PreparedLayer p = g.prepare(be, DType.FLOAT32, len)) {
                for (int i = 0; i < 3; i++) {
                    g.forward(be, x).close();
                    p.forwardInto(x, y);
                }
                for (int i = 0; i < 30; i++) g.forward(be, xs).close();
            } finally {
                state.values().forEach(Tensor::close);
            }
        }

        private static void stu(VectorBackend be, Stu.Mode mode) {
            int len = 300, k = 8, dIn = 16, dOut = 16;
            Stu.Config c = new Stu.Config(mode, false);
            Map<String, Tensor> p = new LinkedHashMap<>();
            long seed = 21;
            for (Map.Entry<String, long[]> e : Stu.shapes(c, k, dIn, dOut).entrySet()) p.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
            try (Tensor phi = Tensor.random(DType.FLOAT32, 25, len, k); Tensor x = Tensor.random(DType.FLOAT32, 26, 1, len, dIn)) {
                Stu s = new Stu(c, phi, p);
                for (int i = 0; i < 3; i++) s.forward(be, x).close();
            } finally {
                p.values().forEach(Tensor::close);
            }
        }
    }
}
