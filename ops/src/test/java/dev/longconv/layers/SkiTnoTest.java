package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Reference;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SKI-TNO against the ops' float64 references with the warped kernel built here from its definition. */
class SkiTnoTest {
    static final long SEED = Long.getLong("longconv.test.seed", 20261122L);

    /** kr [2r-1, D] straight from the definition (grid point j at -1 + 2j/(G-1)). */
    static Tensor warpedKernel(Tensor g, int r, double gamma, int len) {
        int d = (int) g.dim(0), gs = (int) g.dim(1);
        Tensor kr = Tensor.zeros(DType.FLOAT64, 2 * r - 1, d);
        for (int m = -(r - 1); m <= r - 1; m++) {
            double tau = m * (len - 1.0) / (r - 1);
            double u = tau == 0 ? 0 : Math.signum(tau) * Math.pow(gamma, Math.abs(tau));
            for (int c = 0; c < d; c++) {
                // Piecewise-linear interpolant through (z_j, g[c, j]), evaluated segment by segment.
                double val = Double.NaN;
                for (int j = 0; j < gs - 1; j++) {
                    double z0 = -1 + 2.0 * j / (gs - 1), z1 = -1 + 2.0 * (j + 1) / (gs - 1);
                    if (u >= z0 && u <= z1) {
                        val = g.get(c, j) + (g.get(c, j + 1) - g.get(c, j)) * (u - z0) / (z1 - z0);
                        break;
                    }
                }
                kr.set(val, m + r - 1, c);
            }
        }
        return kr;
    }

    static Tensor reference(Tensor x, Tensor w, Tensor g, int r, double gamma) {
        int len = (int) x.dim(1);
        try (Tensor wt = w.transpose(0, 1).copy(); Tensor kr = warpedKernel(g, r, gamma, len);
                Tensor a = Reference.shortConv(x, wt, null, ShortConvMode.SAME, Layout.BLD); Tensor b = Reference.ski(x, kr, Layout.BLD)) {
            Tensor y = a.copy();
            for (long i = 0; i < y.numel(); i++) y.setFlat(i, a.getFlat(i) + b.getFlat(i));
            return y;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(SEED);
        for (Backend be : LayerChecks.forwardBackends()) {
            for (int len : new int[] {1, 2, 5, 17, 64, 101}) {
                for (DType dt : DType.values()) {
                    LayerChecks.addIf(out, be, dt, Arguments.of(be, len, dt, rng.nextLong(), 2 + rng.nextInt(9), 1 + 2 * rng.nextInt(4), 2 + rng.nextInt(15), 1 + rng.nextInt(7),
                            0.5 + 0.49 * rng.nextDouble()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} L={1} {2} seed={3}")
    @MethodSource("cases")
    void forwardMatchesTheDefinition(Backend be, int len, DType dt, long seed, int r, int nk, int grid, int d, double gamma) {
        String what = be.name() + " " + dt + " L=" + len + " r=" + r + " nk=" + nk + " G=" + grid + " D=" + d + " gamma=" + gamma + " seed=" + seed;
        try (Tensor w = Tensor.random(DType.FLOAT64, seed, d, nk); Tensor g = Tensor.random(DType.FLOAT64, seed + 1, d, grid);
                Tensor x64 = Tensor.random(DType.FLOAT64, seed + 2, 2, len, d); Tensor x = x64.to(dt);
                Tensor y = new SkiTno(new SkiTno.Config(r, gamma), w, g).forward(be, x); Tensor expected = reference(x64, w, g, r, gamma)) {
            Compare.assertClose(y, expected, dt, what);
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        for (Backend be : LayerChecks.backends()) {
            for (int len : new int[] {1, 4, 13}) {
                long seed = SEED + len;
                try (Tensor w = Tensor.random(DType.FLOAT64, seed, 3, 5); Tensor g = Tensor.random(DType.FLOAT64, seed + 1, 3, 7);
                        Tensor x = Tensor.random(DType.FLOAT64, seed + 2, 2, len, 3)) {
                    LayerChecks.assertGradients(new SkiTno(new SkiTno.Config(4, 0.8), w, g), be, x, seed, 1e-6, be.name() + " L=" + len + " seed=" + seed);
                }
            }
        }
    }

    @Test
    void loadsHyperparametersFromMetadataAndNamesWhatIsMissing() {
        try (Tensor w = Tensor.random(DType.FLOAT64, 1, 2, 3); Tensor g = Tensor.random(DType.FLOAT64, 2, 2, 5)) {
            Weights ws = Weights.of("m.safetensors", Map.of("w", w, "g", g), Map.of("r", "8"));
            LongConvException e = assertThrows(LongConvException.class, () -> SkiTno.load(ws, Map.of()));
            assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("--set gamma="), e.getMessage());
            SkiTno layer = SkiTno.load(ws, Map.of("gamma", "0.9"));
            assertTrue(layer.config().r() == 8 && layer.config().gamma() == 0.9);
            Weights noG = Weights.of("m.safetensors", Map.of("w", w), Map.of("r", "8", "gamma", "0.9"));
            LongConvException e2 = assertThrows(LongConvException.class, () -> SkiTno.load(noG, Map.of()));
            assertTrue(e2.getMessage().startsWith("ski-tno: argument g: tensor 'g' is missing from m.safetensors"), e2.getMessage());
        }
    }
}
