package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.layers.PreparedLayer;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Ops;
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
 * Per-call cost at serving shapes (float32, the backend's threads): a GTU at B=1, L=512, E=32, heads=2 and a TNO at
 * H=2, L=1024, dim=16, by forward (kernels rebuilt every call) and by a prepared layer (kernels once); a causal-conv
 * at [1, 20, 256] with 8 taps by Ops (a plan per call and a fresh output) and by a plan into an output (the
 * arithmetic's own time, within a few microseconds). Compare with bench/anchors/tnn_anchor.py --time.
 * Run: java -jar bench/target/benchmarks.jar ServingBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class ServingBench {
    @Param({"vector", "scalar"})
    String backend;

    Backend be;
    SmallLayers layers;
    PreparedLayer gtuPrepared, tnoPrepared;
    Tensor gtuY, tnoY, convX, convK, convY;
    ConvPlan convPlan;

    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.get(backend);
        layers = new SmallLayers();
        gtuY = Tensor.zeros(DType.FLOAT32, layers.gtuX.shape());
        gtuPrepared = layers.gtu.prepare(be, DType.FLOAT32, SmallLayers.GTU_LENGTH);
        tnoY = Tensor.zeros(DType.FLOAT32, layers.tnoX.shape());
        tnoPrepared = layers.tno.prepare(be, DType.FLOAT32, SmallLayers.TNO_LENGTH);
        convX = Tensor.random(DType.FLOAT32, 9, 1, 20, 256);
        convK = Tensor.random(DType.FLOAT32, 10, 20, 8);
        convY = Tensor.zeros(DType.FLOAT32, 1, 20, 256);
        convPlan = be.causalConvPlan(convK, 256, Layout.BDL);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gtuPrepared.close();
        tnoPrepared.close();
        convPlan.close();
        for (Tensor t : new Tensor[] {gtuY, tnoY, convX, convK, convY}) t.close();
        layers.close();
    }

    @Benchmark
    public Tensor gtuForward() {
        return layers.gtuForward(be);
    }

    @Benchmark
    public Tensor gtuPrepared() {
        gtuPrepared.forwardInto(layers.gtuX, gtuY);
        return gtuY;
    }

    @Benchmark
    public Tensor tnoForward() {
        return layers.tnoForward(be);
    }

    @Benchmark
    public Tensor tnoPrepared() {
        tnoPrepared.forwardInto(layers.tnoX, tnoY);
        return tnoY;
    }

    /** Ops.causalConv on the selected backend of this JVM (a plan per call, a fresh output). */
    @Benchmark
    public Tensor causalConvOp() {
        try (Tensor y = be.causalConv(convX, convK, Layout.BDL)) {
            return y;
        }
    }

    @Benchmark
    public Tensor causalConvPlanInto() {
        convPlan.applyInto(convX, convY);
        return convY;
    }
}
