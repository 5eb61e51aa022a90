package dev.longconv.backend.cuda;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.FftPlanCache;
import dev.longconv.ops.Grads;
import dev.longconv.ops.spi.Check;

import java.lang.foreign.MemorySegment;

import static dev.longconv.backend.cuda.CudaMemory.pointer;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_G;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_K;
import static dev.longconv.backend.cuda.Scratch.Role.REAL_X;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_DK;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_G;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_K;
import static dev.longconv.backend.cuda.Scratch.Role.SPEC_X;

/**
 * Gradients of the long convolutions on the GPU. Both are correlations: gy (placed at {@code gyOffset}) against k
 * for dx, and x against gy, summed over the batch, for dk (see longconv_cuda.h).
 */
final class CudaConvBackward {
    private CudaConvBackward() {}

    /** {@code fusedDx}: dx in one fused launch (gyOffset 0 only). Runs with the context held. */
    static Grads grads(CudaContext ctx, String op, Tensor x, Tensor k, Tensor gy, Check.SeqDims s, int n, int gyOffset, boolean fusedDx,
                       Layout layout) {
        ctx.activate();
        int b = s.batch(), d = s.channels(), l = s.length(), taps = s.taps(), bins = n / 2 + 1;
        long rows = (long) b * d;
        try (Staged in = new Staged(ctx, op, x, new String[] {"x", "k", "gy"}, x, k, gy)) {
            Tensor xd = in.get(0), kd = in.get(1), gd = in.get(2);
            Tensor dx = in.output(x.shape()), dk = in.output(k.shape());
            if (rows == 0) {
                ctx.zero(dx);
                ctx.zero(dk);
                return in.grads(dx, dk, null);
            }
            int lay = CudaContext.code(layout);
            Scratch scratch = ctx.scratch;
            DeviceBuffer kspec = scratch.get(SPEC_K, (long) d * bins * 8);
            FftPipeline.kernelSpectra(ctx, kd, d, taps, n, layout, kspec);
            DeviceBuffer realG = scratch.get(REAL_G, rows * n * 4), specG = scratch.get(SPEC_G, rows * bins * 8);
            ctx.kernels.padInput(pointer(gd), MemorySegment.NULL, realG.pointer(), b, d, l, n, gyOffset, lay);
            ctx.fft(n, rows, FftPlanCache.Type.R2C).execute(realG, 0, specG, 0);
            DeviceBuffer realX = scratch.get(REAL_X, rows * n * 4), specX = scratch.get(SPEC_X, rows * bins * 8);
            ctx.kernels.padInput(pointer(xd), MemorySegment.NULL, realX.pointer(), b, d, l, n, 0, lay);
            ctx.fft(n, rows, FftPlanCache.Type.R2C).execute(realX, 0, specX, 0);
            DeviceBuffer specDk = scratch.get(SPEC_DK, (long) d * bins * 8), realK = scratch.get(REAL_K, (long) d * n * 4);
            ctx.kernels.mulAccBatch(specX.pointer(), specG.pointer(), specDk.pointer(), b, d, bins, true);
            ctx.fft(n, d, FftPlanCache.Type.C2R).execute(specDk, 0, realK, 0);
            ctx.kernels.sliceKernel(realK.pointer(), pointer(dk), d, taps, n, 0, 1.0f / n, lay);
            if (fusedDx) {
                ctx.kernels.fusedConv(pointer(gd), MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, kspec.pointer(), pointer(dx),
                        b, d, l, n, 0, true, lay);
                return in.grads(dx, dk, null);
            }
            ctx.kernels.mulSpectra(specG.pointer(), kspec.pointer(), specG.pointer(), b, d, bins, true);
            ctx.fft(n, rows, FftPlanCache.Type.C2R).execute(specG, 0, realG, 0);
            ctx.kernels.epilogue(realG.pointer(), MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, pointer(dx), b, d, l, n, 0, 1.0f / n, lay);
            return in.grads(dx, dk, null);
        }
    }
}
