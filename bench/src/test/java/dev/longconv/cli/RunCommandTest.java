package dev.longconv.cli;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.ops.Backends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `longconv run` against results computed independently by NumPy (fixtures/make_fixtures.py), in both
 * layouts and both dtypes: relative L2 error within 1e-5 (float32) and 1e-10 (float64).
 */
class RunCommandTest {
    static final String[] FIXTURES = {"x", "k_causal", "y_causal", "k_toeplitz", "y_toeplitz", "w_short", "bias_short",
            "y_short_causal", "y_short_same", "kr_ski", "y_ski", "re_spectrum", "y_spectrum", "x_fft", "y_rfft", "y_rfft16",
            "spec_irfft", "y_irfft", "a_gemm", "b_gemm", "y_gemm", "at_gemm", "bt_gemm"};

    @TempDir
    static Path dir;

    @BeforeAll
    static void copyFixtures() throws IOException {
        for (String f : FIXTURES) {
            try (InputStream in = RunCommandTest.class.getResourceAsStream("/fixtures/" + f + ".npy")) {
                Files.copy(in, dir.resolve(f + ".npy"));
            }
        }
    }

    /** Result of one tool invocation. */
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * One op: its arguments as (flag, fixture, role) where role says how the BLD variant transforms the file:
     * "seq" [B,D,L] -> [B,L,D], "kernel" [D,n] -> [n,D], "plain" unchanged.
     */
    record OpCase(String name, String op, String[][] inputs, String[] extra, String expected, String expectedRole) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<OpCase> ops() {
        return List.of(
                new OpCase("causal-conv", "causal-conv", new String[][] {{"--x", "x", "seq"}, {"--k", "k_causal", "kernel"}}, new String[0], "y_causal", "seq"),
                new OpCase("toeplitz-conv", "toeplitz-conv", new String[][] {{"--x", "x", "seq"}, {"--k", "k_toeplitz", "kernel"}}, new String[0], "y_toeplitz", "seq"),
                new OpCase("short-conv causal", "short-conv", new String[][] {{"--x", "x", "seq"}, {"--w", "w_short", "kernel"}, {"--bias", "bias_short", "plain"}},
                        new String[0], "y_short_causal", "seq"),
                new OpCase("short-conv same", "short-conv", new String[][] {{"--x", "x", "seq"}, {"--w", "w_short", "kernel"}, {"--bias", "bias_short", "plain"}},
                        new String[] {"--mode", "same"}, "y_short_same", "seq"),
                new OpCase("ski", "ski", new String[][] {{"--x", "x", "seq"}, {"--kr", "kr_ski", "kernel"}}, new String[0], "y_ski", "seq"),
                new OpCase("causal-spectrum", "causal-spectrum", new String[][] {{"--re", "re_spectrum", "plain"}}, new String[] {"--n", "12"}, "y_spectrum", "plain"),
                new OpCase("rfft", "rfft", new String[][] {{"--x", "x_fft", "plain"}}, new String[0], "y_rfft", "plain"),
                new OpCase("rfft n=16", "rfft", new String[][] {{"--x", "x_fft", "plain"}}, new String[] {"--n", "16"}, "y_rfft16", "plain"),
                new OpCase("irfft", "irfft", new String[][] {{"--x", "spec_irfft", "plain"}}, new String[] {"--n", "12"}, "y_irfft", "plain"),
                new OpCase("gemm", "gemm", new String[][] {{"--a", "a_gemm", "plain"}, {"--b", "b_gemm", "plain"}}, new String[0], "y_gemm", "plain"),
                new OpCase("gemm transposed", "gemm", new String[][] {{"--a", "at_gemm", "plain"}, {"--b", "bt_gemm", "plain"}},
                        new String[] {"--trans-a", "--trans-b"}, "y_gemm", "plain"));
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<String> backends = Backends.statuses().stream().filter(Backends.Status::available)
                .map(Backends.Status::name).toList();
        for (String backend : backends) {
            for (OpCase c : ops()) {
                for (DType dt : DType.values()) {
                    for (String layout : new String[] {"bdl", "bld"}) {
                        if (layout.equals("bld") && c.expectedRole.equals("plain")) continue; // layout does not apply
                        out.add(Arguments.of(c, dt, layout, backend));
                    }
                }
            }
        }
        return out.stream();
    }

    static Tensor inLayout(Tensor t, String role, String layout) {
        if (layout.equals("bdl") || role.equals("plain")) return t.contiguous();
        return (role.equals("seq") ? t.transpose(1, 2) : t.transpose(0, 1)).contiguous();
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("cases")
    void reproducesNumpy(OpCase c, DType dt, String layout, String backend) throws IOException {
        String tag = c.name.replace(' ', '_') + "_" + dt + "_" + layout + "_" + backend;
        List<String> args = new ArrayList<>(List.of("run", c.op, "--layout", layout, "--backend", backend));
        for (String[] in : c.inputs) {
            Path p = dir.resolve(tag + "_" + in[1] + ".npy");
            try (Tensor t = Npy.load(dir.resolve(in[1] + ".npy")); Tensor conv = t.to(dt);
                 Tensor laid = inLayout(conv, in[2], layout)) {
                Npy.save(laid, p);
            }
            args.add(in[0]);
            args.add(p.toString());
        }
        args.addAll(Arrays.asList(c.extra));
        Path out = dir.resolve(tag + "_out.npy");
        args.add("--out");
        args.add(out.toString());
        Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.code, "exit code; stderr: " + r.err);
        try (Tensor y = Npy.load(out); Tensor e0 = Npy.load(dir.resolve(c.expected + ".npy"));
             Tensor e = inLayout(e0, c.expectedRole, layout)) {
            assertEquals(dt, y.dtype(), "output dtype follows the input");
            assertEquals(Arrays.toString(e.shape()), Arrays.toString(y.shape()), "shape");
            double num = 0, den = 0;
            for (long i = 0; i < e.numel(); i++) {
                double d = y.getFlat(i) - e.getFlat(i);
                num += d * d;
                den += e.getFlat(i) * e.getFlat(i);
            }
            double err = Math.sqrt(num / den), tol = dt == DType.FLOAT32 ? 1e-5 : 1e-10;
            assertTrue(err <= tol, c + " " + dt + " " + layout + " " + backend + ": relative L2 error " + err + " > " + tol);
        }
    }

    @Test
    void malformedNpyIsOneLineAndExitTwo() throws IOException {
        byte[] good = Files.readAllBytes(dir.resolve("x.npy"));
        Path bad = dir.resolve("truncated.npy");
        Files.write(bad, Arrays.copyOf(good, good.length - 10));
        Result r = run("run", "causal-conv", "--x", bad.toString(), "--k", dir.resolve("k_causal.npy").toString(), "--out",
                dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertOneLine(r.err, "causal-conv", "argument x", "truncated.npy");
        assertFalse(Files.exists(dir.resolve("never.npy")), "no output on error");

        Path garbage = dir.resolve("garbage.npy");
        Files.writeString(garbage, "this is not numpy");
        r = run("run", "rfft", "--x", garbage.toString(), "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertOneLine(r.err, "rfft", "argument x", "garbage.npy");
    }

    @Test
    void mismatchedShapesAreOneLineAndExitTwo() {
        Result r = run("run", "toeplitz-conv", "--x", dir.resolve("x.npy").toString(), "--k", dir.resolve("k_causal.npy").toString(),
                "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertOneLine(r.err, "toeplitz-conv", "argument k", "2L-1=33", "[3, 21]");
        r = run("run", "causal-conv", "--x", dir.resolve("x.npy").toString(), "--k", dir.resolve("k_causal.npy").toString(),
                "--layout", "bld", "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertOneLine(r.err, "causal-conv", "argument k", "D=17");
    }

    @Test
    void verboseAddsTheStackTrace() {
        Result r = run("run", "toeplitz-conv", "--verbose", "--x", dir.resolve("x.npy").toString(), "--k",
                dir.resolve("k_causal.npy").toString(), "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("\tat dev.longconv"), r.err);
    }

    /** A size too large for the machine is bad input: one line naming the argument, exit 2, never an Error's stack trace. */
    @Test
    void hugeSizesAreOneLineErrors() {
        Result r = run("run", "rfft", "--x", dir.resolve("x_fft.npy").toString(), "--n", "1000000000", "--backend", "vector",
                "--out", dir.resolve("never.npy").toString());
        org.junit.jupiter.api.Assumptions.assumeTrue(!r.err.contains("not available"), "no vector backend here");
        assertEquals(2, r.code, r.err);
        assertOneLine(r.err, "rfft", "argument n");
    }

    @Test
    void unknownBackendAndBadOptions() {
        Result r = run("run", "rfft", "--x", dir.resolve("x_fft.npy").toString(), "--backend", "tpu", "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code);
        assertOneLine(r.err, "unknown backend 'tpu'");
        r = run("run", "rfft", "--out", dir.resolve("never.npy").toString());
        assertEquals(2, r.code, "missing required option is a usage error");
        assertTrue(r.err.contains("--x"), r.err);
    }

    @Test
    void infoExitsZero() {
        Result r = run("info");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("JDK") && r.out.contains("scalar") && r.out.contains("CUDA"), r.out);
    }

    static void assertOneLine(String err, String... words) {
        String s = err.strip();
        assertFalse(s.isEmpty(), "an error message");
        assertFalse(s.contains("\n"), "one line, got: " + err);
        assertFalse(s.contains("Exception"), "no exception class names by default: " + err);
        for (String w : words) assertTrue(s.contains(w), "'" + w + "' in: " + err);
    }
}
