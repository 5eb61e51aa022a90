package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
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

import java.util.concurrent.TimeUnit;

/**
 * short-conv, ski and gemm on the vector and scalar backends, float32, single-threaded.
 * Run: java -jar bench/target/benchmarks.jar OpsBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=1"})
public class OpsBench {

    /** B=1, D=64, L=8192, depthwise kernel of width W, causal, with bias. */
    @State(Scope.Benchmark)
    public static class ShortConv {
        @Param({"4", "16", "64"})
        int width;

        @Param({"vector", "scalar"})
        String backend;

        Backend be;
        Tensor x, w, bias;

        @Setup(Level.Trial)
        public void setUp() {
            be = Backends.get(backend);
            x = Tensor.random(DType.FLOAT32, 1, 1, 64, 8192);
            w = Tensor.random(DType.FLOAT32, 2, 64, width);
            bias = Tensor.random(DType.FLOAT32, 3, 64);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            x.close();
            w.close();
            bias.close();
        }
    }

    /** B=1, D=64, L=8192, r inducing points. */
    @State(Scope.Benchmark)
    public static class Ski {
        @Param({"32", "256"})
        int r;

        @Param({"vector", "scalar"})
        String backend;

        Backend be;
        Tensor x, kr;

        @Setup(Level.Trial)
        public void setUp() {
            be = Backends.get(backend);
            x = Tensor.random(DType.FLOAT32, 1, 1, 64, 8192);
            kr = Tensor.random(DType.FLOAT32, 2, 64, 2 * r - 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            x.close();
            kr.close();
        }
    }

    /** Square n x n x n float32; GFLOP/s = 2 n^3 / time. */
    @State(Scope.Benchmark)
    public static class Gemm {
        @Param({"512", "1024"})
        int n;

        @Param({"vector", "scalar"})
        String backend;

        Backend be;
        Tensor a, b;
        float[] fa, fb, fc;

        @Setup(Level.Trial)
        public void setUp() {
            be = Backends.get(backend);
            a = Tensor.random(DType.FLOAT32, 1, n, n);
            b = Tensor.random(DType.FLOAT32, 2, n, n);
            fa = a.toFloatArray();
            fb = b.toFloatArray();
            fc = new float[n * n];
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            a.close();
            b.close();
        }
    }

    @Benchmark
    public Tensor shortConv(ShortConv s) {
        try (Tensor y = s.be.shortConv(s.x, s.w, s.bias, ShortConvMode.CAUSAL, Layout.BDL)) {
            return y;
        }
    }

    @Benchmark
    public Tensor ski(Ski s) {
        try (Tensor y = s.be.ski(s.x, s.kr, Layout.BDL)) {
            return y;
        }
    }

    @Benchmark
    public Tensor gemm(Gemm g) {
        try (Tensor c = g.be.gemm(g.a, g.b, false, false)) {
            return c;
        }
    }

    /** The textbook i-j-k loop on float arrays: the baseline GemmBench numbers are read against. */
    @Benchmark
    public float[] gemmNaiveLoop(Gemm g) {
        int n = g.n;
        float[] a = g.fa, b = g.fb, c = g.fc;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int p = 0; p < n; p++) acc += a[i * n + p] * b[p * n + j];
                c[i * n + j] = acc;
            }
        }
        return c;
    }
}
