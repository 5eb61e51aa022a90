package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backward of every conv op: the float64 reference against finite differences of the float64 forward,
 * then every backend against the reference at seeded random shapes (both layouts, both dtypes).
 */
class BackwardTest {
    static final long SEED = Long.getLong("longconv.test.seed", 404L);

    // ---------------------------------------------------------------- reference vs finite differences

    /** <a, b> over all elements. */
    static double dot(Tensor a, Tensor b) {
        double s = 0;
        for (long i = 0; i < a.numel(); i++) s += a.getFlat(i) * b.getFlat(i);
        return s;
    }

    /** t + h v as a new float64 tensor. */
    static Tensor step(Tensor t, Tensor v, double h) {
        Tensor r = t.to(DType.FLOAT64);
        for (long i = 0; i < r.numel(); i++) r.setFlat(i, t.getFlat(i) + h * v.getFlat(i));
        return r;
    }

    /**
     * The directional derivative of f(p) = <gy, y(p)> along v by central differences must equal <grad, v>.
     * The ops are linear in each argument, so the difference quotient is exact up to rounding.
     */
    static void checkDirectional(String what, Tensor p, Tensor grad, Function<Tensor, Tensor> y, Tensor gy, long seed) {
        try (Tensor v = Tensor.random(DType.FLOAT64, seed, p.shape()); Tensor pp = step(p, v, 1e-3); Tensor pm = step(p, v, -1e-3);
             Tensor yp = y.apply(pp); Tensor ym = y.apply(pm)) {
            double fd = (dot(gy, yp) - dot(gy, ym)) / 2e-3, an = dot(grad, v);
            assertTrue(Math.abs(fd - an) <= 1e-9 * Math.max(1, Math.abs(fd)), what + ": finite difference " + fd + " vs gradient " + an + " seed=" + seed);
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (Layout lay : Layout.values()) {
            for (int len : new int[] {1, 2, 7, 16}) {
                long s = r.nextLong();
                int b = 2, d = 3, lk = 1 + r.nextInt(len + 3), w = 3, rr = 3;
                try (Tensor x = Tensor.random(DType.FLOAT64, s, lay.seqShape(b, d, len)); Tensor gy = Tensor.random(DType.FLOAT64, s + 1, lay.seqShape(b, d, len));
                     Tensor k = Tensor.random(DType.FLOAT64, s + 2, lay.kernelShape(d, lk)); Tensor kt = Tensor.random(DType.FLOAT64, s + 3, lay.kernelShape(d, 2L * len - 1));
                     Tensor wt = Tensor.random(DType.FLOAT64, s + 4, lay.kernelShape(d, w)); Tensor bias = Tensor.random(DType.FLOAT64, s + 5, d);
                     Tensor kr = Tensor.random(DType.FLOAT64, s + 6, lay.kernelShape(d, 2L * rr - 1))) {
                    String c = lay + " L=" + len;
                    try (Grads g = Reference.causalConvBackward(x, k, gy, lay)) {
                        checkDirectional("causal-conv dx " + c, x, g.dx(), xx -> Reference.causalConv(xx, k, lay), gy, s + 7);
                        checkDirectional("causal-conv dk " + c, k, g.dk(), kk -> Reference.causalConv(x, kk, lay), gy, s + 8);
                    }
                    try (Grads g = Reference.toeplitzConvBackward(x, kt, gy, lay)) {
                        checkDirectional("toeplitz-conv dx " + c, x, g.dx(), xx -> Reference.toeplitzConv(xx, kt, lay), gy, s + 9);
                        checkDirectional("toeplitz-conv dk " + c, kt, g.dk(), kk -> Reference.toeplitzConv(x, kk, lay), gy, s + 10);
                    }
                    for (ShortConvMode m : ShortConvMode.values()) {
                        try (Grads g = Reference.shortConvBackward(x, wt, bias, m, gy, lay)) {
                            checkDirectional("short-conv dx " + m + " " + c, x, g.dx(), xx -> Reference.shortConv(xx, wt, bias, m, lay), gy, s + 11);
                            checkDirectional("short-conv dw " + m + " " + c, wt, g.dk(), ww -> Reference.shortConv(x, ww, bias, m, lay), gy, s + 12);
                            checkDirectional("short-conv dbias " + m + " " + c, bias, g.dbias(), bb -> Reference.shortConv(x, wt, bb, m, lay), gy, s + 13);
                        }
                    }
                    try (Grads g = Reference.skiBackward(x, kr, gy, lay)) {
                        checkDirectional("ski dx " + c, x, g.dx(), xx -> Reference.ski(xx, kr, lay), gy, s + 14);
                        checkDirectional("ski dkr " + c, kr, g.dk(), kk -> Reference.ski(x, kk, lay), gy, s + 15);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- backends vs reference

    record Case(Backend backend, long seed, DType dtype, Layout layout, int batch, int channels, int length) {
        @Override
        public String toString() {
            return BackendTest.label(backend) + " seed=" + seed + " " + dtype + " " + layout + " B=" + batch + " D=" + channels + " L=" + length;
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Backend be : BackendTest.backends()) {
            SplittableRandom r = new SplittableRandom(SEED);
            for (int len : new int[] {1, 3, 13, 64, 127, 300}) {
                for (DType dt : DType.values()) {
                    for (Layout lay : Layout.values()) {
                        Case c = new Case(be, r.nextLong(), dt, lay, 1 + r.nextInt(3), 1 + r.nextInt(11), len);
                        if (BackendTest.runs(be, dt)) out.add(c);
                    }
                }
            }
        }
        return out;
    }

    static void close(Grads g, Grads ref, Case c, String op) {
        try (g; ref) {
            Compare.assertClose(g.dx(), ref.dx(), c.dtype, op + " dx " + c);
            Compare.assertClose(g.dk(), ref.dk(), c.dtype, op + " dk " + c);
            if (ref.dbias() != null) Compare.assertClose(g.dbias(), ref.dbias(), c.dtype, op + " dbias " + c);
            else assertNull(g.dbias());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backendsMatchTheReference(Case c) {
        Layout lay = c.layout;
        long[] xs = lay.seqShape(c.batch, c.channels, c.length);
        SplittableRandom r = new SplittableRandom(c.seed);
        int lk = 1 + r.nextInt(c.length + 5), w = 1 + 2 * r.nextInt(4), rr = 2 + r.nextInt(6);
        try (Tensor x = Tensor.random(c.dtype, c.seed, xs); Tensor gy = Tensor.random(c.dtype, c.seed + 1, xs);
             Tensor k = Tensor.random(c.dtype, c.seed + 2, lay.kernelShape(c.channels, lk));
             Tensor kt = Tensor.random(c.dtype, c.seed + 3, lay.kernelShape(c.channels, 2L * c.length - 1));
             Tensor wt = Tensor.random(c.dtype, c.seed + 4, lay.kernelShape(c.channels, w)); Tensor bias = Tensor.random(c.dtype, c.seed + 5, c.channels);
             Tensor kr = Tensor.random(c.dtype, c.seed + 6, lay.kernelShape(c.channels, 2L * rr - 1))) {
            close(c.backend.causalConvBackward(x, k, gy, lay), Reference.causalConvBackward(x, k, gy, lay), c, "causal-conv Lk=" + lk);
            close(c.backend.toeplitzConvBackward(x, kt, gy, lay), Reference.toeplitzConvBackward(x, kt, gy, lay), c, "toeplitz-conv");
            for (ShortConvMode m : ShortConvMode.values()) {
                close(c.backend.shortConvBackward(x, wt, bias, m, gy, lay), Reference.shortConvBackward(x, wt, bias, m, gy, lay), c, "short-conv " + m);
                close(c.backend.shortConvBackward(x, wt, null, m, gy, lay), Reference.shortConvBackward(x, wt, null, m, gy, lay), c, "short-conv no bias " + m);
            }
            close(c.backend.skiBackward(x, kr, gy, lay), Reference.skiBackward(x, kr, gy, lay), c, "ski r=" + rr);
            // Enough inducing points for the vector backend's FFT route through T.
            int big = 64 + r.nextInt(40);
            try (Tensor krBig = Tensor.random(c.dtype, c.seed + 7, lay.kernelShape(c.channels, 2L * big - 1))) {
                close(c.backend.skiBackward(x, krBig, gy, lay), Reference.skiBackward(x, krBig, gy, lay), c, "ski r=" + big);
            }
        }
    }
}
