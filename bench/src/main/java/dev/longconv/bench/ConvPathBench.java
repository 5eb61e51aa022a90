package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
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

import java.util.concurrent.TimeUnit;

/**
 * Where the direct sum and the FFT cross over on the vector backend: causal-conv, B=1, D=64,
 * float32, both paths forced, kernel width swept. Run: java -jar bench/target/benchmarks.jar ConvPathBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=1"})
public class ConvPathBench {
    @Param({"1024", "8192"})
    int length;

    @Param({"8", "16", "32", "64", "128"})
    int taps;

    Tensor x, k, y;
    ConvPlan direct, fft;

    @Setup(Level.Trial)
    public void setUp() {
        VectorBackend v = (VectorBackend) Backends.get("vector");
        x = Tensor.random(DType.FLOAT32, 1, 1, 64, length);
        k = Tensor.random(DType.FLOAT32, 2, 64, taps);
        y = Tensor.zeros(DType.FLOAT32, 1, 64, length);
        ConvProblem problem = ConvProblem.of(ConvProblem.Kind.CAUSAL, k, length, Layout.BDL);
        direct = v.plan(problem, k, VectorBackend.Path.DIRECT);
        fft = v.plan(problem, k, VectorBackend.Path.FFT);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        k.close();
        y.close();
    }

    @Benchmark
    public Tensor direct() {
        direct.applyInto(x, y);
        return y;
    }

    @Benchmark
    public Tensor fft() {
        fft.applyInto(x, y);
        return y;
    }
}
