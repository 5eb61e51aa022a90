package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tensors in a confined arena (only the owner thread may touch them) work on every backend at every size: the
 * vector backend keeps such calls on the caller's thread instead of handing tasks to pool workers, which would get a
 * WrongThreadException once a shape is large enough to be split.
 */
class ConfinedArenaTest {
    private static Tensor confined(Arena arena, Tensor shared) {
        Tensor t = Tensor.zeros(arena, shared.dtype(), shared.shape());
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, shared.getFlat(i));
        return t;
    }

    private static void same(String what, Function<Tensor[], Tensor> op, Tensor... args) {
        try (Arena arena = Arena.ofConfined(); Tensor expected = op.apply(args)) {
            Tensor[] conf = new Tensor[args.length];
            for (int i = 0; i < args.length; i++) conf[i] = args[i] == null ? null : confined(arena, args[i]);
            try (Tensor actual = op.apply(conf)) {
                assertEquals(0.0, Compare.relL2(actual, expected), what);
            }
        }
    }

    @Test
    void everyOpAndPlanRunsOnConfinedTensors() {
        for (Backend be : TestBackends.cpu()) {
            DType dt = DType.FLOAT32;
            int b = 2, d = 40, len = 2048;
            try (Tensor x = Tensor.random(dt, 1, b, d, len); Tensor k = Tensor.random(dt, 2, d, len); Tensor kt = Tensor.random(dt, 3, d, 2 * len - 1);
                 Tensor w = Tensor.random(dt, 4, d, 7); Tensor kr = Tensor.random(dt, 5, d, 127); Tensor a = Tensor.random(dt, 6, 300, 200);
                 Tensor bm = Tensor.random(dt, 7, 200, 100); Tensor gy = Tensor.random(dt, 8, b, d, len)) {
                String n = be.name() + " ";
                same(n + "causal-conv", t -> be.causalConv(t[0], t[1], Layout.BDL), x, k);
                same(n + "toeplitz-conv", t -> be.toeplitzConv(t[0], t[1], Layout.BDL), x, kt);
                same(n + "short-conv", t -> be.shortConv(t[0], t[1], null, ShortConvMode.CAUSAL, Layout.BDL), x, w);
                same(n + "ski", t -> be.ski(t[0], t[1], Layout.BDL), x, kr);
                same(n + "rfft", t -> be.rfft(t[0], 2048), x);
                same(n + "gemm", t -> be.gemm(t[0], t[1], false, false), a, bm);
                same(n + "short-conv backward dx", t -> {
                    try (Grads g = be.shortConvBackward(t[0], t[1], null, ShortConvMode.CAUSAL, t[2], Layout.BDL)) {
                        return g.dx().copy();
                    }
                }, x, w, gy);
                same(n + "ski backward dx", t -> {
                    try (Grads g = be.skiBackward(t[0], t[1], t[2], Layout.BDL)) {
                        return g.dx().copy();
                    }
                }, x, kr, gy);
                same(n + "plan into a confined output", t -> {
                    try (ConvPlan p = be.causalConvPlan(k, len, Layout.BDL)) {
                        p.applyGatedInto(t[0], t[1], null, null, t[2], Layout.BDL);
                        return t[2].copy();
                    }
                }, x, gy, Tensor.zeros(dt, b, d, len));
                same(n + "stream bulk", t -> {
                    try (CausalStream s = be.causalStream(t[1], b, Layout.BDL)) {
                        return s.push(t[0]);
                    }
                }, x, k);
            }
        }
    }
}
