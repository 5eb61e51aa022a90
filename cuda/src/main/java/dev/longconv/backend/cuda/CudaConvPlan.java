package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Seq;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A causal (or Toeplitz) convolution with its kernel's spectra kept on the GPU in an {@link FftPipeline} the plan
 * owns: each apply is the cuFFT pipeline with the gates and skip fused into the pad and the epilogue, or (a fused
 * plan) one launch of longconv_fused_conv_f32. Holds device memory: close it.
 */
final class CudaConvPlan implements ConvPlan {
    private final CudaContext ctx;
    private final ConvProblem problem;
    private final FftPipeline pipeline;

    CudaConvPlan(CudaContext ctx, ConvProblem problem, FftPipeline pipeline) {
        this.ctx = ctx;
        this.problem = problem;
        this.pipeline = pipeline;
    }

    @Override
    public ConvProblem problem() {
        return problem;
    }

    @Override
    public Description describe() {
        return new Description("cuda", pipeline.fused() ? "fused" : "fft", pipeline.fftSize());
    }

    @Override
    public Tensor apply(Tensor x) {
        checkInput(x);
        Tensor y = Tensor.empty(x.device(), x.dtype(), x.shape());
        try {
            applyInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        applyGatedInto(x, null, null, null, y, problem.layout());
    }

    @Override
    public void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        String op = problem.op();
        if (layout != problem.layout()) throw new LongConvException(op, "layout", "the planned " + problem.layout(), String.valueOf(layout));
        checkInput(x);
        Check.onDevices(() -> {
            Check.gates(op, x, pre, post, skip, layout);
            return null;
        });
        if (y == null || !y.isAlive() || !y.sameShape(x) || y.dtype() != x.dtype() || !y.device().equals(x.device())) {
            throw new LongConvException(op, "y", "a live tensor " + x.dtype() + Arrays.toString(x.shape()) + " on " + x.device() + " (as x)",
                    String.valueOf(y));
        }
        boolean host = x.device().kind() == Device.Kind.CPU;
        if (host && y.storageSegment().isReadOnly()) throw new LongConvException(op, "y", "a writable tensor", "a read-only mapping");
        if (!host && !y.isContiguous()) throw new LongConvException(op, "y", "a contiguous device tensor", y + " with strides " + Arrays.toString(y.strides()));
        Seq s = Seq.of(x, layout);
        synchronized (ctx) {
            ctx.activate();
            try (Staged in = new Staged(ctx, op, x, new String[] {"x", "pregate", "postgate", "skip"}, x, pre, post, skip)) {
                Tensor out = host ? in.output(x.shape()) : y;
                if (s.batch() == 0 || s.channels() == 0) ctx.zero(out);
                else pipeline.forward(in.get(0), in.get(1), in.get(2), in.get(3), out, s.batch(), s.channels(), s.length());
                if (host) copyBack(out, y);
            }
        }
    }

    /** The device result into the host output y (any strides), waiting for it. */
    private static void copyBack(Tensor out, Tensor y) {
        try (Tensor back = out.to(Device.CPU)) {
            if (y.isContiguous()) {
                MemorySegment.copy(back.segment(), 0, y.segment(), 0, back.segment().byteSize());
            } else {
                for (long i = 0, m = back.numel(); i < m; i++) y.setFlat(i, back.getFlat(i));
            }
        }
    }

    private void checkInput(Tensor x) {
        String op = problem.op();
        if (x == null) throw new LongConvException(op, "x", "a tensor", "null");
        if (!x.isAlive()) throw new LongConvException(op, "x", "a live tensor", "a closed one");
        CudaBackend.requireFloat32(op, "x", x);
        if (x.device().kind() == Device.Kind.CUDA && !x.device().equals(ctx.deviceId())) {
            throw new LongConvException(op, "x", "device cpu or " + ctx.deviceId(), x.device().toString());
        }
        Layout layout = problem.layout();
        int channels = problem.channels(), length = problem.length();
        if (x.rank() != 3 || x.dim(layout == Layout.BDL ? 1 : 2) != channels || x.dim(layout == Layout.BDL ? 2 : 1) != length) {
            String want = layout == Layout.BDL ? "[B, D=" + channels + ", L=" + length + "]" : "[B, L=" + length + ", D=" + channels + "]";
            throw new LongConvException(op, "x", "shape " + want + " (" + layout + ", as planned)", x.dtype() + Arrays.toString(x.shape()));
        }
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
