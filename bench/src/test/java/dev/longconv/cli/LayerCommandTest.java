package dev.longconv.cli;

import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `longconv run LAYER` on weights exported from PyTorch. Two kinds of fixtures:
 * <ul>
 *   <li>written by bench/anchors/stu_anchor.py --fixtures and tnn_anchor.py --fixtures (torch's float64 output of
 *       the flash-stu and tnn-pytorch forward passes, written from their definitions, as the expected y): the
 *       float32 result must be within relative L2 1e-5 of it;
 *   <li>written by bench/anchors/upstream_anchor.py --fixtures from the upstream projects' own modules (ski-tnn,
 *       tnn-pytorch, flash-stu; names start with the project): x is float64; the float64 result must be within
 *       1e-12 of upstream's float64 output and the float32 result (x rounded to float32) within 1e-5. Where upstream
 *       cannot run in float64 the expected y is its float32 output (saved as float32) and only float32 is checked.
 * </ul>
 */
class LayerCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    Path fixture(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/fixtures/layers/" + name)) {
            if (in == null) throw new IOException("missing test resource /fixtures/layers/" + name);
            Files.copy(in, p);
        }
        return p;
    }

    void assertReproduces(String layer, String name, String... extra) throws IOException {
        Path x = fixture(name + "_x.npy"), w = fixture(name + ".safetensors"), expected = fixture(name + "_expected.npy");
        Path out = dir.resolve(name + "_y.npy");
        for (String backend : new String[] {"scalar", "vector"}) {
            String[] base = {"run", layer, "--x", x.toString(), "--weights", w.toString(), "--out", out.toString(), "--backend", backend};
            String[] args = Arrays.copyOf(base, base.length + extra.length);
            System.arraycopy(extra, 0, args, base.length, extra.length);
            Result r = run(args);
            assertEquals(0, r.code(), name + " on " + backend + ": " + r.err());
            try (Tensor y = Npy.load(out); Tensor e = Npy.load(expected)) {
                assertEquals(Arrays.toString(e.shape()), Arrays.toString(y.shape()), name + " shape");
                double num = 0, den = 0;
                for (long i = 0; i < e.numel(); i++) {
                    double d = y.getFlat(i) - e.getFlat(i);
                    num += d * d;
                    den += e.getFlat(i) * e.getFlat(i);
                }
                double err = Math.sqrt(num / den);
                assertTrue(err <= 1e-5, layer + " " + name + " on " + backend + ": relative L2 " + err + " against torch's float64 output");
            }
            assertPreparedGivesTheForward(args, out, layer + " " + name + " on " + backend, 1e-6);
        }
    }

    /**
     * The same command with --prepared (the serving path: Layer.prepare for x's length) gives the forward's y, already
     * written at {@code forwardOut}, within {@code tol} (1e-6 float32, 1e-12 float64).
     */
    void assertPreparedGivesTheForward(String[] args, Path forwardOut, String what, double tol) throws IOException {
        Path preparedOut = dir.resolve("prepared_" + forwardOut.getFileName());
        String[] p = Arrays.copyOf(args, args.length + 1);
        p[args.length] = "--prepared";
        for (int i = 0; i < p.length - 1; i++) if (p[i].equals("--out")) p[i + 1] = preparedOut.toString();
        Result r = run(p);
        assertEquals(0, r.code(), what + " --prepared: " + r.err());
        try (Tensor y = Npy.load(preparedOut); Tensor f = Npy.load(forwardOut)) {
            assertEquals(Arrays.toString(f.shape()), Arrays.toString(y.shape()), what + " --prepared shape");
            double err = relL2(y, f);
            assertTrue(err <= tol, what + " --prepared: relative L2 " + err + " against the forward (limit " + tol + ")");
        }
    }

    static double relL2(Tensor y, Tensor e) {
        double num = 0, den = 0;
        for (long i = 0; i < e.numel(); i++) {
            double d = y.getFlat(i) - e.getFlat(i);
            num += d * d;
            den += e.getFlat(i) * e.getFlat(i);
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** An upstream_anchor.py fixture: float64 within 1e-12 (when upstream ran in float64), float32 within 1e-5. */
    void assertReproducesUpstream(String layer, String name, String... extra) throws IOException {
        Path x = fixture(name + "_x.npy"), w = fixture(name + ".safetensors"), expected = fixture(name + "_expected.npy");
        Path x32 = dir.resolve(name + "_x32.npy");
        boolean float64;
        try (Tensor xt = Npy.load(x); Tensor e = Npy.load(expected); Tensor xs = xt.to(dev.longconv.DType.FLOAT32)) {
            Npy.save(xs, x32);
            float64 = e.dtype() == dev.longconv.DType.FLOAT64;
        }
        for (String backend : new String[] {"scalar", "vector"}) {
            for (boolean in64 : float64 ? new boolean[] {true, false} : new boolean[] {false}) {
                Path out = dir.resolve(name + "_y.npy");
                String[] base = {"run", layer, "--x", (in64 ? x : x32).toString(), "--weights", w.toString(), "--out", out.toString(), "--backend", backend};
                String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
                System.arraycopy(extra, 0, args, base.length, extra.length);
                Result r = run(args);
                String what = layer + " " + name + " on " + backend + (in64 ? " float64" : " float32");
                assertEquals(0, r.code(), what + ": " + r.err());
                try (Tensor y = Npy.load(out); Tensor e = Npy.load(expected)) {
                    assertEquals(java.util.Arrays.toString(e.shape()), java.util.Arrays.toString(y.shape()), what + " shape");
                    double err = relL2(y, e), tol = in64 ? 1e-12 : 1e-5;
                    assertTrue(err <= tol, what + ": relative L2 " + err + " against upstream's " + e.dtype() + " output (limit " + tol + ")");
                }
                assertPreparedGivesTheForward(args, out, what, in64 ? 1e-12 : 1e-6);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"skitnn_fd_bidir_h3", "skitnn_fd_causal_h2", "skitnn_fd_bidir_layernorm_gelu", "skitnn_fd_causal_L1"})
    void fdTnoReproducesSkiTnn(String name) throws IOException {
        assertReproducesUpstream("fd-tno", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"skitnn_fdnorpe_bidir", "skitnn_fdnorpe_causal", "skitnn_fdnorpe_bidir_long"})
    void fdTnoNoRpeReproducesSkiTnn(String name) throws IOException {
        assertReproducesUpstream("fd-tno-norpe", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"skitnn_skitno_bidir", "skitnn_skitno_bidir_h3_even_nk", "skitnn_skitno_causal", "skitnn_skitno_causal_rmsnorm"})
    void skiTnoRpeReproducesSkiTnn(String name) throws IOException {
        assertReproducesUpstream("ski-tno-rpe", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"skitnn_inv_bidir", "skitnn_inv_bidir_h3", "skitnn_inv_causal", "skitnn_inv_causal_r9"})
    void skiTnoInvTimeReproducesSkiTnn(String name) throws IOException {
        assertReproducesUpstream("ski-tno-inv-time", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"skitnn_gtu_tno", "skitnn_gtu_tno_fd", "skitnn_gtu_tno_fd_norpe", "skitnn_gtu_skitno", "skitnn_gtu_skitno_causal",
            "skitnn_gtu_skitno_inv_time", "skitnn_gtu_skitno_inv_time_causal", "tnnpt_gtu_multi_decay"})
    void gtuReproducesSkiTnnAndTnnPytorch(String name) throws IOException {
        assertReproducesUpstream("gtu", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tnnpt_tno_bidir_h3", "tnnpt_tno_causal_decay_par2"})
    void tnoReproducesTnnPytorch(String name) throws IOException {
        assertReproducesUpstream("tno", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tnnpt_glu_silu", "tnnpt_glu_gelu_nobias"})
    void gluReproducesTnnPytorch(String name) throws IOException {
        assertReproducesUpstream("glu", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tnnpt_tnn_layer_prenorm", "tnnpt_tnn_layer_postnorm_causal", "tnnpt_tnn_layer_rmsnorm_h3"})
    void tnnLayerReproducesTnnPytorch(String name) throws IOException {
        assertReproducesUpstream("tnn-layer", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"flashstu_layer_approx", "flashstu_layer_exact_bias", "flashstu_layer_approx_hankel_L_short"})
    void stuLayerReproducesFlashStu(String name) throws IOException {
        assertReproducesUpstream("stu-layer", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"flashstu_stu_approx", "flashstu_stu_exact_hankel_L"})
    void stuReproducesFlashStu(String name) throws IOException {
        assertReproducesUpstream("stu", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stu_approx", "stu_approx_hankel_L", "stu_exact", "stu_exact_phi"})
    void stuReproducesTorch(String name) throws IOException {
        assertReproduces("stu", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tno_bidir", "tno_causal_decay", "tno_multi_decay_gelu_layernorm", "tno_causal_normalize_par2", "tno_L1"})
    void tnoReproducesTorch(String name) throws IOException {
        assertReproduces("tno", name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gtu_default", "gtu_causal_norm_decay", "gtu_nobias_multi_decay"})
    void gtuReproducesTorch(String name) throws IOException {
        assertReproduces("gtu", name);
    }

    /** --gy/--grads write dx and one file per state_dict parameter, equal to the layer's backward in Java. */
    @Test
    void gradsAreWrittenByStateDictName() throws IOException {
        Path x = fixture("tnnpt_glu_silu_x.npy"), w = fixture("tnnpt_glu_silu.safetensors"), gy = dir.resolve("gy.npy"), grads = dir.resolve("grads");
        try (Tensor xt = Npy.load(x); Tensor g = Tensor.random(dev.longconv.DType.FLOAT64, 5, xt.shape())) {
            Npy.save(g, gy);
        }
        Result r = run("run", "glu", "--x", x.toString(), "--weights", w.toString(), "--out", dir.resolve("y.npy").toString(),
                "--gy", gy.toString(), "--grads", grads.toString(), "--backend", "scalar");
        assertEquals(0, r.code(), r.err());
        try (dev.longconv.layers.SafetensorsWeights sw = dev.longconv.layers.SafetensorsWeights.open(w); Tensor xt = Npy.load(x); Tensor g = Npy.load(gy);
             dev.longconv.layers.LayerGrads want = dev.longconv.layers.Glu.load(sw, java.util.Map.of())
                     .backward(dev.longconv.ops.Backends.get("scalar"), xt, g)) {
            try (Tensor dx = Npy.load(grads.resolve("dx.npy"))) {
                assertEquals(0.0, relL2(dx, want.dx()), 0.0, "dx");
            }
            assertEquals(java.util.Set.of("l1.weight", "l1.bias", "l2.weight", "l2.bias", "l3.weight", "l3.bias"), want.dweights().keySet());
            for (var e : want.dweights().entrySet()) {
                try (Tensor got = Npy.load(grads.resolve(e.getKey() + ".npy"))) {
                    assertEquals(java.util.Arrays.toString(e.getValue().shape()), java.util.Arrays.toString(got.shape()), e.getKey());
                    assertEquals(0.0, relL2(got, e.getValue()), 0.0, e.getKey());
                }
            }
        }
        Result half = run("run", "glu", "--x", x.toString(), "--weights", w.toString(), "--out", dir.resolve("y.npy").toString(), "--gy", gy.toString());
        assertEquals(2, half.code());
        assertTrue(half.err().contains("--grads"), half.err());
    }

    @Test
    void aBrokenWeightsFileIsOneLineAndExitTwo() throws IOException {
        Path x = fixture("stu_approx_x.npy");
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3});
        Result r = run("run", "stu", "--x", x.toString(), "--weights", bad.toString(), "--out", dir.resolve("y.npy").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().strip().lines().count() == 1 && r.err().contains("bad.safetensors"), r.err());
    }

    @Test
    void aMissingTensorNamesTheLayerTheTensorAndTheFile() throws IOException {
        Path x = fixture("stu_approx_x.npy"), w = fixture("stu_approx.safetensors");
        Result r = run("run", "stu", "--x", x.toString(), "--weights", w.toString(), "--mode", "exact", "--out", dir.resolve("y.npy").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("stu") && r.err().contains("M_phi_plus") && r.err().contains("stu_approx.safetensors"), r.err());
    }
}
