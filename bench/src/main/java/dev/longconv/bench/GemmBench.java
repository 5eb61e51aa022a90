package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.ops.Backends;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * float32 gemm C [m, n] = op(A) op(B): longconv's vector backend against OpenBLAS's cblas_sgemm (through FFM, see
 * {@link OpenBlas}) on the same inputs in the same run. Shapes are "MxNxK": the squares 256^3..2048^3 and the layer
 * projections [L, D] x [D, D]. trans is op(A) op(B): T means that operand is stored transposed (A as [K, M], B as
 * [N, K], e.g. a PyTorch Linear weight). Methods ending in 1t run with one thread on both sides (-Dlongconv.threads=1,
 * openblas_set_num_threads(1)), those ending in 2t with two. Like OpenBLAS, longconv writes into a preallocated C
 * ({@link VectorBackend#gemmInto}); longconvNewTensor1t times {@code Backend.gemm}, which allocates, zero-fills and
 * (here) frees a new result tensor per call, to show what that costs. The interleaved methods call both sides
 * alternately in every invocation and report, per iteration, each side's best GFLOP/s and their ratio: on a machine
 * shared with other work, calls that alternate see the same load, and the best call of each is the least disturbed.
 * Run: java -jar bench/target/benchmarks.jar GemmBench (see the README's GEMM section for the ratio table).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=1"})
public class GemmBench {
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "1024x256x256", "8192x256x256", "4096x768x768", "8192x1024x1024"})
    String shape;

    @Param({"NN", "NT", "TN", "TT"})
    String trans;

    int m, n, k;
    boolean ta, tb;
    VectorBackend vector;
    Tensor a, b, out;
    OpenBlas blas;
    Arena arena;
    MemorySegment c;

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        k = Integer.parseInt(s[2]);
        ta = trans.charAt(0) == 'T';
        tb = trans.charAt(1) == 'T';
        a = ta ? Tensor.random(DType.FLOAT32, 1, k, m) : Tensor.random(DType.FLOAT32, 1, m, k);
        b = tb ? Tensor.random(DType.FLOAT32, 2, n, k) : Tensor.random(DType.FLOAT32, 2, k, n);
        vector = Backends.statuses().stream().anyMatch(st -> st.name().equals("vector") && st.available()) ? (VectorBackend) Backends.get("vector") : null;
        out = Tensor.zeros(DType.FLOAT32, m, n);
        blas = OpenBlas.load();
        if (blas == null) {
            System.err.println(OpenBlas.missing());
        } else {
            int threads = Integer.getInteger("longconv.threads", Runtime.getRuntime().availableProcessors());
            blas.setThreads(threads);
            System.out.println("anchor: " + blas.describe() + ", " + threads + " thread(s)");
            arena = Arena.ofShared();
            c = arena.allocate(4L * m * n, 64);
        }
        verifyAgree();
    }

    /** Both sides must compute the same product, or the comparison means nothing. */
    private void verifyAgree() throws Throwable {
        if (vector == null || blas == null) return;
        blas.sgemm(ta, tb, m, n, k, a.segment(), b.segment(), c);
        vector.gemmInto(a, b, ta, tb, out);
        MemorySegment x = out.segment();
        double num = 0, den = 0;
        for (long i = 0; i < (long) m * n; i++) {
            double u = x.getAtIndex(ValueLayout.JAVA_FLOAT, i), v = c.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            num += (u - v) * (u - v);
            den += v * v;
        }
        double err = Math.sqrt(num / den);
        if (!(err < 1e-5)) throw new IllegalStateException("longconv gemm disagrees with OpenBLAS at " + shape + " " + trans + ": relative L2 " + err);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        out.close();
        if (arena != null) arena.close();
    }

    private Tensor longconv() {
        if (vector == null) throw new IllegalStateException("vector backend unavailable: start the JVM with --add-modules jdk.incubator.vector");
        vector.gemmInto(a, b, ta, tb, out);
        return out;
    }

    private MemorySegment openblas() throws Throwable {
        if (blas == null) throw new IllegalStateException(OpenBlas.missing());
        blas.sgemm(ta, tb, m, n, k, a.segment(), b.segment(), c);
        return c;
    }

    @Benchmark
    public Tensor longconv1t() {
        return longconv();
    }

    @Benchmark
    public Tensor longconvNewTensor1t() {
        if (vector == null) throw new IllegalStateException("vector backend unavailable: start the JVM with --add-modules jdk.incubator.vector");
        Tensor fresh = vector.gemm(a, b, ta, tb);
        fresh.close();
        return fresh;
    }

    @Benchmark
    public MemorySegment openblas1t() throws Throwable {
        return openblas();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=2"})
    public Tensor longconv2t() {
        return longconv();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=2"})
    public MemorySegment openblas2t() throws Throwable {
        return openblas();
    }

    /**
     * Per iteration: the fastest call of each side (GFLOP/s) in the interleaved methods, and their ratio. JMH adds
     * EVENTS counters up over the iterations in its summary line, so read the per-iteration lines (bench/gemm-ratios.py
     * takes the JMH log and reports their median) or divide the summary by the iteration count.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Best {
        public double longconvGflops, openblasGflops;

        /** longconv's best over OpenBLAS's best in this iteration (1.0: as fast). */
        public double ratio() {
            return openblasGflops == 0 ? 0 : longconvGflops / openblasGflops;
        }

        @Setup(Level.Iteration)
        public void reset() {
            longconvGflops = 0;
            openblasGflops = 0;
        }
    }

    private void interleaved(Best best) throws Throwable {
        double flop = 2.0 * m * n * k;
        long t0 = System.nanoTime();
        longconv();
        long t1 = System.nanoTime();
        openblas();
        long t2 = System.nanoTime();
        best.longconvGflops = Math.max(best.longconvGflops, flop / (t1 - t0));
        best.openblasGflops = Math.max(best.openblasGflops, flop / (t2 - t1));
    }

    @Benchmark
    public void interleaved1t(Best best) throws Throwable {
        interleaved(best);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=2"})
    public void interleaved2t(Best best) throws Throwable {
        interleaved(best);
    }
}
