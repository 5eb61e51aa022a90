package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.Backends;
import dev.longconv.ops.ConvPlan;
import dev.longconv.simd.LaneFft;
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

import java.lang.foreign.SymbolLookup;
import java.util.concurrent.TimeUnit;

/**
 * causal-conv, B=1, D=64 channels, Lk=L, float32, kernel prepared once, every method computing the
 * same FFT convolution at the same FFT size: longconv's vector and scalar backends, JTransforms and
 * FFTW 3 (libfftw3f through FFM). Single-threaded unless the name says allCores.
 * Run: java -jar bench/target/benchmarks.jar CausalConvBench
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dlongconv.threads=1"})
public class CausalConvBench {
    static final int D = 64;

    @Param({"1024", "8192", "65536"})
    int length;

    Tensor x, k, y;
    float[][] xa, ya, ka;
    ConvPlan vector, scalar;
    JTransformsConv jtransforms;
    FftwConv fftw;
    private static boolean fftwDescribed;

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        x = Tensor.random(DType.FLOAT32, 1, 1, D, length);
        k = Tensor.random(DType.FLOAT32, 2, D, length);
        y = Tensor.zeros(DType.FLOAT32, 1, D, length);
        xa = new float[D][];
        ka = new float[D][];
        ya = new float[D][length];
        for (int d = 0; d < D; d++) {
            xa[d] = x.slice(1, d, d + 1).contiguous().toFloatArray();
            ka[d] = k.slice(0, d, d + 1).contiguous().toFloatArray();
        }
        if (Backends.statuses().stream().anyMatch(s -> s.name().equals("vector") && s.available())) {
            vector = Backends.get("vector").causalConvPlan(k, length, Layout.BDL);
        }
        scalar = Backends.get("scalar").causalConvPlan(k, length, Layout.BDL);
        int n = LaneFft.sizeFor(2 * length - 1);
        // JTransforms splits transforms of 8192 points and more over all cores by default; the comparison is one thread.
        pl.edu.icm.jlargearrays.ConcurrencyUtils.setNumberOfThreads(1);
        jtransforms = new JTransformsConv(ka, length, n);
        SymbolLookup lib = FftwConv.library();
        if (lib != null) {
            if (!fftwDescribed) System.err.println(FftwConv.describe(lib));
            fftwDescribed = true;
            fftw = new FftwConv(lib, ka, length, n);
        }
        else System.err.println(FftwConv.missing());
        verifyAnchorsAgree();
    }

    /** Every method must compute the same result, or the comparison means nothing. */
    private void verifyAnchorsAgree() throws Throwable {
        float[][] ref = new float[D][length], out = new float[D][length];
        jtransforms.convolve(xa, ref);
        if (vector != null) {
            vector.applyInto(x, y);
            for (int d = 0; d < D; d++) for (int t = 0; t < length; t++) out[d][t] = (float) y.get(0, d, t);
            agree("vector", out, ref);
        }
        if (fftw != null) {
            fftw.convolve(xa, out);
            agree("fftw", out, ref);
        }
    }

    private static void agree(String what, float[][] a, float[][] ref) {
        double num = 0, den = 0;
        for (int d = 0; d < a.length; d++) {
            for (int t = 0; t < a[d].length; t++) {
                num += Math.pow(a[d][t] - ref[d][t], 2);
                den += Math.pow(ref[d][t], 2);
            }
        }
        double err = Math.sqrt(num / den);
        if (!(err < 1e-4)) throw new IllegalStateException(what + " disagrees with JTransforms: relative L2 " + err);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        k.close();
        y.close();
        if (fftw != null) fftw.close();
    }

    @Benchmark
    public Tensor vector() {
        vector.applyInto(x, y);
        return y;
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
    public Tensor vectorAllCores() {
        vector.applyInto(x, y);
        return y;
    }

    @Benchmark
    public Tensor scalar() {
        scalar.applyInto(x, y);
        return y;
    }

    @Benchmark
    public float[][] jtransforms() {
        jtransforms.convolve(xa, ya);
        return ya;
    }

    @Benchmark
    public float[][] fftw() throws Throwable {
        if (fftw == null) throw new IllegalStateException(FftwConv.missing());
        fftw.convolve(xa, ya);
        return ya;
    }
}
