package dev.longconv.backend.cuda;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.backend.Backend;
import dev.longconv.cuda.BlasHandle;
import dev.longconv.cuda.Cuda;
import dev.longconv.cuda.CudaStream;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.FftPlanCache;
import dev.longconv.cuda.Kernels;
import dev.longconv.ops.Check;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Grads;
import dev.longconv.ops.ShortConvMode;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import static dev.longconv.backend.cuda.Scratch.Role.REAL_G;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_K;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_X;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_DK;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_G;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_K;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_X;
import static dev.longconv.backend.cuda.Scratch.Role.WORK;

/**
 * Every op on one NVIDIA GPU: longconv's CUDA kernels for padding, spectrum products, epilogues, short-conv,
 * ski and the causal window; cuFFT for the transforms; cuBLAS for gemm. float32 only. Long convolutions can
 * also run as one fused kernel ({@link ConvPath#FUSED}, FFT sizes up to 16384); {@link ConvPath#AUTO} picks it
 * only where {@link FusedTable} records it measured faster, which is nowhere yet (never run on a GPU), unless
 * {@code -Dlongconv.cuda.fused=on}.
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

    /** cuFFT plans are kept per (n, batch); past this many the cache starts over, so random shapes cannot exhaust memory. */
    private static final int MAX_PLANS = 256;

    final int device;
    final CudaStream stream;
    final Kernels kernels;
    private FftPlanCache ffts;
    private final BlasHandle blas;
    final Scratch scratch;

    private CudaBackend(int device) {
        Cuda.require("the cuda backend");
        Cuda.setDevice(device);
        this.device = device;
        this.stream = CudaStream.create();
        this.kernels = Kernels.on(stream);
        this.ffts = new FftPlanCache(stream);
        this.blas = BlasHandle.create(stream, BlasHandle.MathMode.DEFAULT);
        this.scratch = new Scratch(stream);
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
        return Device.cuda(device);
    }

    /** The stream every call is queued on (to time with CUDA events, or to wait for). */
    public CudaStream stream() {
        return stream;
    }

    private volatile boolean poisonOutputs;

    /**
     * For tests: fill every new result with NaN before the kernels write it, so an element they miss shows
     * as NaN instead of as whatever the allocator returned.
     */
    public void setPoisonOutputs(boolean on) {
        poisonOutputs = on;
    }

    boolean poisonOutputs() {
        return poisonOutputs;
    }

    /** Waits until every queued call has finished. */
    public synchronized void synchronize() {
        Cuda.setDevice(device);
        stream.synchronize();
    }

    /** Device bytes held as scratch between calls. */
    public synchronized long scratchBytes() {
        return scratch.bytes();
    }

    /** Frees the scratch buffers and cuFFT plans; the next call allocates them again. */
    public synchronized void releaseScratch() {
        Cuda.setDevice(device);
        scratch.close();
        ffts.close();
        ffts = new FftPlanCache(stream);
    }


    // ---------------------------------------------------------------- long convolutions

    @Override
    public Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = checked(() -> Check.causalConv(x, k, layout), Check.CAUSAL_CONV, x);
        try (ConvPlan plan = causalConvPlan(k, s.length(), layout)) {
            return plan.apply(x);
        }
    }

    /**
     * How a long convolution runs. {@link #FUSED} and {@link #CUFFT} compute the same thing (the composition in
     * longconv_cuda.h); they differ in passes over device memory and in the FFT sizes they take.
     */
    public enum ConvPath {
        /** The backend's choice under its {@link FusedMode} (by default the cuFFT pipeline: the fused kernel is unmeasured). */
        AUTO,
        /** pad, cuFFT R2C, spectrum product, cuFFT C2R, epilogue: five passes over device memory, any size. */
        CUFFT,
        /**
         * One launch per call (the FFT in shared memory): x read once, y written once. Power-of-two FFT sizes up to
         * {@link Kernels#FUSED_MAX_N} only, so L + Lk - 1 <= 16384 (causal) or 2L - 1 <= 16384 (toeplitz); a plan
         * asking for it where it does not apply throws.
         */
        FUSED
    }

    /**
     * What {@link ConvPath#AUTO} (every op call, and plans made without a path) does. Set by the system property
     * {@code longconv.cuda.fused} ({@code auto}, {@code on} or {@code off}; default {@code auto}) or
     * {@link #setFusedMode}.
     */
    public enum FusedMode {
        /** The fused kernel where {@link FusedTable} records it measured faster than cuFFT: nowhere yet, so cuFFT. */
        AUTO,
        /** The fused kernel wherever it takes the size and layout, cuFFT elsewhere. */
        ON,
        /** Always cuFFT. */
        OFF;

        /** The mode a property value names, case-insensitively; null or blank is AUTO. */
        public static FusedMode parse(String value) {
            if (value == null || value.isBlank()) return AUTO;
            return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> AUTO;
                case "on" -> ON;
                case "off" -> OFF;
                default -> throw new IllegalArgumentException("-Dlongconv.cuda.fused: expected auto, on or off, got '" + value + "'");
            };
        }
    }

    private volatile FusedMode fusedMode = FusedMode.parse(System.getProperty("longconv.cuda.fused"));

    /** Sets what {@link ConvPath#AUTO} does from now on (tests and benchmarks; plans already made keep their path). */
    public void setFusedMode(FusedMode mode) {
        fusedMode = java.util.Objects.requireNonNull(mode, "mode");
    }

    public FusedMode fusedMode() {
        return fusedMode;
    }

    @Override
    public ConvPlan causalConvPlan(Tensor k, int length, Layout layout) {
        return plan(CudaConvPlan.Kind.CAUSAL, k, length, layout, ConvPath.AUTO);
    }

    /** {@link #causalConvPlan(Tensor, int, Layout)} on a chosen path (benchmarks, tests); FUSED where it does not apply throws. */
    public ConvPlan causalConvPlan(Tensor k, int length, Layout layout, ConvPath path) {
        return plan(CudaConvPlan.Kind.CAUSAL, k, length, layout, path);
    }

    /** A toeplitz-conv plan (k has 2L-1 lags) on a chosen path; {@link #toeplitzConv} is one apply of an AUTO plan. */
    public ConvPlan toeplitzConvPlan(Tensor k, int length, Layout layout, ConvPath path) {
        return plan(CudaConvPlan.Kind.TOEPLITZ, k, length, layout, path);
    }

    @Override
    public Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = checked(() -> Check.toeplitzConv(x, k, layout), Check.TOEPLITZ_CONV, x);
        try (ConvPlan plan = plan(CudaConvPlan.Kind.TOEPLITZ, k, s.length(), layout, ConvPath.AUTO)) {
            return plan.apply(x);
        }
    }

    /** The FFT size a plan of this backend transforms at, and whether it runs the fused kernel (benchmarks report both). */
    public static int fftSize(ConvPlan plan) {
        return cudaPlan(plan).fftSize();
    }

    public static boolean isFused(ConvPlan plan) {
        return cudaPlan(plan).fused();
    }

    private static CudaConvPlan cudaPlan(ConvPlan plan) {
        if (plan instanceof CudaConvPlan p) return p;
        throw new IllegalArgumentException("not a cuda backend plan: " + plan);
    }

    private synchronized CudaConvPlan plan(CudaConvPlan.Kind kind, Tensor k, int length, Layout layout, ConvPath path) {
        String op = kind.op;
        if (k == null) throw new LongConvException(op, "k", "a tensor", "null");
        if (length < 1) throw new LongConvException(op, "length", "L >= 1", "L=" + length);
        if (k.rank() != 2) throw new LongConvException(op, "k", "rank 2 " + (layout == Layout.BDL ? "[D, taps]" : "[taps, D]"), k.toString());
        requireFloat32(op, "k", k);
        int d = Math.toIntExact(k.dim(layout == Layout.BDL ? 0 : 1)), taps = Math.toIntExact(k.dim(layout == Layout.BDL ? 1 : 0));
        if (kind == CudaConvPlan.Kind.TOEPLITZ && taps != 2 * length - 1) {
            throw new LongConvException(op, "k", "2L-1=" + (2 * length - 1) + " lags", k.toString());
        }
        if (taps < 1) throw new LongConvException(op, "k", "at least one tap", k.toString());
        long need = kind == CudaConvPlan.Kind.CAUSAL ? (long) length + taps - 1 : 2L * length - 1;
        int fusedN = fusedSize(op, path, fusedMode, need, length, taps, layout);
        int n = fusedN > 0 ? fusedN : CufftSizes.nextFastEven(need);
        Cuda.setDevice(device);
        try (Tensor kd = toDevice(op, "k", k)) {
            DeviceBuffer spectra = DeviceBuffer.allocate(Math.max(8, (long) d * (n / 2 + 1) * 8));
            try {
                if (d > 0) kernelSpectra(kd, d, taps, n, layout, spectra);
                return new CudaConvPlan(this, kind, d, taps, length, n, layout, spectra, fusedN > 0);
            } catch (RuntimeException | Error e) {
                spectra.close();
                throw e;
            }
        }
    }

    /**
     * The fused kernel's FFT size for {@code need} points when {@code path} (AUTO: under {@code mode}) picks it, else 0
     * (the cuFFT pipeline). Host code only: asks the kernels library, never the GPU.
     */
    static int fusedSize(String op, ConvPath path, FusedMode mode, long need, int length, int taps, Layout layout) {
        return switch (path) {
            case CUFFT -> 0;
            case FUSED -> requireFusedSize(op, need, length, taps, layout);
            case AUTO -> {
                int n = fusedFftSize(need, layout);
                boolean use = n > 0 && switch (mode) {
                    case ON -> true;
                    case OFF -> false;
                    case AUTO -> FusedTable.faster(n, layout);
                };
                yield use ? n : 0;
            }
        };
    }

    /**
     * The power-of-two FFT size the fused kernel would transform {@code need} points at, or 0 where it takes none
     * (the kernels library answers, without a GPU; IllegalStateException when it is not loaded).
     */
    static int fusedFftSize(long need, Layout layout) {
        if (need > Kernels.FUSED_MAX_N) return 0;
        int n = need <= 2 ? 2 : Integer.highestOneBit((int) need - 1) << 1;
        return Kernels.fusedConvSupported(n, code(layout)) ? n : 0;
    }

    /** {@link #fusedFftSize}, or the LongConvException for a FUSED request it cannot serve. */
    static int requireFusedSize(String op, long need, int length, int taps, Layout layout) {
        int n = fusedFftSize(need, layout);
        if (n == 0) {
            String sum = op.equals(Check.TOEPLITZ_CONV) ? "2L - 1" : "L + Lk - 1";
            throw new LongConvException(op, "path",
                    "FUSED only where " + sum + " <= " + Kernels.FUSED_MAX_N + " (the fused kernel's largest FFT size; use CUFFT or AUTO)",
                    sum + " = " + need + " (L=" + length + ", Lk=" + taps + ", " + layout + ")");
        }
        return n;
    }

    /** y through the fused kernel: one launch, the same result as {@link #fftForward}. */
    void fusedForward(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, int b, int d, int l, int n, DeviceBuffer spectra, int off,
                      Layout layout) {
        kernels.fusedConv(ptr(x), ptr(pre), ptr(post), ptr(skip), spectra.pointer(), ptr(y), b, d, l, n, off, false, code(layout));
    }

    /** The kernel's spectra [D, N/2+1] into {@code out}: zero-pad each channel's taps to N, one batched R2C. */
    private void kernelSpectra(Tensor k, int d, int taps, int n, Layout layout, DeviceBuffer out) {
        DeviceBuffer real = scratch.get(REAL_K, (long) d * n * 4);
        kernels.padKernel(ptr(k), real.pointer(), d, taps, n, code(layout));
        fft(n, d, FftPlanCache.Type.R2C).execute(real, 0, out, 0);
    }

    /**
     * y = post * conv(pre * x) + skip * x through the FFT, on device tensors already checked: pad (with the
     * pregate) to N, R2C, multiply by the kernel spectra, C2R, slice from {@code off} with the epilogue.
     */
    void fftForward(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, int b, int d, int l, int n, DeviceBuffer spectra, int off,
                    Layout layout) {
        long rows = (long) b * d;
        int bins = n / 2 + 1;
        DeviceBuffer real = scratch.get(REAL_X, rows * n * 4), spec = scratch.get(SPEC_X, rows * bins * 8);
        kernels.padInput(ptr(x), ptr(pre), real.pointer(), b, d, l, n, 0, code(layout));
        fft(n, rows, FftPlanCache.Type.R2C).execute(real, 0, spec, 0);
        kernels.mulSpectra(spec.pointer(), spectra.pointer(), spec.pointer(), b, d, bins, false);
        fft(n, rows, FftPlanCache.Type.C2R).execute(spec, 0, real, 0);
        kernels.epilogue(real.pointer(), ptr(x), ptr(post), ptr(skip), ptr(y), b, d, l, n, off, 1.0f / n, code(layout));
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
        long need = (long) s.length() + s.taps() - 1;
        int fusedN = fusedSize(Check.CAUSAL_CONV, ConvPath.AUTO, fusedMode, need, s.length(), s.taps(), layout);
        return fftBackward(Check.CAUSAL_CONV, x, k, gy, s, fusedN > 0 ? fusedN : CufftSizes.nextFastEven(need), 0, fusedN > 0, layout);
    }

    @Override
    public Grads toeplitzConvBackward(Tensor x, Tensor k, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.toeplitzConv(x, k, layout);
            Check.gradient(Check.TOEPLITZ_CONV, gy, x);
            return r;
        }, Check.TOEPLITZ_CONV, x);
        // gy enters at offset L-1 here, which the fused kernel does not do: both gradients stay on cuFFT
        return fftBackward(Check.TOEPLITZ_CONV, x, k, gy, s, CufftSizes.nextFastEven(2L * s.length() - 1), s.length() - 1, false, layout);
    }

    /**
     * Both gradients are correlations: gy (placed at {@code gyOffset}) against k for dx, and x against gy,
     * summed over the batch, for dk (see longconv_cuda.h). {@code fusedDx}: dx in one fused launch (gyOffset 0 only).
     */
    private synchronized Grads fftBackward(String op, Tensor x, Tensor k, Tensor gy, Check.SeqDims s, int n, int gyOffset, boolean fusedDx,
                                           Layout layout) {
        Cuda.setDevice(device);
        int b = s.batch(), d = s.channels(), l = s.length(), taps = s.taps(), bins = n / 2 + 1;
        long rows = (long) b * d;
        try (Staged in = new Staged(this, op, x, new String[] {"x", "k", "gy"}, x, k, gy)) {
            Tensor xd = in.get(0), kd = in.get(1), gd = in.get(2);
            Tensor dx = in.output(x.shape()), dk = in.output(k.shape());
            if (rows == 0) {
                zero(dx);
                zero(dk);
            } else {
                int lay = code(layout);
                DeviceBuffer kspec = scratch.get(SPEC_K, (long) d * bins * 8);
                kernelSpectra(kd, d, taps, n, layout, kspec);
                DeviceBuffer realG = scratch.get(REAL_G, rows * n * 4), specG = scratch.get(SPEC_G, rows * bins * 8);
                kernels.padInput(ptr(gd), MemorySegment.NULL, realG.pointer(), b, d, l, n, gyOffset, lay);
                fft(n, rows, FftPlanCache.Type.R2C).execute(realG, 0, specG, 0);
                DeviceBuffer realX = scratch.get(REAL_X, rows * n * 4), specX = scratch.get(SPEC_X, rows * bins * 8);
                kernels.padInput(ptr(xd), MemorySegment.NULL, realX.pointer(), b, d, l, n, 0, lay);
                fft(n, rows, FftPlanCache.Type.R2C).execute(realX, 0, specX, 0);
                DeviceBuffer specDk = scratch.get(SPEC_DK, (long) d * bins * 8), realK = scratch.get(REAL_K, (long) d * n * 4);
                kernels.mulAccBatch(specX.pointer(), specG.pointer(), specDk.pointer(), b, d, bins, true);
                fft(n, d, FftPlanCache.Type.C2R).execute(specDk, 0, realK, 0);
                kernels.sliceKernel(realK.pointer(), ptr(dk), d, taps, n, 0, 1.0f / n, lay);
                if (fusedDx) {
                    kernels.fusedConv(ptr(gd), MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, kspec.pointer(), ptr(dx), b, d, l, n, 0, true,
                            lay);
                    return in.grads(dx, dk, null);
                }
                kernels.mulSpectra(specG.pointer(), kspec.pointer(), specG.pointer(), b, d, bins, true);
                fft(n, rows, FftPlanCache.Type.C2R).execute(specG, 0, realG, 0);
                kernels.epilogue(realG.pointer(), MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, ptr(dx), b, d, l, n, 0, 1.0f / n, lay);
            }
            return in.grads(dx, dk, null);
        }
    }

    // ---------------------------------------------------------------- short-conv and ski

    @Override
    public synchronized Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        Check.SeqDims s = checked(() -> Check.shortConv(x, w, bias, mode, layout), Check.SHORT_CONV, x);
        shortWidth(s, w);
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.SHORT_CONV, x, new String[] {"x", "w", "bias"}, x, w, bias)) {
            Tensor y = in.output(x.shape());
            if (s.batch() == 0 || s.channels() == 0) return in.result(y);
            kernels.shortConv(ptr(in.get(0)), ptr(in.get(1)), ptr(in.get(2)), ptr(y), s.batch(), s.channels(), s.length(), s.taps(),
                    modeCode(mode), code(layout));
            return in.result(y);
        }
    }

    @Override
    public synchronized Grads shortConvBackward(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.shortConv(x, w, bias, mode, layout);
            Check.gradient(Check.SHORT_CONV, gy, x);
            return r;
        }, Check.SHORT_CONV, x);
        shortWidth(s, w);
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.SHORT_CONV, x, new String[] {"x", "w", "gy"}, x, w, gy)) {
            Tensor dx = in.output(x.shape()), dw = in.output(w.shape()), db = bias == null ? null : in.output(bias.shape());
            long ws = Kernels.shortConvBackwardWorkspaceBytes(s.batch(), s.channels(), s.length(), s.taps());
            if (ws <= 0) {
                zero(dx);
                zero(dw);
                if (db != null) zero(db);
            } else {
                int b = s.batch(), d = s.channels(), l = s.length(), taps = s.taps(), m = modeCode(mode), lay = code(layout);
                kernels.shortConvBackwardDx(ptr(in.get(2)), ptr(in.get(1)), ptr(dx), b, d, l, taps, m, lay);
                kernels.shortConvBackwardParams(ptr(in.get(0)), ptr(in.get(2)), ptr(dw), ptr(db), scratch.get(WORK, ws).pointer(), b, d, l, taps, m,
                        lay);
            }
            return in.grads(dx, dw, db);
        }
    }

    private static void shortWidth(Check.SeqDims s, Tensor w) {
        if (s.taps() > Kernels.SHORT_MAX_WIDTH) {
            throw new LongConvException(Check.SHORT_CONV, "w", "a width W <= " + Kernels.SHORT_MAX_WIDTH + " on the cuda backend (use causal-conv for longer kernels)",
                    "W=" + s.taps() + " in " + w);
        }
    }

    @Override
    public synchronized Tensor ski(Tensor x, Tensor kr, Layout layout) {
        Check.SeqDims s = checked(() -> Check.ski(x, kr, layout), Check.SKI, x);
        long r = skiRank(s, kr);
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.SKI, x, new String[] {"x", "kr"}, x, kr)) {
            Tensor y = in.output(x.shape());
            long rows = (long) s.batch() * s.channels();
            if (rows == 0) return in.result(y);
            kernels.ski(ptr(in.get(0)), ptr(in.get(1)), ptr(y), scratch.get(WORK, 2 * rows * r * 4).pointer(), s.batch(), s.channels(), s.length(),
                    s.taps(), code(layout));
            return in.result(y);
        }
    }

    @Override
    public synchronized Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        Check.SeqDims s = checked(() -> {
            Check.SeqDims r = Check.ski(x, kr, layout);
            Check.gradient(Check.SKI, gy, x);
            return r;
        }, Check.SKI, x);
        long r = skiRank(s, kr);
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.SKI, x, new String[] {"x", "kr", "gy"}, x, kr, gy)) {
            Tensor dx = in.output(x.shape()), dkr = in.output(kr.shape());
            long rows = (long) s.batch() * s.channels();
            if (rows == 0) {
                zero(dx);
                zero(dkr);
            } else {
                kernels.skiBackward(ptr(in.get(0)), ptr(in.get(1)), ptr(in.get(2)), ptr(dx), ptr(dkr), scratch.get(WORK, 3 * rows * r * 4).pointer(),
                        s.batch(), s.channels(), s.length(), s.taps(), code(layout));
            }
            return in.grads(dx, dkr, null);
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
    public synchronized Tensor causalSpectrum(Tensor re, int n) {
        int d = checked(() -> Check.causalSpectrum(re, n), Check.CAUSAL_SPECTRUM, re);
        int bins = n / 2 + 1;
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.CAUSAL_SPECTRUM, re, new String[] {"re"}, re)) {
            Tensor out = in.output(d, bins, 2);
            if (d == 0) return in.result(out);
            long count = (long) d * bins;
            // (re, 0) pairs: rows [re; zeros] of a [2, count] buffer, transposed to [count, 2] by the layout kernel
            DeviceBuffer pairs = scratch.get(REAL_G, 2 * count * 4), spec = scratch.get(SPEC_X, count * 8), real = scratch.get(REAL_X, (long) d * n * 4);
            Tensor r = in.get(0);
            pairs.copyFromAsync(r.deviceBuffer(), r.offset() * 4, 0, count * 4, stream);
            pairs.memsetAsync(0, count * 4, count * 4, stream);
            kernels.convertLayout(pairs.pointer(), spec.pointer(), 1, 2, count, Kernels.BDL, Kernels.BLD);
            fft(n, d, FftPlanCache.Type.C2R).execute(spec, 0, real, 0);
            kernels.causalWindow(real.pointer(), real.pointer(), d, n, 1.0f / n);
            fft(n, d, FftPlanCache.Type.R2C).execute(real, 0, out.deviceBuffer(), 0);
            return in.result(out);
        }
    }

    @Override
    public synchronized Tensor rfft(Tensor x, int n) {
        checked(() -> {
            Check.rfft(x, n);
            return null;
        }, Check.RFFT, x);
        int m = Math.toIntExact(x.dim(-1)), bins = n / 2 + 1;
        long rows = x.numel() / m;
        long[] shape = x.shape(), outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length - 1] = bins;
        outShape[shape.length] = 2;
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.RFFT, x, new String[] {"x"}, x)) {
            Tensor out = in.output(outShape);
            if (rows == 0) return in.result(out);
            Tensor xd = in.get(0);
            DeviceBuffer src = xd.deviceBuffer(), dst = out.deviceBuffer();
            long xOff = xd.offset() * 4;
            if (n == 1) { // one bin, the first sample: no transform needed (nor does cuFFT promise one of length 1)
                dst.memsetAsync(0, 0, rows * 8, stream);
                dst.copy2DFromAsync(src, xOff, (long) m * 4, 0, 8, 4, rows, stream);
            } else if (m == n && xOff % 8 == 0) {
                fft(n, rows, FftPlanCache.Type.R2C).execute(src, xOff, dst, 0);
            } else {
                DeviceBuffer real = scratch.get(REAL_X, rows * n * 4);
                if (m < n) real.memsetAsync(0, 0, rows * n * 4, stream);
                real.copy2DFromAsync(src, xOff, (long) m * 4, 0, (long) n * 4, (long) Math.min(m, n) * 4, rows, stream);
                fft(n, rows, FftPlanCache.Type.R2C).execute(real, 0, dst, 0);
            }
            return in.result(out);
        }
    }

    @Override
    public synchronized Tensor irfft(Tensor x, int n) {
        checked(() -> {
            Check.irfft(x, n);
            return null;
        }, Check.IRFFT, x);
        int m = Math.toIntExact(x.dim(-2)), bins = n / 2 + 1;
        long rows = x.numel() / (2L * m);
        long[] shape = x.shape(), outShape = Arrays.copyOf(shape, shape.length - 1);
        outShape[outShape.length - 1] = n;
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.IRFFT, x, new String[] {"x"}, x)) {
            Tensor out = in.output(outShape);
            if (rows == 0) return in.result(out);
            Tensor xd = in.get(0);
            long pitch = (long) bins * 8;
            DeviceBuffer spec = scratch.get(SPEC_X, rows * pitch), dst = out.deviceBuffer();
            // crop or zero-pad to N/2+1 bins; the imaginary parts of DC and Nyquist do not enter numpy's irfft, so clear them
            if (m < bins) spec.memsetAsync(0, 0, rows * pitch, stream);
            spec.copy2DFromAsync(xd.deviceBuffer(), xd.offset() * 4, (long) m * 8, 0, pitch, (long) Math.min(m, bins) * 8, rows, stream);
            spec.memset2DAsync(0, 4, pitch, 4, rows, stream);
            if (n % 2 == 0 && m >= bins) spec.memset2DAsync(0, (bins - 1) * 8L + 4, pitch, 4, rows, stream);
            if (n == 1) {
                dst.copy2DFromAsync(spec, 0, pitch, 0, 4, 4, rows, stream);
            } else {
                fft(n, rows, FftPlanCache.Type.C2R).execute(spec, 0, dst, 0);
                kernels.scale(dst.pointer(), dst.pointer(), rows * n, 1.0f / n);
            }
            return in.result(out);
        }
    }

    @Override
    public synchronized Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        Check.GemmDims g = checked(() -> Check.gemm(a, b, transA, transB), Check.GEMM, a);
        Cuda.setDevice(device);
        try (Staged in = new Staged(this, Check.GEMM, a, new String[] {"a", "b"}, a, b)) {
            Tensor c = in.output(g.m(), g.n());
            if (g.m() == 0 || g.n() == 0) return in.result(c);
            if (g.k() == 0) {
                zero(c);
                return in.result(c);
            }
            Tensor ad = in.get(0), bd = in.get(1);
            // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a row-major matrix read
            // column-major is its transpose: so B goes first, each operand's leading dimension is its row length
            blas.sgemm(transB ? BlasHandle.Op.T : BlasHandle.Op.N, transA ? BlasHandle.Op.T : BlasHandle.Op.N, g.n(), g.m(), g.k(), 1f,
                    bd.deviceBuffer(), bd.offset() * 4, Math.toIntExact(bd.dim(1)), ad.deviceBuffer(), ad.offset() * 4, Math.toIntExact(ad.dim(1)), 0f,
                    c.deviceBuffer(), 0, g.n());
            return in.result(c);
        }
    }

    // ---------------------------------------------------------------- plumbing

    /** Runs a {@link Check} accepting device tensors, then requires float32 and this backend's device or the host. */
    <T> T checked(Supplier<T> check, String op, Tensor x) {
        T r = Check.onDevices(check);
        requireFloat32(op, x == null ? "x" : argName(op), x);
        Device where = x.device();
        if (where.kind() == Device.Kind.CUDA && where.index() != device) {
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

    /** A device tensor for a checked argument: the tensor itself when on the device and contiguous, else a device copy. */
    Tensor toDevice(String op, String arg, Tensor t) {
        if (t.device().kind() == Device.Kind.CPU) return t.to(device());
        if (!t.isContiguous()) {
            throw new LongConvException(op, arg, "a contiguous tensor on " + device() + " (strided device views are not supported)",
                    t + " with strides " + Arrays.toString(t.strides()));
        }
        return t.contiguous();
    }

    FftPlanCache.Plan fft(int n, long batch, FftPlanCache.Type type) {
        if (ffts.size() >= MAX_PLANS) {
            stream.synchronize();
            ffts.close();
            ffts = new FftPlanCache(stream);
        }
        return ffts.plan(n, Math.toIntExact(batch), type);
    }

    void zero(Tensor t) {
        t.deviceBuffer().memsetAsync(0, t.offset() * 4, t.numel() * 4, stream);
    }

    static MemorySegment ptr(Tensor t) {
        return t == null ? MemorySegment.NULL : t.deviceBuffer().pointer(t.offset() * t.dtype().byteSize());
    }

    static int code(Layout layout) {
        return layout == Layout.BDL ? Kernels.BDL : Kernels.BLD;
    }

    private static int modeCode(ShortConvMode mode) {
        return mode == ShortConvMode.CAUSAL ? Kernels.SHORT_CAUSAL : Kernels.SHORT_SAME;
    }
}
