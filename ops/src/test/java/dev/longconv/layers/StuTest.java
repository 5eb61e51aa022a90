package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The STU layer on every CPU backend against a float64 reference written from the definition (both branches
 * convolved separately, no folding), at seeded random shapes; causality; gradients against finite differences.
 */
class StuTest {
    static final long SEED = Long.getLong("longconv.test.seed", 20261122L);

    /** One random STU: its weights (float64), its phi and the config. */
    record Model(Stu.Config config, Tensor phi, Map<String, Tensor> params, int dIn, int dOut, int kU, int kY) implements AutoCloseable {
        Stu layer() {
            return new Stu(config, phi, params);
        }

        @Override
        public void close() {
            phi.close();
            params.values().forEach(Tensor::close);
        }
    }

    static Model model(long seed, Stu.Mode mode, boolean hankelL, int lPhi, int k, int dIn, int dOut, int kU, int kY) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> p = new LinkedHashMap<>();
        Stu.Config c = new Stu.Config(mode, hankelL);
        // drawn in the map's order: M_inputs, M_filters or M_phi_plus, M_phi_minus, as before the shapes came from Stu
        for (Map.Entry<String, long[]> e : Stu.shapes(c, k, dIn, dOut).entrySet()) p.put(e.getKey(), Tensor.random(DType.FLOAT64, rng.nextLong(), e.getValue()));
        // AR weights small so the y-recursion stays bounded over long sequences.
        if (kU > 0) p.put("M_u", scaled(Tensor.random(DType.FLOAT64, rng.nextLong(), kU, dOut, dIn), 0.3));
        if (kY > 0) p.put("M_y", scaled(Tensor.random(DType.FLOAT64, rng.nextLong(), kY, dOut, dOut), 0.2 / (kY * dOut)));
        return new Model(c, Tensor.random(DType.FLOAT64, rng.nextLong(), lPhi, k), p, dIn, dOut, kU, kY);
    }

    static Tensor scaled(Tensor t, double s) {
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, s * t.getFlat(i));
        return t;
    }

    /** The definition, in float64, branch by branch. */
    static double[] reference(Model m, Tensor x) {
        int b = (int) x.dim(0), len = (int) x.dim(1), din = m.dIn, dout = m.dOut, kk = (int) m.phi.dim(1), taps = (int) Math.min(len, m.phi.dim(0));
        double[] y = new double[b * len * dout];
        boolean minus = !m.config.hankelL();
        for (int bb = 0; bb < b; bb++) {
            if (m.config.mode() == Stu.Mode.APPROX) {
                double[][] xt = new double[len][dout];
                for (int t = 0; t < len; t++) for (int o = 0; o < dout; o++) for (int i = 0; i < din; i++) xt[t][o] += x.get(bb, t, i) * m.params.get("M_inputs").get(i, o);
                double[][] pt = new double[taps][dout];
                for (int s = 0; s < taps; s++) for (int d = 0; d < dout; d++) for (int k = 0; k < kk; k++) pt[s][d] += m.phi.get(s, k) * m.params.get("M_filters").get(k, d);
                for (int t = 0; t < len; t++) {
                    for (int d = 0; d < dout; d++) {
                        double plus = 0, neg = 0;
                        for (int s = 0; s <= t && s < taps; s++) {
                            plus += pt[s][d] * xt[t - s][d];
                            neg += pt[s][d] * sgn(t - s) * xt[t - s][d];
                        }
                        y[(bb * len + t) * dout + d] = plus + (minus ? sgn(t) * neg : 0);
                    }
                }
            } else {
                for (int t = 0; t < len; t++) {
                    for (int k = 0; k < kk; k++) {
                        for (int i = 0; i < din; i++) {
                            double up = 0, um = 0;
                            for (int s = 0; s <= t && s < taps; s++) {
                                up += m.phi.get(s, k) * x.get(bb, t - s, i);
                                um += m.phi.get(s, k) * sgn(t - s) * x.get(bb, t - s, i);
                            }
                            um *= sgn(t);
                            for (int o = 0; o < dout; o++) {
                                y[(bb * len + t) * dout + o] += up * m.params.get("M_phi_plus").get(k, i, o)
                                        + (minus ? um * m.params.get("M_phi_minus").get(k, i, o) : 0);
                            }
                        }
                    }
                }
            }
            for (int t = 0; t < len; t++) {
                for (int o = 0; o < dout; o++) {
                    double acc = 0;
                    for (int i = 0; i < m.kU && i <= t; i++) for (int p = 0; p < din; p++) acc += m.params.get("M_u").get(i, o, p) * x.get(bb, t - i, p);
                    y[(bb * len + t) * dout + o] += acc;
                }
                for (int o = 0; o < dout; o++) {
                    double acc = 0;
                    for (int j = 1; j <= m.kY && j <= t; j++) for (int p = 0; p < dout; p++) acc += m.params.get("M_y").get(j - 1, o, p) * y[(bb * len + t - j) * dout + p];
                    y[(bb * len + t) * dout + o] += acc;
                }
            }
        }
        return y;
    }

    static int sgn(int t) {
        return t % 2 == 0 ? 1 : -1;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(SEED);
        int[] lengths = {1, 2, 7, 13, 32, 61};
        for (Backend be : LayerChecks.forwardBackends()) {
            for (Stu.Mode mode : Stu.Mode.values()) {
                for (boolean hankelL : new boolean[] {false, true}) {
                    for (int len : lengths) {
                        for (DType dt : DType.values()) {
                            long seed = rng.nextLong();
                            int lPhi = switch (rng.nextInt(3)) { case 0 -> len; case 1 -> len + 1 + rng.nextInt(5); default -> Math.max(1, len - rng.nextInt(4)); };
                            int d = 1 + rng.nextInt(6);
                            int dOut = mode == Stu.Mode.APPROX ? d : 1 + rng.nextInt(6);
                            boolean ar = rng.nextInt(3) == 0;
                            LayerChecks.addIf(out, be, dt, Arguments.of(be, mode, hankelL, len, dt, seed, lPhi, 1 + rng.nextInt(4), d, dOut, ar ? 1 + rng.nextInt(3) : 0,
                                    ar ? rng.nextInt(3) : 0, 1 + rng.nextInt(3)));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} hankelL={2} L={3} {4} seed={5}")
    @MethodSource("cases")
    void forwardMatchesTheDefinition(Backend be, Stu.Mode mode, boolean hankelL, int len, DType dt, long seed, int lPhi, int k, int dIn, int dOut,
            int kU, int kY, int batch) {
        String what = be.name() + " " + mode + " hankelL=" + hankelL + " " + dt + " B=" + batch + " L=" + len + " Lphi=" + lPhi + " K=" + k
                + " D=" + dIn + "->" + dOut + " k_u=" + kU + " k_y=" + kY + " seed=" + seed;
        try (Model m = model(seed, mode, hankelL, lPhi, k, dIn, dOut, kU, kY); Tensor x64 = Tensor.random(DType.FLOAT64, seed + 1, batch, len, dIn);
                Tensor x = x64.to(dt); Tensor y = m.layer().forward(be, x);
                Tensor expected = Tensor.of(reference(m, x64), batch, len, dOut)) {
            Compare.assertClose(y, expected, dt, what);
        }
    }

    @Test
    void outputsBeforeTimeTDoNotDependOnInputsAtT() {
        for (Backend be : LayerChecks.backends()) {
            for (Stu.Mode mode : Stu.Mode.values()) {
                int len = 29, t0 = 17;
                try (Model m = model(SEED, mode, false, len, 3, 4, 4, 2, 1); Tensor x = Tensor.random(DType.FLOAT64, SEED, 2, len, 4);
                        Tensor y0 = m.layer().forward(be, x)) {
                    for (int i = 0; i < 4; i++) x.set(x.get(1, t0, i) + 10, 1, t0, i);
                    try (Tensor y1 = m.layer().forward(be, x)) {
                        for (int t = 0; t < len; t++) {
                            double diff = 0;
                            for (int o = 0; o < 4; o++) diff += Math.abs(y1.get(1, t, o) - y0.get(1, t, o));
                            if (t < t0) assertEquals(0.0, diff, be.name() + " " + mode + ": output at t=" + t + " moved");
                            else if (t == t0) assertTrue(diff > 0, be.name() + " " + mode + ": output at t0 did not move");
                        }
                    }
                }
            }
        }
    }

    static Stream<Arguments> gradientCases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.backends()) {
            for (Stu.Mode mode : Stu.Mode.values()) {
                for (boolean hankelL : new boolean[] {false, true}) {
                    for (int len : new int[] {1, 6, 11}) out.add(Arguments.of(be, mode, hankelL, len));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} hankelL={2} L={3}")
    @MethodSource("gradientCases")
    void backwardMatchesFiniteDifferences(Backend be, Stu.Mode mode, boolean hankelL, int len) {
        long seed = SEED + len * 31L + (hankelL ? 7 : 0) + mode.ordinal();
        try (Model m = model(seed, mode, hankelL, len + 2, 3, 3, mode == Stu.Mode.APPROX ? 3 : 2, 2, 2);
                Tensor x = Tensor.random(DType.FLOAT64, seed, 2, len, 3)) {
            LayerChecks.assertGradients(m.layer(), be, x, seed, 1e-6, be.name() + " " + mode + " hankelL=" + hankelL + " L=" + len + " seed=" + seed);
        }
    }

    @Test
    void badInputNamesTheLayerArgumentAndShapes() {
        try (Model m = model(1, Stu.Mode.APPROX, false, 8, 2, 3, 3, 0, 0); Tensor x = Tensor.random(DType.FLOAT64, 1, 1, 8, 4)) {
            LongConvException e = assertThrows(LongConvException.class, () -> m.layer().forward(LayerChecks.backends().get(0), x));
            assertTrue(e.getMessage().startsWith("stu: argument x: expected shape [B, L>=1, D=3] (BLD), got [1, 8, 4]"), e.getMessage());
        }
        try (Tensor phi = Tensor.zeros(DType.FLOAT64, 8, 2); Tensor mi = Tensor.zeros(DType.FLOAT64, 3, 3); Tensor mf = Tensor.zeros(DType.FLOAT64, 3, 3)) {
            LongConvException e = assertThrows(LongConvException.class,
                    () -> new Stu(new Stu.Config(Stu.Mode.APPROX, false), phi, Map.of("M_inputs", mi, "M_filters", mf)));
            assertTrue(e.getMessage().contains("M_filters") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 3]"), e.getMessage());
        }
    }
}
