package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Causal streams against the one-shot float64 reference: random splits of one sequence into prefill, pushes and
 * steps (prefills of 0, 1, Lk-1, Lk, Lk+1; prime lengths; both layouts; gates on and off; B > 1) on every CPU
 * backend, at kernel lengths on both sides of the direct/partitioned switch.
 */
class CausalStreamTest {
    static final long SEED = Long.getLong("longconv.test.seed", 20261206L);

    record Case(Backend backend, DType dtype, Layout layout, int batch, int channels, int taps, int total, int prefill, boolean gated,
                long seed) {
        @Override
        public String toString() {
            return backend.name() + " " + dtype + " " + layout + " B=" + batch + " D=" + channels + " Lk=" + taps + " T=" + total
                    + " prefill=" + prefill + (gated ? " gated" : "") + " seed=" + seed;
        }
    }

    static Stream<Arguments> cases() {
        SplittableRandom rng = new SplittableRandom(SEED);
        List<Arguments> out = new ArrayList<>();
        int[] taps = {1, 7, 31, 64, 97, 257, 300, 701};
        for (Backend be : TestBackends.cpu()) {
            for (DType dt : DType.values()) {
                for (int lk : taps) {
                    for (int pf : new int[] {-1, 0, 1, lk - 1, lk, lk + 1}) {
                        Layout lay = rng.nextBoolean() ? Layout.BDL : Layout.BLD;
                        int total = Math.max(pf, 0) + 1 + rng.nextInt(2 * lk + 40);
                        int d = 1 + rng.nextInt(dt == DType.FLOAT32 ? 37 : 5);
                        out.add(Arguments.of(new Case(be, dt, lay, 1 + rng.nextInt(3), d, lk, total, pf, rng.nextInt(3) == 0, rng.nextLong())));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void randomSplitsEqualTheOneShotConvolution(Case c) {
        SplittableRandom rng = new SplittableRandom(c.seed);
        long[] shape = c.layout.seqShape(c.batch, c.channels, c.total);
        try (Tensor x = Tensor.random(c.dtype, rng.nextLong(), shape);
             Tensor k = Tensor.random(c.dtype, rng.nextLong(), c.layout.kernelShape(c.channels, c.taps));
             Tensor pre = c.gated ? Tensor.random(c.dtype, rng.nextLong(), shape) : null;
             Tensor post = c.gated ? Tensor.random(c.dtype, rng.nextLong(), shape) : null;
             Tensor skip = c.gated ? Tensor.random(c.dtype, rng.nextLong(), c.channels) : null;
             CausalStream s = c.backend.causalStream(k, c.batch, c.layout)) {
            var pieces = StreamCheck.randomSplit(rng, c.total, c.prefill, 1 + rng.nextInt(3 * c.taps + 20));
            double err = StreamCheck.error(s, pieces, x, k, pre, post, skip, c.layout);
            double tol = Compare.tolerance(c.dtype);
            assertTrue(err <= tol, c + " " + s.describe() + ": relative L2 " + err + " > " + tol + " over " + pieces);
            assertEquals(c.total, s.position());
        }
    }

    /** A forked stream continues on its own: both branches equal the one-shot result of their own sequences. */
    @Test
    void aCopyContinuesIndependently() {
        for (Backend be : TestBackends.cpu()) {
            for (int lk : new int[] {5, 300}) {
                SplittableRandom rng = new SplittableRandom(SEED + lk);
                int d = 20, head = lk + 13, tail = 2 * lk + 3;
                try (Tensor k = Tensor.random(DType.FLOAT32, rng.nextLong(), d, lk);
                     Tensor common = Tensor.random(DType.FLOAT32, rng.nextLong(), 1, d, head);
                     Tensor a = Tensor.random(DType.FLOAT32, rng.nextLong(), 1, d, tail);
                     Tensor b = Tensor.random(DType.FLOAT32, rng.nextLong(), 1, d, tail);
                     CausalStream s = be.causalStream(k, 1, Layout.BDL)) {
                    s.prefill(common).close();
                    try (CausalStream fork = s.copy()) {
                        assertEquals(head, fork.position());
                        try (Tensor ya = s.push(a); Tensor yb = fork.push(b);
                             Tensor xa = concat(common, a); Tensor xb = concat(common, b);
                             Tensor ra = Reference.causalConv(xa, k, Layout.BDL); Tensor rb = Reference.causalConv(xb, k, Layout.BDL)) {
                            Compare.assertClose(ya, ra.slice(2, head, head + tail), DType.FLOAT32, be.name() + " Lk=" + lk + " original");
                            Compare.assertClose(yb, rb.slice(2, head, head + tail), DType.FLOAT32, be.name() + " Lk=" + lk + " fork");
                        }
                    }
                    s.reset();
                    assertEquals(0, s.position());
                    try (Tensor y = s.push(a); Tensor r = Reference.causalConv(a, k, Layout.BDL)) {
                        Compare.assertClose(y, r, DType.FLOAT32, be.name() + " after reset");
                    }
                }
            }
        }
    }

    private static Tensor concat(Tensor a, Tensor b) {
        long la = a.dim(2), lb = b.dim(2);
        Tensor r = Tensor.zeros(a.dtype(), a.dim(0), a.dim(1), la + lb);
        for (int d = 0; d < a.dim(1); d++) {
            for (long t = 0; t < la; t++) r.set(a.get(0, d, t), 0, d, t);
            for (long t = 0; t < lb; t++) r.set(b.get(0, d, t), 0, d, la + t);
        }
        return r;
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        for (Backend be : TestBackends.cpu()) {
            try (Tensor k = Tensor.random(DType.FLOAT32, 1, 4, 9); CausalStream s = be.causalStream(k, 2, Layout.BDL);
                 Tensor wrong = Tensor.zeros(DType.FLOAT32, 2, 5); Tensor x = Tensor.zeros(DType.FLOAT32, 2, 4);
                 Tensor x64 = Tensor.zeros(DType.FLOAT64, 2, 4); Tensor block = Tensor.zeros(DType.FLOAT32, 2, 4, 3)) {
                var e = assertThrows(LongConvException.class, () -> s.step(wrong));
                assertEquals("x", e.argument());
                assertTrue(e.getMessage().contains("[B=2, D=4]"), e.getMessage());
                assertThrows(LongConvException.class, () -> s.step(x64));
                assertThrows(LongConvException.class, () -> s.push(x));
                s.step(x).close();
                e = assertThrows(LongConvException.class, () -> s.prefill(block));
                assertTrue(e.getMessage().contains("position 1"), e.getMessage());
                assertThrows(LongConvException.class, () -> be.causalStream(k, 0, Layout.BDL));
                try (Tensor rank1 = Tensor.zeros(DType.FLOAT32, 9)) {
                    assertThrows(LongConvException.class, () -> be.causalStream(rank1, 1, Layout.BDL));
                }
            }
        }
    }
}
