package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.layers.Stu;
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
 * STU forward, B=1, D=256, K=24, float32, all cores (the layer is what a model runs; compare with
 * bench/anchors/stu_anchor.py --time, which times torch's CPU forward at the same shapes).
 * The filters are random here: their values do not change the work. Run: java -jar bench/target/benchmarks.jar StuBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class StuBench {
    static final int D = 256, K = 24;

    @Param({"1024", "8192"})
    int length;

    @Param({"approx", "exact"})
    String mode;

    @Param({"vector", "scalar"})
    String backend;

    Stu stu;
    Tensor phi, x;
    Map<String, Tensor> params = new LinkedHashMap<>();
    Backend be;

    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.get(backend);
        Stu.Config c = new Stu.Config(Stu.Mode.parse(mode), false);
        phi = Tensor.random(DType.FLOAT32, 1, length, K);
        long seed = 2;
        for (Map.Entry<String, long[]> e : Stu.shapes(c, K, D, D).entrySet()) params.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        stu = new Stu(c, phi, params);
        x = Tensor.random(DType.FLOAT32, 6, 1, length, D);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        phi.close();
        x.close();
        params.values().forEach(Tensor::close);
    }

    @Benchmark
    public Tensor forward() {
        try (Tensor y = stu.forward(be, x)) {
            return y;
        }
    }
}
