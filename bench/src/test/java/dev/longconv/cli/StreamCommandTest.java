package dev.longconv.cli;

import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.ops.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code longconv stream causal-conv}: the streamed outputs equal the one-shot reference; bad arguments are one line, exit 2. */
class StreamCommandTest {
    @TempDir
    Path dir;

    @Test
    void streamedOutputsEqualTheReferenceAndTheCheckPasses() throws IOException {
        Path x = dir.resolve("x.npy"), k = dir.resolve("k.npy");
        try (Tensor xt = Tensor.random(DType.FLOAT32, 1, 2, 5, 401); Tensor kt = Tensor.random(DType.FLOAT32, 2, 5, 173)) {
            Npy.save(xt, x);
            Npy.save(kt, k);
            for (String[] split : new String[][] {{"--prefill", "0"}, {"--prefill", "173", "--chunk", "29"}, {"--prefill", "400"}}) {
                Path out = dir.resolve("y.npy");
                RunCommandTest.Result r = RunCommandTest.run(concat(new String[] {"stream", "causal-conv", "--x", x.toString(), "--k", k.toString(),
                        "--out", out.toString(), "--check"}, split));
                assertEquals(0, r.code(), r.err());
                assertTrue(r.out().contains("tokens/s") && r.out().contains("check: relative L2"), r.out());
                try (Tensor y = Npy.load(out); Tensor ref = Reference.causalConv(xt, kt, Layout.BDL)) {
                    assertTrue(StreamCommand.relL2(y, ref) < 1e-5, String.join(" ", split));
                }
            }
        }
    }

    @Test
    void badArgumentsAreOneLine() throws IOException {
        Path x = dir.resolve("x.npy"), k = dir.resolve("k.npy");
        try (Tensor xt = Tensor.random(DType.FLOAT32, 1, 1, 3, 20); Tensor kt = Tensor.random(DType.FLOAT32, 2, 3, 4)) {
            Npy.save(xt, x);
            Npy.save(kt, k);
        }
        RunCommandTest.Result r = RunCommandTest.run("stream", "causal-conv", "--x", x.toString(), "--k", k.toString(), "--out",
                dir.resolve("y.npy").toString(), "--prefill", "21");
        assertEquals(2, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("--prefill") && r.err().contains("L=20"), r.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Layer sessions from upstream fixtures: every output equals the forward (and upstream's expected output). */
    @Test
    void layerSessionsFromUpstreamFixturesPassTheirCheck() throws IOException {
        // every causal fixture of a layer with sessions (the SKI-TNOs have none)
        for (String[] c : new String[][] {{"stu", "flashstu_stu_approx"}, {"stu", "flashstu_stu_exact_hankel_L"}, {"stu", "stu_approx"},
                {"stu", "stu_approx_hankel_L"}, {"stu", "stu_exact"}, {"stu", "stu_exact_phi"}, {"tno", "tno_causal_decay"},
                {"tno", "tno_causal_normalize_par2"}, {"tno", "tnnpt_tno_causal_decay_par2"}, {"gtu", "gtu_causal_norm_decay"},
                {"fd-tno", "skitnn_fd_causal_h2"}, {"fd-tno", "skitnn_fd_causal_L1"}, {"fd-tno-norpe", "skitnn_fdnorpe_causal"}}) {
            Path w = fixture(c[1] + ".safetensors"), x = fixture(c[1] + "_x.npy"), out = dir.resolve(c[1] + "_y.npy");
            long length;
            try (Tensor xt = Npy.load(x)) {
                length = xt.dim(xt.rank() - 2);
            }
            for (String chunk : new String[] {"1", "7"}) {
                String backend = chunk.equals("1") ? "scalar" : "vector";
                RunCommandTest.Result r = RunCommandTest.run("stream", c[0], "--x", x.toString(), "--weights", w.toString(), "--out", out.toString(),
                        "--prefill", Long.toString(Math.min(3, length)), "--chunk", chunk, "--check", "--backend", backend);
                assertEquals(0, r.code(), c[1] + " on " + backend + ": " + r.out() + r.err());
                assertTrue(r.out().contains("check: relative L2 against the forward"), r.out());
                try (Tensor y = Npy.load(out); Tensor e = Npy.load(fixture(c[1] + "_expected.npy"))) {
                    double tol = y.dtype() == DType.FLOAT32 ? 1e-5 : 1e-10;
                    assertTrue(StreamCommand.relL2(y, e) < tol, c[1] + " against upstream: " + StreamCommand.relL2(y, e));
                }
            }
        }
    }

    private Path fixture(String name) throws IOException {
        Path f = dir.resolve(name);
        try (var in = StreamCommandTest.class.getResourceAsStream("/fixtures/layers/" + name)) {
            Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
        }
        return f;
    }
}
