package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.testing.Compare;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The serving path against the forward: a prepared layer gives forward's output (1e-6 float32, 1e-12 float64), and a
 * session fed any split of a sequence (prefill of 0, 1 or more steps, blocks and single steps) gives, at every step,
 * the forward of the whole sequence at that step (1e-5 float32, 1e-10 float64); a forked session continues on its own.
 */
class ServingTest {
    static final long SEED = TnnTestSupport.SEED + 17;

    /**
     * A layer under test: its input is [B, L, channels] (lengthAxis 1) or [B, heads, L, channels] (lengthAxis 2);
     * causal layers have sessions.
     */
    record Subject(String name, Layer layer, int heads, int channels, boolean causal, Runnable owner) implements AutoCloseable {
        long[] shape(int b, int len) {
            return heads == 0 ? new long[] {b, len, channels} : new long[] {b, heads, len, channels};
        }

        int lengthAxis() {
            return heads == 0 ? 1 : 2;
        }

        @Override
        public String toString() {
            return name;
        }

        @Override
        public void close() {
            owner.run();
        }
    }

    static List<Subject> subjects(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Subject> out = new ArrayList<>();
        for (Stu.Mode mode : Stu.Mode.values()) {
            for (boolean hankelL : new boolean[] {false, true}) {
                for (int ar = 0; ar < 2; ar++) {
                    int d = 2 + rng.nextInt(5), dOut = mode == Stu.Mode.APPROX ? d : 1 + rng.nextInt(6);
                    StuTest.Model m = StuTest.model(rng.nextLong(), mode, hankelL, 60 + rng.nextInt(50), 1 + rng.nextInt(4), d, dOut,
                            ar == 1 ? 1 + rng.nextInt(3) : 0, ar == 1 ? 1 + rng.nextInt(2) : 0);
                    out.add(new Subject("stu " + mode + (hankelL ? " hankel-L" : "") + (ar == 1 ? " ar" : "") + " D=" + d, m.layer(), 0, d, true, m::close));
                }
            }
        }
        for (int index = 0; index < 6; index++) {
            int h = 1 + rng.nextInt(3), dim = 1 + rng.nextInt(4);
            Tno.Config c = TnoTest.randomConfig(rng, index, h, dim);
            Map<String, Tensor> sd = TnoTest.stateDict(c, "", DType.FLOAT64, rng.nextLong());
            out.add(new Subject("tno " + (c.causal() ? "causal" : "bidirectional") + " par_type=" + c.parType() + (c.normalize() ? " normalize" : "")
                    + (c.hasDecay() ? " decay" : ""), new Tno(c, sd), h, dim, c.causal(), () -> TnnTestSupport.closeAll(sd)));
        }
        for (int index = 0; index < 6; index++) {
            Gtu.Config c = GtuTest.randomConfig(rng, index);
            Map<String, Tensor> sd = GtuTest.stateDict(c, DType.FLOAT64, rng.nextLong());
            out.add(new Subject("gtu " + (c.causal() ? "causal" : "bidirectional") + (c.useNorm() ? " norm" : "") + (c.normalize() ? " normalize" : ""),
                    new Gtu(c, sd), 0, c.embedDim(), c.causal(), () -> TnnTestSupport.closeAll(sd)));
        }
        for (int index = 0; index < 4; index++) {
            int h = 1 + rng.nextInt(3), dim = 1 + rng.nextInt(3);
            FdTno.Config c = FdTnoTest.randomConfig(rng, index, h, dim);
            Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTno.shapes(c, ""), DType.FLOAT64, rng.nextLong());
            out.add(new Subject("fd-tno " + (c.causal() ? "causal" : "bidirectional") + " " + c.grid(), new FdTno(c, sd), h, dim, c.causal(),
                    () -> TnnTestSupport.closeAll(sd)));
        }
        for (SkiTnnOperatorsTest.Kind kind : new SkiTnnOperatorsTest.Kind[] {SkiTnnOperatorsTest.Kind.RPE, SkiTnnOperatorsTest.Kind.INV_TIME}) {
            for (boolean causal : new boolean[] {false, true}) {
                SkiTnnOperatorsTest.Case k = new SkiTnnOperatorsTest.Case(TnnTestSupport.backends().get(0), kind, rng.nextLong(), DType.FLOAT64, 1, 2,
                        causal, 1 + rng.nextInt(3), 1 + rng.nextInt(3), 2 + rng.nextInt(6), 1 + rng.nextInt(6));
                @SuppressWarnings("unchecked") Map<String, Tensor>[] sd = new Map[1];
                Layer layer = SkiTnnOperatorsTest.build(k, sd);
                // x [B, L, H·dim] as upstream's; no sessions (ski-tnn's operators have none here)
                out.add(new Subject("ski-tno " + kind + (causal ? " causal" : " bidirectional"), layer, 0, k.h() * k.dim(), false,
                        () -> TnnTestSupport.closeAll(sd[0])));
            }
        }
        for (Gtu.TnoType type : Gtu.TnoType.values()) {
            if (type == Gtu.TnoType.TNO) continue;
            Gtu.Config c = GtuTest.skiTnnConfig(rng, type, rng.nextBoolean(), false);
            Map<String, Tensor> sd = GtuTest.skiTnnStateDict(c, DType.FLOAT64, rng.nextLong());
            out.add(new Subject("gtu " + type.key() + (c.causal() ? " causal" : ""), new Gtu(c, sd), 0, c.embedDim(), c.causal() && !type.ski(),
                    () -> TnnTestSupport.closeAll(sd)));
        }
        return out;
    }

    /** 2 for ski-tnn's bidirectional low-rank operators (upstream's weights divide by L - 1), else 1. */
    static int minLength(Layer layer) {
        if (layer instanceof SparseLowRankTno t) return t.shape.causal() ? 1 : 2;
        if (layer instanceof Gtu g) return g.config().tnoType().ski() && !g.config().causal() ? 2 : 1;
        return 1;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(SEED);
        for (Backend be : TnnTestSupport.backends()) {
            for (DType dt : DType.values()) {
                for (int i = 0; i < subjects(0).size(); i++) out.add(Arguments.of(be, dt, i, rng.nextLong()));
            }
        }
        return out.stream();
    }

    private static Tensor input(Subject s, DType dt, int b, int len, long seed) {
        return Tensor.random(dt, seed, s.shape(b, len));
    }

    @ParameterizedTest(name = "{0} {1} subject {2}")
    @MethodSource("cases")
    void preparedLayersGiveTheForward(Backend be, DType dt, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        try (Subject s = subjects(seed).get(index)) {
            int len = Math.max(minLength(s.layer()), 1 + rng.nextInt(97)), b = 1 + rng.nextInt(2);
            try (Tensor x = input(s, dt, b, len, rng.nextLong()); Tensor want = s.layer().forward(be, x);
                 PreparedLayer p = s.layer().prepare(be, dt, len); Tensor got = p.forward(x); Tensor again = p.forward(x)) {
                double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-12;
                double err = Compare.relL2(got, want);
                assertTrue(err <= tol, be.name() + " " + dt + " " + s + " L=" + len + " seed=" + seed + ": prepared vs forward " + err);
                assertEquals(0.0, Compare.relL2(again, got), "a prepared layer is reusable");
                long[] os = s.layer().outputShape(x.shape()), wide = os.clone();
                int last = os.length - 1;
                wide[last] *= 2;
                try (Tensor big = Tensor.zeros(dt, wide); Tensor strided = big.slice(last, 0, os[last])) {
                    p.forwardInto(x, strided);
                    assertEquals(0.0, Compare.relL2(strided, got), "a prepared layer writes a strided y");
                }
                assertThrows(LongConvException.class, () -> p.forward(input(s, dt, b, len + 1, 1)), "the prepared length");
            }
        }
    }

    /** One prepared layer called with alternating batch sizes, then from two threads at once: every call gives the same bits. */
    @ParameterizedTest(name = "{0} {1} subject {2}")
    @MethodSource("cases")
    void preparedLayersServeSeveralBatchSizesAndThreads(Backend be, DType dt, int index, long seed) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        try (Subject s = subjects(seed).get(index)) {
            int len = Math.max(minLength(s.layer()), 1 + rng.nextInt(40));
            try (PreparedLayer p = s.layer().prepare(be, dt, len); Tensor x1 = input(s, dt, 1, len, rng.nextLong());
                 Tensor x3 = input(s, dt, 3, len, rng.nextLong()); Tensor want1 = p.forward(x1); Tensor want3 = p.forward(x3)) {
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    List<Future<Double>> calls = new ArrayList<>();
                    for (int i = 0; i < 12; i++) {
                        boolean one = i % 3 != 2;
                        calls.add(pool.submit(() -> {
                            try (Tensor y = p.forward(one ? x1 : x3)) {
                                return Compare.relL2(y, one ? want1 : want3);
                            }
                        }));
                    }
                    for (Future<Double> f : calls) assertEquals(0.0, f.get(), be.name() + " " + dt + " " + s + " L=" + len + " seed=" + seed);
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} subject {2}")
    @MethodSource("cases")
    void sessionsGiveTheForwardAtEveryStep(Backend be, DType dt, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        try (Subject s = subjects(seed).get(index)) {
            if (!s.causal()) {
                assertThrows(LongConvException.class, () -> s.layer().session(be, dt, 1, 8).close(), s + " has no session");
                return;
            }
            int len = 2 + rng.nextInt(120), b = 1 + rng.nextInt(2);
            int prefill = switch (rng.nextInt(4)) {
                case 0 -> 0;
                case 1 -> 1;
                default -> rng.nextInt(len);
            };
            try (Tensor x = input(s, dt, b, len, rng.nextLong()); Tensor want = s.layer().forward(be, x);
                 LayerSession session = s.layer().session(be, dt, b, len)) {
                double tol = dt == DType.FLOAT32 ? 1e-5 : 1e-10;
                try (Tensor got = feed(session, x, prefill, rng, 0, len, s.lengthAxis())) {
                    double err = Compare.relL2(got, want);
                    assertTrue(err <= tol, be.name() + " " + dt + " " + s + " L=" + len + " prefill=" + prefill + " seed=" + seed + ": session vs forward " + err);
                }
                assertEquals(len, session.position());
                assertThrows(LongConvException.class, () -> session.step(stepOf(x, 0, s.lengthAxis())), "past maxLength");
                // fork half way, continue both: each equals the forward
                session.reset();
                int half = len / 2;
                int ax = s.lengthAxis();
                feed(session, x, half, rng, 0, half, ax).close();
                try (LayerSession fork = session.copy();
                     Tensor rest = feed(fork, x, -1, rng, half, len, ax); Tensor rest2 = feed(session, x, -1, rng, half, len, ax)) {
                    double err = Compare.relL2(rest, want.slice(ax, half, len)), err2 = Compare.relL2(rest2, want.slice(ax, half, len));
                    assertTrue(err <= tol && err2 <= tol, s + " forked " + err + " original " + err2);
                }
            }
        }
    }

    /** Steps [from, to) of x through the session: a prefill (when prefill >= 0), then random blocks and single steps. */
    static Tensor feed(LayerSession session, Tensor x, int prefill, SplittableRandom rng, int from, int to, int axis) {
        List<Tensor> parts = new ArrayList<>();
        int t = from;
        if (prefill >= 0) {
            parts.add(session.prefill(x.slice(axis, from, from + prefill)));
            t = from + prefill;
        }
        while (t < to) {
            if (rng.nextInt(3) == 0) {
                try (Tensor xs = stepOf(x, t, axis); Tensor ys = session.step(xs)) {
                    long[] shape = ys.shape(), block = new long[shape.length + 1];
                    for (int i = 0, j = 0; i < block.length; i++) block[i] = i == axis ? 1 : shape[j++];
                    parts.add(ys.reshape(block).copy());
                }
                t++;
            } else {
                int c = Math.min(to - t, 1 + rng.nextInt(20));
                parts.add(session.push(x.slice(axis, t, t + c)));
                t += c;
            }
        }
        long[] shape = parts.get(0).shape();
        shape[axis] = to - from;
        Tensor y = Tensor.zeros(x.dtype(), shape);
        long at = 0;
        for (Tensor p : parts) {
            long c = p.dim(axis);
            Tensor dst = y.slice(axis, at, at + c);
            for (long i = 0, n = p.numel(); i < n; i++) dst.setFlat(i, p.getFlat(i));
            at += c;
            p.close();
        }
        return y;
    }

    /** Step t of x (the length axis removed), a new tensor. */
    static Tensor stepOf(Tensor x, long t, int axis) {
        long[] s = x.shape(), o = new long[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) if (i != axis) o[j++] = s[i];
        try (Tensor v = x.slice(axis, t, t + 1).contiguous()) {
            return v.reshape(o).copy();
        }
    }
}
