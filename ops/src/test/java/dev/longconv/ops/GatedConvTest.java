package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** y = post * conv(pre * x) + skip * x: the reference against plain ops, every backend's plan against the reference. */
class GatedConvTest {
    static final long SEED = Long.getLong("longconv.test.seed", 77L);

    @Test
    void referenceIsTheCompositionOfPlainOps() {
        try (Tensor x = Tensor.random(DType.FLOAT64, SEED, 2, 3, 11); Tensor k = Tensor.random(DType.FLOAT64, SEED + 1, 3, 5);
             Tensor pre = Tensor.random(DType.FLOAT64, SEED + 2, 2, 3, 11); Tensor post = Tensor.random(DType.FLOAT64, SEED + 3, 2, 3, 11);
             Tensor skip = Tensor.random(DType.FLOAT64, SEED + 4, 3); Tensor px = Tensor.zeros(DType.FLOAT64, 2, 3, 11)) {
            for (long i = 0; i < px.numel(); i++) px.setFlat(i, pre.getFlat(i) * x.getFlat(i));
            try (Tensor c = Reference.causalConv(px, k, Layout.BDL); Tensor g = Reference.gatedCausalConv(x, k, pre, post, skip, Layout.BDL);
                 Tensor plain = Reference.causalConv(x, k, Layout.BDL); Tensor none = Reference.gatedCausalConv(x, k, null, null, null, Layout.BDL)) {
                for (int b = 0; b < 2; b++) {
                    for (int d = 0; d < 3; d++) {
                        for (int t = 0; t < 11; t++) {
                            double e = post.get(b, d, t) * c.get(b, d, t) + skip.get(d) * x.get(b, d, t);
                            assertEquals(e, g.get(b, d, t), 1e-12);
                        }
                    }
                }
                assertEquals(0, Compare.relL2(none, plain), "no gates, no skip: plain causal-conv");
            }
        }
    }

    @Test
    void everyBackendsPlanMatchesTheReference() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (Backend be : BackendTest.backends()) {
            for (DType dt : DType.values()) {
                if (!BackendTest.runs(be, dt)) continue;
                for (Layout lay : Layout.values()) {
                    for (int len : new int[] {1, 7, 97, 1000}) {
                        for (int mask = 0; mask < 8; mask++) {
                            long s = r.nextLong();
                            int b = 1 + r.nextInt(2), d = 1 + r.nextInt(13), lk = mask % 2 == 0 ? Math.min(3, len) : len;
                            long[] xs = lay.seqShape(b, d, len);
                            String what = BackendTest.label(be) + " " + dt + " " + lay + " L=" + len + " Lk=" + lk + " gates=" + mask + " seed=" + s;
                            try (Tensor x = Tensor.random(dt, s, xs); Tensor k = Tensor.random(dt, s + 1, lay.kernelShape(d, lk));
                                 Tensor pre = (mask & 1) != 0 ? Tensor.random(dt, s + 2, xs) : null;
                                 Tensor post = (mask & 2) != 0 ? Tensor.random(dt, s + 3, xs) : null;
                                 Tensor skip = (mask & 4) != 0 ? Tensor.random(dt, s + 4, d) : null;
                                 Tensor y = Tensor.zeros(dt, xs);
                                 Tensor ref = Reference.gatedCausalConv(x, k, pre, post, skip, lay)) {
                                try (ConvPlan plan = be.causalConvPlan(k, len, lay)) {
                                    plan.applyGatedInto(x, pre, post, skip, y, lay);
                                }
                                Compare.assertClose(y, ref, dt, what);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void badGatesAreRejected() {
        for (Backend be : BackendTest.backends()) {
            try (Tensor x = Tensor.random(DType.FLOAT32, SEED, 1, 4, 16); Tensor k = Tensor.random(DType.FLOAT32, SEED, 4, 16);
                 Tensor badPre = Tensor.random(DType.FLOAT32, SEED, 1, 4, 15); Tensor badSkip = Tensor.random(DType.FLOAT32, SEED, 5);
                 Tensor y = Tensor.zeros(DType.FLOAT32, 1, 4, 16)) {
                ConvPlan plan = be.causalConvPlan(k, 16, Layout.BDL);
                var e = assertThrows(LongConvException.class, () -> plan.applyGatedInto(x, badPre, null, null, y, Layout.BDL));
                assertEquals("pregate", e.argument());
                e = assertThrows(LongConvException.class, () -> plan.applyGatedInto(x, null, null, badSkip, y, Layout.BDL));
                assertTrue(e.getMessage().contains("[D=4]"), e.getMessage());
            }
        }
    }
}
