package dev.longconv.backend.cuda;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.FftPlanCache;

import static dev.longconv.backend.cuda.CudaMemory.pointer;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_K;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_X;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_X;

/**
 * The FFT convolution of one plan on the GPU: the kernel's spectra at the plan's size N (owned: close frees them)
 * and the passes that apply them, either the cuFFT pipeline (pad with the pregate, R2C, spectrum product, C2R,
 * slice with the epilogue) or one launch of the fused kernel. Every method runs with the context held.
 */
final class FftPipeline implements AutoCloseable {
    private final CudaContext ctx;
    private final DeviceBuffer spectra;
    private final int n, offset;
    private final boolean fused;
    private final Layout layout;

    private FftPipeline(CudaContext ctx, DeviceBuffer spectra, int n, boolean fused, Layout layout, int offset) {
        this.ctx = ctx;
        this.spectra = spectra;
        this.n = n;
        this.fused = fused;
        this.layout = layout;
        this.offset = offset;
    }

    /**
     * The pipeline of kernel {@code k} (a device tensor, [D, taps] or [taps, D]) at {@code choice}'s size; outputs are
     * read from index {@code offset} of the circular result (0 causal, L - 1 toeplitz).
     */
    static FftPipeline prepare(CudaContext ctx, Tensor k, int channels, int taps, CudaPathChooser.Choice choice, Layout layout, int offset) {
        int n = choice.fftSize();
        DeviceBuffer spectra = DeviceBuffer.allocate(Math.max(8, (long) channels * (n / 2 + 1) * 8));
        try {
            if (channels > 0) kernelSpectra(ctx, k, channels, taps, n, layout, spectra);
            return new FftPipeline(ctx, spectra, n, choice.fused(), layout, offset);
        } catch (RuntimeException | Error e) {
            spectra.close();
            throw e;
        }
    }

    int fftSize() {
        return n;
    }

    boolean fused() {
        return fused;
    }

    /** The kernel's spectra [D, N/2+1] into {@code out}: zero-pad each channel's taps to N, one batched R2C. */
    static void kernelSpectra(CudaContext ctx, Tensor k, int d, int taps, int n, Layout layout, DeviceBuffer out) {
        DeviceBuffer real = ctx.scratch.get(REAL_K, (long) d * n * 4);
        ctx.kernels.padKernel(pointer(k), real.pointer(), d, taps, n, CudaContext.code(layout));
        ctx.fft(n, d, FftPlanCache.Type.R2C).execute(real, 0, out, 0);
    }

    /** y = post * conv(pre * x) + skip * x on device tensors already checked ([B, D, L] as planned). */
    void forward(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, int b, int d, int l) {
        int lay = CudaContext.code(layout);
        if (fused) {
            ctx.kernels.fusedConv(pointer(x), pointer(pre), pointer(post), pointer(skip), spectra.pointer(), pointer(y), b, d, l, n, offset, false, lay);
            return;
        }
        long rows = (long) b * d;
        int bins = n / 2 + 1;
        DeviceBuffer real = ctx.scratch.get(REAL_X, rows * n * 4), spec = ctx.scratch.get(SPEC_X, rows * bins * 8);
        ctx.kernels.padInput(pointer(x), pointer(pre), real.pointer(), b, d, l, n, 0, lay);
        ctx.fft(n, rows, FftPlanCache.Type.R2C).execute(real, 0, spec, 0);
        ctx.kernels.mulSpectra(spec.pointer(), spectra.pointer(), spec.pointer(), b, d, bins, false);
        ctx.fft(n, rows, FftPlanCache.Type.C2R).execute(spec, 0, real, 0);
        ctx.kernels.epilogue(real.pointer(), pointer(x), pointer(post), pointer(skip), pointer(y), b, d, l, n, offset, 1.0f / n, lay);
    }

    @Override
    public void close() {
        synchronized (ctx) {
            if (spectra.isClosed()) return;
            ctx.activate();
            spectra.close();
        }
    }
}
