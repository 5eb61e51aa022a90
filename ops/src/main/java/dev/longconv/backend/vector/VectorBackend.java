package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Backend;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.Grads;
import dev.longconv.ops.spi.BiasedGemm;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.HostTasks;
import dev.longconv.ops.spi.StreamBase;
import dev.longconv.ops.spi.StreamSchedule;

import java.util.function.IntConsumer;

/**
 * The Vector API backend. Float32 runs vector kernels, W channels at a time (one per lane), on the shared
 * thread pool: FFT convolutions at the cheapest fast size, direct sums where they cost less. Float64 inputs
 * run the scalar backend's float64 arithmetic (documented in the README): the lane kernels are float32. Every
 * op picks its half by the dtype of its leading tensor argument, in one place ({@link #by}); the half that
 * runs validates the arguments, once.
 */
public final class VectorBackend implements Backend, HostTasks, BiasedGemm {
    /** How a float32 plan convolves: by the cost model, or forced (benchmarks measure the crossover with the forced forms). */
    public enum Path { AUTO, DIRECT, FFT }

    private final ScalarBackend float64 = new ScalarBackend();
    private final LaneBackend float32 = new LaneBackend(float64);

    /** Needs {@link dev.longconv.simd.Simd#status()} available; the width is the JVM's ({@link dev.longconv.simd.Lanes}). */
    public VectorBackend() {}

    /** The pool's threads ({@code -Dlongconv.threads}), the caller included. */
    @Override
    public int hostThreads() {
        return Parallel.size();
    }

    /** On the pool that runs this backend's ops ({@link Parallel#forEach(int, double, IntConsumer)}). */
    @Override
    public void forEachHostTask(int tasks, double flopsPerTask, IntConsumer body) {
        Parallel.forEachRows(tasks, flopsPerTask, body);
    }

    /** The half that computes for a call whose leading tensor is {@code lead}: float64 goes to the scalar backend. */
    private Backend by(Tensor lead) {
        return lead != null && lead.dtype() == DType.FLOAT64 ? float64 : float32;
    }

    private Backend by(DType dtype) {
        return dtype == DType.FLOAT64 ? float64 : float32;
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        return by(x).causalConv(x, k, layout);
    }

    @Override
    public void causalConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        by(x).causalConvInto(x, k, layout, y);
    }

    @Override
    public ConvPlan plan(ConvProblem problem, Tensor k) {
        return by(problem.dtype()).plan(problem, k);
    }

    /**
     * A float32 plan on a forced {@code path} ({@link Path#AUTO} is {@link #plan}'s choice): for measuring where the
     * direct sum and the FFT cross.
     */
    public ConvPlan plan(ConvProblem problem, Tensor k, Path path) {
        if (problem.dtype() != DType.FLOAT32) throw new LongConvException(problem.op(), "dtype", "float32 (forced paths are the lane kernels')", problem.dtype().toString());
        problem.checkKernel(k);
        return VectorPlanner.plan(problem, k, path);
    }

    /** How a float32 stream runs: by the measured rule, or forced (StreamBench compares the schemes with it). */
    public enum StreamScheme {
        /** A ring buffer up to {@code LaneCausalStream.DIRECT_MAX} taps, partitioned above. */
        AUTO,
        /** A plain ring buffer: O(Lk) per step. */
        DIRECT,
        /** Direct head and FFT segments whatever Lk. */
        PARTITIONED
    }

    /** float32 on lanes ({@link LaneCausalStream}); float64 on the scalar backend. */
    @Override
    public CausalStream causalStream(Tensor k, int batch, Layout layout) {
        if (k != null && k.dtype() == DType.FLOAT64) return float64.causalStream(k, batch, layout);
        return causalStream(k, batch, layout, StreamScheme.AUTO);
    }

    /** A float32 stream on a forced scheme. */
    public CausalStream causalStream(Tensor k, int batch, Layout layout, StreamScheme scheme) {
        Check.KernelDims kd = StreamBase.checkKernel(k, batch, layout);
        if (k.dtype() != DType.FLOAT32) throw new LongConvException(StreamBase.OP, "k", "dtype float32 (the lane streams)", k.dtype().toString());
        int directMax = switch (scheme) {
            case AUTO -> LaneCausalStream.DIRECT_MAX;
            case DIRECT -> Integer.MAX_VALUE;
            case PARTITIONED -> 0;
        };
        return new LaneCausalStream(k, batch, layout, StreamSchedule.of(kd.taps(), LaneCausalStream.HEAD, directMax));
    }

    @Override
    public Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        return by(x).toeplitzConv(x, k, layout);
    }

    @Override
    public void toeplitzConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        by(x).toeplitzConvInto(x, k, layout, y);
    }

    @Override
    public Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        return by(x).shortConv(x, w, bias, mode, layout);
    }

    @Override
    public Tensor ski(Tensor x, Tensor kr, Layout layout) {
        return by(x).ski(x, kr, layout);
    }

    @Override
    public Tensor causalSpectrum(Tensor re, int n) {
        return by(re).causalSpectrum(re, n);
    }

    @Override
    public Tensor rfft(Tensor x, int n) {
        return by(x).rfft(x, n);
    }

    @Override
    public Tensor irfft(Tensor x, int n) {
        return by(x).irfft(x, n);
    }

    @Override
    public Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        return by(a).gemm(a, b, transA, transB);
    }

    /**
     * float32 gemm written over a caller-owned {@code c}: float32 [M, N] on the host, unit stride along its columns
     * (its rows may be strided, e.g. a column slice of a wider tensor), its memory span (first to last element) apart
     * from a's and b's (so two column blocks of one tensor, whose rows interleave, are refused). For loops that multiply
     * the same shapes again and again: {@link #gemm} allocates, zero-fills and (when the caller closes it) frees a new
     * result per call, 4-12% of the call's time at GemmBench's shapes (longconvNewTensor1t against longconv1t).
     *
     * float64 operands run the scalar backend's gemm and a copy.
     *
     * @throws LongConvException for a c of the wrong dtype, shape, device or column stride, or one overlapping a or b,
     *                           naming the argument
     */
    @Override
    public void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, Tensor c) {
        by(a).gemmInto(a, b, transA, transB, c);
    }

    /** float32 only (the lane half): the bias added in the GEMM's micro-kernel ({@link dev.longconv.simd.LaneGemm}). */
    @Override
    public void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, float[] bias, Tensor c) {
        float32.gemmInto(a, b, transA, transB, bias, c);
    }

    /** float32, A's rows read from the array where they are ({@link dev.longconv.simd.LaneGemm}'s array form). */
    @Override
    public void gemmRowsInto(float[] a, int aOff, int m, int k, Tensor b, boolean transB, float[] bias, Tensor c) {
        float32.gemmRowsInto(a, aOff, m, k, b, transB, bias, c);
    }

    @Override
    public Grads causalConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return by(x).causalConvBackward(x, k, gy, layout);
    }

    @Override
    public Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        return by(x).toeplitzConvBackward(x, k, gy, layout);
    }

    @Override
    public Grads shortConvBackward(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        return by(x).shortConvBackward(x, w, bias, mode, gy, layout);
    }

    @Override
    public Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        return by(x).skiBackward(x, kr, gy, layout);
    }
}
