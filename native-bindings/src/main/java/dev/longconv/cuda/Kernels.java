package dev.longconv.cuda;

import dev.longconv.cuda.gen.kernels.kernels_h;

import java.lang.foreign.MemorySegment;

/**
 * longconv's CUDA kernels ({@code kernels-cuda/include/longconv_cuda.h}, where each entry's contract is
 * written) as Java calls on a {@link CudaStream}: every error code becomes a {@link CudaException} naming the
 * entry. Pointers are device addresses from {@link DeviceBuffer#pointer(long)}, or {@link MemorySegment#NULL}
 * where the header allows NULL; sizes are the header's. The kernels check sizes and pointers cheaply themselves
 * (cudaErrorInvalidValue), but not that a buffer is large enough: callers size them from the same shapes.
 */
public final class Kernels {
    /** Layout codes of the ABI (LONGCONV_BDL, LONGCONV_BLD). */
    public static final int BDL = 0, BLD = 1;
    /** short-conv modes of the ABI. */
    public static final int SHORT_CAUSAL = 0, SHORT_SAME = 1;
    /** The widest short-conv kernel and the largest ski rank the kernels take. */
    public static final int SHORT_MAX_WIDTH = 256, SKI_MAX_RANK = 4096;

    private final CudaStream queue;

    private Kernels(CudaStream queue) {
        this.queue = queue;
    }

    /** The kernels queued on {@code stream}; IllegalStateException when the kernels library is not loaded. */
    public static Kernels on(CudaStream stream) {
        KernelLibrary.Status s = KernelLibrary.status();
        if (!s.loaded()) throw new IllegalStateException("longconv CUDA kernels unavailable: " + s.problem());
        return new Kernels(stream);
    }

    /** The stream's handle, asked per call so that a closed stream fails in Java rather than in the driver. */
    private MemorySegment stream() {
        return queue.handle();
    }

    private static void check(String fn, int err) {
        CudaException.check(fn, err);
    }

    public void scale(MemorySegment x, MemorySegment y, long n, float alpha) {
        check("longconv_scale_f32", kernels_h.longconv_scale_f32(x, y, n, alpha, stream()));
    }

    public void padInput(MemorySegment x, MemorySegment pre, MemorySegment buf, long b, long d, long l, long n, long off, int layout) {
        check("longconv_fft_pad_input_f32", kernels_h.longconv_fft_pad_input_f32(x, pre, buf, b, d, l, n, off, layout, stream()));
    }

    public void padKernel(MemorySegment k, MemorySegment buf, long d, long taps, long n, int layout) {
        check("longconv_fft_pad_kernel_f32", kernels_h.longconv_fft_pad_kernel_f32(k, buf, d, taps, n, layout, stream()));
    }

    public void mulSpectra(MemorySegment x, MemorySegment k, MemorySegment y, long b, long d, long f, boolean conjK) {
        check("longconv_fft_mul_spectra_f32", kernels_h.longconv_fft_mul_spectra_f32(x, k, y, b, d, f, conjK ? 1 : 0, stream()));
    }

    public void mulAccBatch(MemorySegment x, MemorySegment g, MemorySegment dk, long b, long d, long f, boolean conjX) {
        check("longconv_fft_mul_acc_batch_f32", kernels_h.longconv_fft_mul_acc_batch_f32(x, g, dk, b, d, f, conjX ? 1 : 0, stream()));
    }

    public void epilogue(MemorySegment buf, MemorySegment x, MemorySegment post, MemorySegment skip, MemorySegment y, long b, long d, long l,
                         long n, long off, float scale, int layout) {
        check("longconv_fft_epilogue_f32", kernels_h.longconv_fft_epilogue_f32(buf, x, post, skip, y, b, d, l, n, off, scale, layout, stream()));
    }

    public void sliceKernel(MemorySegment buf, MemorySegment k, long d, long taps, long n, long off, float scale, int layout) {
        check("longconv_fft_slice_kernel_f32", kernels_h.longconv_fft_slice_kernel_f32(buf, k, d, taps, n, off, scale, layout, stream()));
    }

    public void channelDot(MemorySegment a, MemorySegment bb, MemorySegment out, long b, long d, long l, int layout) {
        check("longconv_channel_dot_f32", kernels_h.longconv_channel_dot_f32(a, bb, out, b, d, l, layout, stream()));
    }

    public void shortConv(MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y, long b, long d, long l, long width, int mode,
                          int layout) {
        check("longconv_short_conv_f32", kernels_h.longconv_short_conv_f32(x, w, bias, y, b, d, l, width, mode, layout, stream()));
    }

    public void shortConvBackwardDx(MemorySegment gy, MemorySegment w, MemorySegment dx, long b, long d, long l, long width, int mode, int layout) {
        check("longconv_short_conv_backward_dx_f32",
                kernels_h.longconv_short_conv_backward_dx_f32(gy, w, dx, b, d, l, width, mode, layout, stream()));
    }

    /** Workspace bytes {@link #shortConvBackwardParams} needs; -1 for sizes it rejects. */
    public static long shortConvBackwardWorkspaceBytes(long b, long d, long l, long width) {
        return kernels_h.longconv_short_conv_backward_workspace_bytes(b, d, l, width);
    }

    public void shortConvBackwardParams(MemorySegment x, MemorySegment gy, MemorySegment dw, MemorySegment dbias, MemorySegment workspace,
                                        long b, long d, long l, long width, int mode, int layout) {
        check("longconv_short_conv_backward_params_f32",
                kernels_h.longconv_short_conv_backward_params_f32(x, gy, dw, dbias, workspace, b, d, l, width, mode, layout, stream()));
    }

    public void ski(MemorySegment x, MemorySegment kr, MemorySegment y, MemorySegment workspace, long b, long d, long l, long nk, int layout) {
        check("longconv_ski_f32", kernels_h.longconv_ski_f32(x, kr, y, workspace, b, d, l, nk, layout, stream()));
    }

    public void skiBackward(MemorySegment x, MemorySegment kr, MemorySegment gy, MemorySegment dx, MemorySegment dkr, MemorySegment workspace,
                            long b, long d, long l, long nk, int layout) {
        check("longconv_ski_backward_f32", kernels_h.longconv_ski_backward_f32(x, kr, gy, dx, dkr, workspace, b, d, l, nk, layout, stream()));
    }

    /** The largest FFT length the fused kernel takes (LONGCONV_FUSED_MAX_N). */
    public static final int FUSED_MAX_N = 16384;

    /**
     * Whether {@link #fusedConv} takes FFT length {@code n} in {@code layout}: the library's own answer (host code,
     * no GPU needed), so Java and the kernels cannot disagree. IllegalStateException when the library is not loaded.
     */
    public static boolean fusedConvSupported(long n, int layout) {
        KernelLibrary.Status s = KernelLibrary.status();
        if (!s.loaded()) throw new IllegalStateException("longconv CUDA kernels unavailable: " + s.problem());
        return kernels_h.longconv_fused_conv_supported(n, layout) != 0;
    }

    /**
     * The fused FFT convolution (longconv_fused_conv_f32): pad, R2C, spectrum product, C2R and epilogue in one launch;
     * {@code spectra} is the plan's [D, N/2+1] complex kernel spectra at this {@code n}.
     */
    public void fusedConv(MemorySegment x, MemorySegment pre, MemorySegment post, MemorySegment skip, MemorySegment spectra, MemorySegment y,
                          long b, long d, long l, long n, long off, boolean conjK, int layout) {
        check("longconv_fused_conv_f32",
                kernels_h.longconv_fused_conv_f32(x, pre, post, skip, spectra, y, b, d, l, n, off, conjK ? 1 : 0, layout, stream()));
    }

    public void causalWindow(MemorySegment e, MemorySegment h, long d, long n, float scale) {
        check("longconv_causal_window_f32", kernels_h.longconv_causal_window_f32(e, h, d, n, scale, stream()));
    }

    public void convertLayout(MemorySegment in, MemorySegment out, long b, long d, long l, int from, int to) {
        check("longconv_convert_layout_f32", kernels_h.longconv_convert_layout_f32(in, out, b, d, l, from, to, stream()));
    }
}
