package dev.longconv.backend.cuda;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.cuda.BlasHandle;
import dev.longconv.cuda.CudaStream;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.FftPlanCache;
import dev.longconv.cuda.Kernels;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.Grads;
import dev.longconv.ops.spi.Check;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import static dev.longconv.backend.cuda.CudaMemory.pointer;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_G;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_X;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_X;
import static dev.longconv.backend.cuda.Scratch.Role.WORK;

/**
 * Every op on one NVIDIA GPU: longconv's CUDA kernels for padding, spectrum products, epilogues, short-conv,
 * ski and the causal window; cuFFT for the transforms; cuBLAS for gemm. float32 only. Long convolutions can
 * also run as one fused kernel ({@link ConvPath#FUSED}, FFT sizes up to 16384); {@link ConvPath#AUTO} picks it
 * only where {@link FusedTable} records it measured faster, which is nowhere yet (never run on a GPU), unless
 * {@code -Dlongconv.cuda.fused=on}. Plans ({@link CudaConvPlan}) own their kernel spectra in an {@link FftPipeline};
 * {@link CudaPathChooser} picks their path; every call serializes on the device's {@link CudaContext}.
 *
 * <p>Tensors may live on the host or on this backend's device ({@link Tensor#to(Device)}); all arguments of
 * a call share one place, and results come back there. Host arguments are copied to the device and the
 * result back, which suits tests and occasional calls; device tensors stay on the device and the call
 * returns once the work is queued (a later copy to the host waits for it).
 *
 * <p>One backend per device, shared ({@link #on(int)}): its calls are serialized on one stream, with device
 * scratch buffers that grow to the largest shape seen and are then reused ({@link #releaseScratch()} frees
 * them). Limits of the kernels: short-conv widths up to 256 and ski ranks up to 4096.
 *
 * <p>Not AutoCloseable on purpose: the instance is shared for the life of the process (its stream, cuFFT
 * plans and cuBLAS handle go with it), and frameworks close AutoCloseable arguments they are handed (JUnit
 * closes parameterized-test arguments), which would pull the stream from under every other user.
 */
public final class CudaBackend implements Backend {
    private static final ConcurrentHashMap<Integer, CudaBackend> SHARED = new ConcurrentHashMap<>();

    private final CudaContext ctx;
    private volatile FusedMode fusedMode = FusedMode.parse(System.getProperty(FusedMode.PROPERTY));

    private CudaBackend(int device) {
        this.ctx = new CudaContext(device);
    }

    /** The shared backend for CUDA device {@code index}, created on first use; IllegalStateException without CUDA. */
    public static CudaBackend on(int index) {
        return SHARED.computeIfAbsent(index, CudaBackend::new);
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The device this backend runs on. */
    public Device device() {
        return ctx.deviceId();
    }

    /** The stream every call is queued on (to time with CUDA events, or to wait for). */
    public CudaStream stream() {
        return ctx.stream;
    }

    /**
     * For tests: fill every new result with NaN before the kernels write it, so an element they miss shows
     * as NaN instead of as whatever the allocator returned.
     */
    public void setPoisonOutputs(boolean on) {
        ctx.setPoisonOutputs(on);
    }

    /** Waits until every queued call has finished. */
    public void synchronize() {
        synchronized (ctx) {
            ctx.activate();
            ctx.stream.synchronize();
        }
    }

    /** Device bytes held as scratch between calls. */
    public long scratchBytes() {
        synchronized (ctx) {
            return ctx.scratch.bytes();
        }
    }

    /** Frees the scratch buffers and cuFFT plans; the next call allocates them again. */
    public void releaseScratch() {
        synchronized (ctx) {
            ctx.release();
        }
    }

    /** Sets what {@link ConvPath#AUTO} does from now on (tests and benchmarks; plans already made keep their path). */
    public void setFusedMode(FusedMode mode) {
        fusedMode = Objects.requireNonNull(mode, "mode");
    }

    public FusedMode fusedMode() {
        return fusedMode;
    }

    // ---------------------------------------------------------------- long convolutions

    @Override
    public Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = checked(() -> Check.causalConv(x, k, layout), Check.CAUSAL_CONV, x);
        try (ConvPlan plan = causalConvPlan(k, s.length(), layout)) {
            return plan.apply(x);
        }
    }

    @Override
    public ConvPlan plan(ConvProblem problem, Tensor k) {
        return plan(problem, k, ConvPath.AUTO);
    }

    /**
     * A plan for {@code problem} on a chosen path (benchmarks, tests); FUSED where it does not apply throws. k may be
     * on the host or on this backend's device.
     */
    public ConvPlan plan(ConvProblem problem, Tensor k, ConvPath path) {
        String op = problem.op();
        Check.onDevices(() -> {
            problem.checkKernel(k);
            return null;
        });
        requireFloat32(op, "k", k);
        CudaPathChooser.Choice choice = CudaPathChooser.choose(problem, path, fusedMode, FusedTable.MEASURED);
        synchronized (ctx) {
            ctx.activate();
            try (Tensor kd = ctx.toDevice(op, "k", k)) {
                FftPipeline pipeline = FftPipeline.prepare(ctx, kd, problem.channels(), problem.taps(), choice, problem.layout(), problem.firstOutput());
                return new CudaConvPlan(ctx, problem, pipeline);
            }
        }
    }

    /** {@link #causalConvPlan(Tensor, int, Layout)} on a chosen path. */
    public ConvPlan causalConvPlan(Tensor k, int length, Layout layout, ConvPath path) {
        return plan(Check.onDevices(() -> ConvProblem.of(ConvProblem.Kind.CAUSAL, k, length, layout)), k, path);
    }

    /** {@link #toeplitzConvPlan(Tensor, int, Layout)} on a chosen path. */
    public ConvPlan toeplitzConvPlan(Tensor k, int length, Layout layout, ConvPath path) {
        return plan(Check.onDevices(() -> ConvProblem.of(ConvProblem.Kind.TOEPLITZ, k, length, layout)), k, path);
    }

    @Override
    public ConvPlan causalConvPlan(Tensor k, int length, Layout layout) {
        return causalConvPlan(k, length, layout, ConvPath.AUTO);
    }

    @Override
    public ConvPlan toeplitzConvPlan(Tensor k, int length, Layout layout) {
        return toeplitzConvPlan(k, length, layout, ConvPath.AUTO);
    }

    @Override
    public Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = checked(() -> Check.toeplitzConv(x, k, layout), Check.TOEPLITZ_CONV, x);
        try (ConvPlan plan = toeplitzConvPlan(k, s.length(), layout)) {
            return plan.apply(x);
        }
    }

    @Override
    public Grads causalConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.causalConv(x, k, layout);
            Check.gradient(Check.CAUSAL_CONV, gy, x);
            return r;
        }, Check.CAUSAL_CONV, x);
        // dx is a correlation of gy with k at offset 0, which the fused kernel does (conj 1); dk stays on cuFFT, and
        // then takes the fused kernel's power-of-two N too, so both use the one set of kernel spectra.
        ConvProblem p = ConvProblem.causal(s.channels(), s.length(), s.taps(), layout, x.dtype());
        CudaPathChooser.Choice c = CudaPathChooser.choose(p, ConvPath.AUTO, fusedMode, FusedTable.MEASURED);
        synchronized (ctx) {
            return CudaConvBackward.grads(ctx, Check.CAUSAL_CONV, x, k, gy, s, c.fftSize(), 0, c.fused(), layout);
        }
    }

    @Override
    public Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.toeplitzConv(x, k, layout);
            Check.gradient(Check.TOEPLITZ_CONV, gy, x);
            return r;
        }, Check.TOEPLITZ_CONV, x);
        // gy enters at offset L-1 here, which the fused kernel does not do: both gradients stay on cuFFT
        synchronized (ctx) {
            return CudaConvBackward.grads(ctx, Check.TOEPLITZ_CONV, x, k, gy, s, CufftSizes.nextFastEven(2L * s.length() - 1), s.length() - 1,
                    false, layout);
        }
    }

    // ---------------------------------------------------------------- short-conv and ski

    @Override
    public Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        Check.SeqDims s = checked(() -> Check.shortConv(x, w, bias, mode, layout), Check.SHORT_CONV, x);
        shortWidth(s, w);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.SHORT_CONV, x, new String[] {"x", "w", "bias"}, x, w, bias)) {
                Tensor y = in.output(x.shape());
                if (s.batch() == 0 || s.channels() == 0) return in.result(y);
                ctx.kernels.shortConv(pointer(in.get(0)), pointer(in.get(1)), pointer(in.get(2)), pointer(y), s.batch(), s.channels(), s.length(), s.taps(),
                        modeCode(mode), CudaContext.code(layout));
                return in.result(y);
            }
        }
    }

    @Override
    public Grads shortConvBackward(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.shortConv(x, w, bias, mode, layout);
            Check.gradient(Check.SHORT_CONV, gy, x);
            return r;
        }, Check.SHORT_CONV, x);
        shortWidth(s, w);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.SHORT_CONV, x, new String[] {"x", "w", "gy"}, x, w, gy)) {
                Tensor dx = in.output(x.shape()), dw = in.output(w.shape()), db = bias == null ? null : in.output(bias.shape());
                long ws = Kernels.shortConvBackwardWorkspaceBytes(s.batch(), s.channels(), s.length(), s.taps());
                if (ws <= 0) {
                    ctx.zero(dx);
                    ctx.zero(dw);
                    if (db != null) ctx.zero(db);
                } else {
                    int b = s.batch(), d = s.channels(), l = s.length(), taps = s.taps(), m = modeCode(mode), lay = CudaContext.code(layout);
                    ctx.kernels.shortConvBackwardDx(pointer(in.get(2)), pointer(in.get(1)), pointer(dx), b, d, l, taps, m, lay);
                    ctx.kernels.shortConvBackwardParams(pointer(in.get(0)), pointer(in.get(2)), pointer(dw), pointer(db), ctx.scratch.get(WORK, ws).pointer(), b, d, l, taps, m,
                            lay);
                }
                return in.grads(dx, dw, db);
            }
        }
    }

    private static void shortWidth(Check.SeqDims s, Tensor w) {
        if (s.taps() > Kernels.SHORT_MAX_WIDTH) {
            throw new LongConvException(Check.SHORT_CONV, "w", "a width W <= " + Kernels.SHORT_MAX_WIDTH + " on the cuda backend (use causal-conv for longer kernels)",
                    "W=" + s.taps() + " in " + w);
        }
    }

    @Override
    public Tensor ski(Tensor x, Tensor kr, Layout layout) {
        Check.SeqDims s = checked(() -> Check.ski(x, kr, layout), Check.SKI, x);
        long r = skiRank(s, kr);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.SKI, x, new String[] {"x", "kr"}, x, kr)) {
                Tensor y = in.output(x.shape());
                long rows = (long) s.batch() * s.channels();
                if (rows == 0) return in.result(y);
                ctx.kernels.ski(pointer(in.get(0)), pointer(in.get(1)), pointer(y), ctx.scratch.get(WORK, 2 * rows * r * 4).pointer(), s.batch(), s.channels(), s.length(),
                        s.taps(), CudaContext.code(layout));
                return in.result(y);
            }
        }
    }

    @Override
    public Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.ski(x, kr, layout);
            Check.gradient(Check.SKI, gy, x);
            return r;
        }, Check.SKI, x);
        long r = skiRank(s, kr);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.SKI, x, new String[] {"x", "kr", "gy"}, x, kr, gy)) {
                Tensor dx = in.output(x.shape()), dkr = in.output(kr.shape());
                long rows = (long) s.batch() * s.channels();
                if (rows == 0) {
                    ctx.zero(dx);
                    ctx.zero(dkr);
                } else {
                    ctx.kernels.skiBackward(pointer(in.get(0)), pointer(in.get(1)), pointer(in.get(2)), pointer(dx), pointer(dkr), ctx.scratch.get(WORK, 3 * rows * r * 4).pointer(),
                            s.batch(), s.channels(), s.length(), s.taps(), CudaContext.code(layout));
                }
                return in.grads(dx, dkr, null);
            }
        }
    }

    private static long skiRank(Check.SeqDims s, Tensor kr) {
        long r = (s.taps() + 1) / 2;
        if (r > Kernels.SKI_MAX_RANK) {
            throw new LongConvException(Check.SKI, "kr", "at most 2r-1 = " + (2 * Kernels.SKI_MAX_RANK - 1) + " lags on the cuda backend",
                    s.taps() + " lags in " + kr);
        }
        return r;
    }

    // ---------------------------------------------------------------- spectra and gemm

    @Override
    public Tensor causalSpectrum(Tensor re, int n) {
        int d = checked(() -> Check.causalSpectrum(re, n), Check.CAUSAL_SPECTRUM, re);
        int bins = n / 2 + 1;
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.CAUSAL_SPECTRUM, re, new String[] {"re"}, re)) {
                Tensor out = in.output(d, bins, 2);
                if (d == 0) return in.result(out);
                long count = (long) d * bins;
                // (re, 0) pairs: rows [re; zeros] of a [2, count] buffer, transposed to [count, 2] by the layout kernel
                DeviceBuffer pairs = ctx.scratch.get(REAL_G, 2 * count * 4), spec = ctx.scratch.get(SPEC_X, count * 8), real = ctx.scratch.get(REAL_X, (long) d * n * 4);
                Tensor r = in.get(0);
                pairs.copyFromAsync(CudaMemory.buffer(r), r.offset() * 4, 0, count * 4, ctx.stream);
                pairs.memsetAsync(0, count * 4, count * 4, ctx.stream);
                ctx.kernels.convertLayout(pairs.pointer(), spec.pointer(), 1, 2, count, Kernels.BDL, Kernels.BLD);
                ctx.fft(n, d, FftPlanCache.Type.C2R).execute(spec, 0, real, 0);
                ctx.kernels.causalWindow(real.pointer(), real.pointer(), d, n, 1.0f / n);
                ctx.fft(n, d, FftPlanCache.Type.R2C).execute(real, 0, CudaMemory.buffer(out), 0);
                return in.result(out);
            }
        }
    }

    @Override
    public Tensor rfft(Tensor x, int n) {
        checked(() -> {
            Check.rfft(x, n);
            return null;
        }, Check.RFFT, x);
        int m = Math.toIntExact(x.dim(-1)), bins = n / 2 + 1;
        long rows = x.numel() / m;
        long[] shape = x.shape(), outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length - 1] = bins;
        outShape[shape.length] = 2;
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.RFFT, x, new String[] {"x"}, x)) {
                Tensor out = in.output(outShape);
                if (rows == 0) return in.result(out);
                Tensor xd = in.get(0);
                DeviceBuffer src = CudaMemory.buffer(xd), dst = CudaMemory.buffer(out);
                long xOff = xd.offset() * 4;
                if (n == 1) { // one bin, the first sample: no transform needed (nor does cuFFT promise one of length 1)
                    dst.memsetAsync(0, 0, rows * 8, ctx.stream);
                    dst.copy2DFromAsync(src, xOff, (long) m * 4, 0, 8, 4, rows, ctx.stream);
                } else if (m == n && xOff % 8 == 0) {
                    ctx.fft(n, rows, FftPlanCache.Type.R2C).execute(src, xOff, dst, 0);
                } else {
                    DeviceBuffer real = ctx.scratch.get(REAL_X, rows * n * 4);
                    if (m < n) real.memsetAsync(0, 0, rows * n * 4, ctx.stream);
                    real.copy2DFromAsync(src, xOff, (long) m * 4, 0, (long) n * 4, (long) Math.min(m, n) * 4, rows, ctx.stream);
                    ctx.fft(n, rows, FftPlanCache.Type.R2C).execute(real, 0, dst, 0);
                }
                return in.result(out);
            }
        }
    }

    @Override
    public Tensor irfft(Tensor x, int n) {
        checked(() -> {
            Check.irfft(x, n);
            return null;
        }, Check.IRFFT, x);
        int m = Math.toIntExact(x.dim(-2)), bins = n / 2 + 1;
        long rows = x.numel() / (2L * m);
        long[] shape = x.shape(), outShape = Arrays.copyOf(shape, shape.length - 1);
        outShape[outShape.length - 1] = n;
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.IRFFT, x, new String[] {"x"}, x)) {
                Tensor out = in.output(outShape);
                if (rows == 0) return in.result(out);
                Tensor xd = in.get(0);
                long pitch = (long) bins * 8;
                DeviceBuffer spec = ctx.scratch.get(SPEC_X, rows * pitch), dst = CudaMemory.buffer(out);
                // crop or zero-pad to N/2+1 bins; the imaginary parts of DC and Nyquist do not enter numpy's irfft, so clear them
                if (m < bins) spec.memsetAsync(0, 0, rows * pitch, ctx.stream);
                spec.copy2DFromAsync(CudaMemory.buffer(xd), xd.offset() * 4, (long) m * 8, 0, pitch, (long) Math.min(m, bins) * 8, rows, ctx.stream);
                spec.memset2DAsync(0, 4, pitch, 4, rows, ctx.stream);
                if (n % 2 == 0 && m >= bins) spec.memset2DAsync(0, (bins - 1) * 8L + 4, pitch, 4, rows, ctx.stream);
                if (n == 1) {
                    dst.copy2DFromAsync(spec, 0, pitch, 0, 4, 4, rows, ctx.stream);
                } else {
                    ctx.fft(n, rows, FftPlanCache.Type.C2R).execute(spec, 0, dst, 0);
                    ctx.kernels.scale(dst.pointer(), dst.pointer(), rows * n, 1.0f / n);
                }
                return in.result(out);
            }
        }
    }

    @Override
    public Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        Check.GemmDims g = checked(() -> Check.gemm(a, b, transA, transB), Check.GEMM, a);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, Check.GEMM, a, new String[] {"a", "b"}, a, b)) {
                Tensor c = in.output(g.m(), g.n());
                if (g.m() == 0 || g.n() == 0) return in.result(c);
                if (g.k() == 0) {
                    ctx.zero(c);
                    return in.result(c);
                }
                Tensor ad = in.get(0), bd = in.get(1);
                // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a row-major matrix read
                // column-major is its transpose: so B goes first, each operand's leading dimension is its row length
                ctx.blas.sgemm(transB ? BlasHandle.Op.T : BlasHandle.Op.N, transA ? BlasHandle.Op.T : BlasHandle.Op.N, g.n(), g.m(), g.k(), 1f,
                        CudaMemory.buffer(bd), bd.offset() * 4, Math.toIntExact(bd.dim(1)), CudaMemory.buffer(ad), ad.offset() * 4, Math.toIntExact(ad.dim(1)), 0f,
                        CudaMemory.buffer(c), 0, g.n());
                return in.result(c);
            }
        }
    }

    // ---------------------------------------------------------------- plumbing

    /** Runs a {@link Check} accepting device tensors, then requires float32 and this backend's device or the host. */
    <T> T checked(Supplier<T> check, String op, Tensor x) {
        T r = Check.onDevices(check);
        requireFloat32(op, x == null ? "x" : argName(op), x);
        Device where = x.device();
        if (where.kind() == Device.Kind.CUDA && where.index() != ctx.device) {
            throw new LongConvException(op, argName(op), "device cpu or " + device(), where.toString());
        }
        return r;
    }

    private static String argName(String op) {
        return switch (op) {
            case Check.CAUSAL_SPECTRUM -> "re";
            case Check.GEMM -> "a";
            default -> "x";
        };
    }

    static void requireFloat32(String op, String arg, Tensor t) {
        if (t.dtype() != DType.FLOAT32) {
            throw new LongConvException(op, arg, "dtype float32 (the cuda backend computes in float32; float64 runs on the scalar backend)",
                    t.dtype().toString());
        }
    }

    private static int modeCode(ShortConvMode mode) {
        return mode == ShortConvMode.CAUSAL ? Kernels.SHORT_CAUSAL : Kernels.SHORT_SAME;
    }
}
