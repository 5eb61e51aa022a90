package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Tensor;
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
 * TNO forward, B=1, H=1, dim=256, rpe_dim=64 (tnn-pytorch defaults otherwise: 3 RPE layers, relu,
 * simplermsnorm), float32, all cores; bidirectional and causal. Compare with
 * bench/anchors/tnn_anchor.py --time (torch's CPU forward at the same shapes).
 * Run: java -jar bench/target/benchmarks.jar TnoBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class TnoBench {
    @Param({"1024", "8192"})
    int length;

    @Param({"false", "true"})
    boolean causal;

    @Param({"vector", "scalar"})
    String backend;

    Tno tno;
    Tensor x;
    final Map<String, Tensor> state = new LinkedHashMap<>();
    Backend be;

    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.get(backend);
        Tno.Config d = Tno.Config.defaults(1, 256, 64);
        Tno.Config c = new Tno.Config(d.h(), d.dim(), d.rpeDim(), causal, d.useDecay(), d.useMultiDecay(), d.residual(), d.act(), d.parType(),
                d.gamma(), d.bias(), d.actType(), d.layers(), d.normType(), d.normalize());
        long seed = 1;
        for (Map.Entry<String, long[]> e : Tno.shapes(c, "").entrySet()) state.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        tno = new Tno(c, state);
        x = Tensor.random(DType.FLOAT32, 99, 1, 1, length, 256);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        state.values().forEach(Tensor::close);
    }

    @Benchmark
    public Tensor forward() {
        try (Tensor y = tno.forward(be, x)) {
            return y;
        }
    }
}
