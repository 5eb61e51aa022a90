package dev.longconv.bench;

import dev.longconv.Tensor;
import dev.longconv.layers.HankelVariant;
import dev.longconv.layers.StuFilters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * STU spectral filters, K = 24, "hankel": the whole computation (generator, its spectrum, Lanczos,
 * Ritz vectors, the [L, K] tensor). {@code filters8k} is the common model length, averaged;
 * {@code filters1m} is L = 2^20, one cold single shot (it takes seconds and is done once per model,
 * so its first-call time is what matters). Run:
 * java -jar bench/target/benchmarks.jar StuFiltersBench.filters8k
 * java -jar bench/target/benchmarks.jar StuFiltersBench.filters1m
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class StuFiltersBench {
    static final int K = 24;

    @Param({"hankel"})
    String variant;

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 5, time = 2)
    public double filters8k() {
        return run(8192);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    public double filters1m() {
        return run(1 << 20);
    }

    private double run(int length) {
        try (Tensor f = StuFilters.compute(length, K, HankelVariant.parse(variant))) {
            return f.getFlat(0); // consumed so the work cannot be elided
        }
    }
}
