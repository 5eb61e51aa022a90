package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.ConvPlan;
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

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Token-by-token causal convolution, D = 256 channels, B = 1, float32, vector backend: the time of one
 * {@code stepInto} after a prefill of Lk steps, for the chosen scheme (partitioned above the ring-buffer
 * threshold), the plain ring buffer (O(Lk) per step), and recomputing the one-shot convolution of the 2 Lk
 * steps so far (what a service without streams does per token). SampleTime gives the mean and the
 * percentiles (p99: the steps where the large FFT segments fire).
 * Run: java -jar bench/target/benchmarks.jar StreamBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class StreamBench {
    static final int D = 256;

    @Param({"1024", "8192", "65536"})
    int taps;

    /** auto (the backend's choice), direct (ring buffer), partitioned. */
    @Param({"auto", "direct"})
    String scheme;

    Tensor k, step, out;
    CausalStream stream;

    @Setup(Level.Trial)
    public void setUp() {
        VectorBackend be = new VectorBackend();
        k = Tensor.random(DType.FLOAT32, 1, D, taps);
        step = Tensor.random(DType.FLOAT32, 2, 1, D);
        out = Tensor.zeros(DType.FLOAT32, 1, D);
        stream = be.causalStream(k, 1, Layout.BDL, VectorBackend.StreamScheme.valueOf(scheme.toUpperCase(Locale.ROOT)));
        try (Tensor prefill = Tensor.random(DType.FLOAT32, 3, 1, D, taps)) {
            stream.prefill(prefill).close();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stream.close();
        k.close();
        step.close();
        out.close();
    }

    @Benchmark
    public Tensor step() {
        stream.stepInto(step, out);
        return out;
    }

    /** Recomputing the one-shot causal-conv of the sequence so far (2 Lk steps) for every token: a plan of that length, applied. */
    @State(Scope.Benchmark)
    public static class Recompute {
        @Param({"1024", "8192", "65536"})
        int taps;

        Tensor k, x, y;
        ConvPlan plan;

        @Setup(Level.Trial)
        public void setUp() {
            k = Tensor.random(DType.FLOAT32, 1, D, taps);
            x = Tensor.random(DType.FLOAT32, 2, 1, D, 2 * taps);
            y = Tensor.zeros(DType.FLOAT32, 1, D, 2 * taps);
            plan = new VectorBackend().causalConvPlan(k, 2 * taps, Layout.BDL);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            plan.close();
            k.close();
            x.close();
            y.close();
        }
    }

    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 2, time = 2)
    public Tensor recomputePerToken(Recompute r) {
        r.plan.applyInto(r.x, r.y);
        return r.y;
    }
}
