package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.Backend;
import dev.longconv.backend.Backends;
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
 * causal-conv, B=1, D=64, Lk=L, float32, on each available backend. Anchors (JTransforms, FFTW)
 * join this class with the vector backend. Run: ./longconv bench CausalConvBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class CausalConvBench {
    @Param({"1024", "8192", "65536"})
    int length;

    @Param({"scalar"})
    String backend;

    Backend impl;
    Tensor x, k;

    @Setup(Level.Trial)
    public void setUp() {
        impl = Backends.get(backend);
        x = Tensor.random(DType.FLOAT32, 1, 1, 64, length);
        k = Tensor.random(DType.FLOAT32, 2, 64, length);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        k.close();
    }

    @Benchmark
    public double causalConv() {
        try (Tensor y = impl.causalConv(x, k, Layout.BDL)) {
            return y.getFlat(length - 1);
        }
    }
}
