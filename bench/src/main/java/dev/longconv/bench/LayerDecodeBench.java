package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.layers.LayerSession;
import dev.longconv.layers.Stu;
import dev.longconv.layers.Tno;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Decoding one token at L = 8192 (B = 1, float32, vector backend): a layer session's step after a prefill of L/2,
 * against re-running the forward over the sequence for every token (timed at the full length, the last token's cost).
 * tokens/s = 10^6 / (us per op). Layers: STU approx (D = 768, K = 24, filters random: the cost does not depend on
 * their values) and causal TNO (H = 1, dim = 256, rpe_dim = 64, tnn-pytorch's defaults otherwise).
 * Run: java -jar bench/target/benchmarks.jar LayerDecodeBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
@State(Scope.Benchmark)
public class LayerDecodeBench {
    static final int L = 8192;

    @Param({"stu", "tno"})
    String layer;

    Backend be;
    final Map<String, Tensor> state = new LinkedHashMap<>();
    Tensor phi, x, token;
    dev.longconv.layers.Layer model;
    LayerSession session;

    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.get("vector");
        long seed = 1;
        if (layer.equals("stu")) {
            int d = 768, k = 24;
            state.put("M_inputs", Tensor.random(DType.FLOAT32, seed++, d, d));
            state.put("M_filters", Tensor.random(DType.FLOAT32, seed++, k, d));
            phi = Tensor.random(DType.FLOAT32, seed++, L, k);
            model = new Stu(new Stu.Config(Stu.Mode.APPROX, false), phi, state);
            x = Tensor.random(DType.FLOAT32, 5, 1, L, d);
            token = Tensor.random(DType.FLOAT32, 6, 1, d);
        } else {
            Tno.Config dflt = Tno.Config.defaults(1, 256, 64);
            Tno.Config c = new Tno.Config(1, 256, 64, true, dflt.useDecay(), dflt.useMultiDecay(), dflt.residual(), dflt.act(), dflt.parType(),
                    dflt.gamma(), dflt.bias(), dflt.actType(), dflt.layers(), dflt.normType(), dflt.normalize());
            for (Map.Entry<String, long[]> e : Tno.shapes(c, "").entrySet()) state.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
            model = new Tno(c, state);
            x = Tensor.random(DType.FLOAT32, 5, 1, 1, L, 256);
            token = Tensor.random(DType.FLOAT32, 6, 1, 1, 256);
        }
        session = model.session(be, DType.FLOAT32, 1, L);
        int axis = layer.equals("stu") ? 1 : 2;
        session.prefill(x.slice(axis, 0, L / 2)).close();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
        x.close();
        token.close();
        if (phi != null) phi.close();
        state.values().forEach(Tensor::close);
    }

    /** One token through the session. */
    @Benchmark
    public Tensor sessionStep() {
        if (session.position() >= session.maxLength()) session.reset(); // steps then cover positions 0..L
        try (Tensor y = session.step(token)) {
            return y;
        }
    }

    /** One token by re-running the forward over the whole sequence. */
    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public Tensor forwardPerToken() {
        try (Tensor y = model.forward(be, x)) {
            return y;
        }
    }
}
