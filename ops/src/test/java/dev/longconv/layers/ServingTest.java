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
import java.util.SplittableRandom;
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

    /** A layer under test: how to build it, the shape of one step and of a block. */
    record Subject(String name, Layer layer, int channels, AutoCloseable owner) implements AutoCloseable {
        @Override
        public String toString() {
            return name;
        }

        @Override
        public void close() throws Exception {
            owner.close();
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
                    out.add(new Subject("stu " + mode + (hankelL ? " hankel-L" : "") + (ar == 1 ? " ar" : "") + " D=" + d, m.layer(), d, m));
                }
            }
        }
        return out;
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
        return Tensor.random(dt, seed, b, len, s.channels());
    }

    @ParameterizedTest(name = "{0} {1} subject {2}")
    @MethodSource("cases")
    void preparedLayersGiveTheForward(Backend be, DType dt, int index, long seed) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        try (Subject s = subjects(seed).get(index)) {
            int len = 1 + rng.nextInt(97), b = 1 + rng.nextInt(2);
            try (Tensor x = input(s, dt, b, len, rng.nextLong()); Tensor want = s.layer().forward(be, x);
                 PreparedLayer p = s.layer().prepare(be, dt, len); Tensor got = p.forward(x); Tensor again = p.forward(x)) {
                double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-12;
                double err = Compare.relL2(got, want);
                assertTrue(err <= tol, be.name() + " " + dt + " " + s + " L=" + len + " seed=" + seed + ": prepared vs forward " + err);
                assertEquals(0.0, Compare.relL2(again, got), "a prepared layer is reusable");
                assertThrows(LongConvException.class, () -> p.forward(input(s, dt, b, len + 1, 1)), "the prepared length");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} subject {2}")
    @MethodSource("cases")
    void sessionsGiveTheForwardAtEveryStep(Backend be, DType dt, int index, long seed) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        try (Subject s = subjects(seed).get(index)) {
            int len = 2 + rng.nextInt(120), b = 1 + rng.nextInt(2);
            int prefill = switch (rng.nextInt(4)) {
                case 0 -> 0;
                case 1 -> 1;
                default -> rng.nextInt(len);
            };
            try (Tensor x = input(s, dt, b, len, rng.nextLong()); Tensor want = s.layer().forward(be, x);
                 LayerSession session = s.layer().session(be, dt, b, len)) {
                double tol = dt == DType.FLOAT32 ? 1e-5 : 1e-10;
                try (Tensor got = feed(session, x, prefill, rng, 0, len)) {
                    double err = Compare.relL2(got, want);
                    assertTrue(err <= tol, be.name() + " " + dt + " " + s + " L=" + len + " prefill=" + prefill + " seed=" + seed + ": session vs forward " + err);
                }
                assertEquals(len, session.position());
                assertThrows(LongConvException.class, () -> session.step(stepOf(x, 0)), "past maxLength");
                // fork half way, continue both: each equals the forward
                session.reset();
                int half = len / 2;
                try (Tensor head = feed(session, x, half, rng, 0, half); LayerSession fork = session.copy();
                     Tensor rest = feed(fork, x, -1, rng, half, len); Tensor rest2 = feed(session, x, -1, rng, half, len)) {
                    double err = Compare.relL2(rest, want.slice(1, half, len)), err2 = Compare.relL2(rest2, want.slice(1, half, len));
                    assertTrue(err <= tol && err2 <= tol, s + " forked " + err + " original " + err2);
                }
            }
        }
    }

    /** Steps [from, to) of x through the session: a prefill (when prefill >= 0), then random blocks and single steps. */
    static Tensor feed(LayerSession session, Tensor x, int prefill, SplittableRandom rng, int from, int to) {
        long[] shape = x.shape();
        shape[1] = to - from;
        Tensor y = null;
        int t = from;
        List<Tensor> parts = new ArrayList<>();
        if (prefill >= 0) {
            parts.add(session.prefill(x.slice(1, from, from + prefill)));
            t = from + prefill;
        }
        while (t < to) {
            if (rng.nextInt(3) == 0) {
                try (Tensor xs = stepOf(x, t); Tensor ys = session.step(xs)) {
                    parts.add(ys.reshape(ys.dim(0), 1, ys.dim(1)).copy());
                }
                t++;
            } else {
                int c = Math.min(to - t, 1 + rng.nextInt(20));
                parts.add(session.push(x.slice(1, t, t + c)));
                t += c;
            }
        }
        long outChannels = parts.get(0).dim(2);
        y = Tensor.zeros(x.dtype(), shape[0], to - from, outChannels);
        long at = 0;
        for (Tensor p : parts) {
            for (int b = 0; b < p.dim(0); b++) for (long i = 0; i < p.dim(1); i++) for (long o = 0; o < outChannels; o++) y.set(p.get(b, i, o), b, at + i, o);
            at += p.dim(1);
            p.close();
        }
        return y;
    }

    static Tensor stepOf(Tensor x, long t) {
        try (Tensor s = x.slice(1, t, t + 1).contiguous()) {
            return s.reshape(x.dim(0), x.dim(2)).copy();
        }
    }

}
