package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.cuda.Cuda;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.ops.Check;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Seq;

import java.util.Arrays;

/**
 * A causal (or Toeplitz) convolution with its kernel's spectra kept on the GPU: each apply is pad, R2C,
 * spectrum product, C2R and the epilogue, with the gates and skip fused into the pad and the epilogue, or (a
 * fused plan) all of that in one launch of longconv_fused_conv_f32 with the spectra taken at its power-of-two N.
 * Holds device memory: close it.
 */
final class CudaConvPlan implements ConvPlan {
    enum Kind {
        CAUSAL(Check.CAUSAL_CONV), TOEPLITZ(Check.TOEPLITZ_CONV);

        final String op;

        Kind(String op) {
            this.op = op;
        }
    }

    private final CudaBackend backend;
    private final Kind kind;
    private final int channels, taps, length, n;
    private final Layout layout;
    private final DeviceBuffer spectra;
    private final boolean fused;

    CudaConvPlan(CudaBackend backend, Kind kind, int channels, int taps, int length, int n, Layout layout, DeviceBuffer spectra, boolean fused) {
        this.backend = backend;
        this.kind = kind;
        this.channels = channels;
        this.taps = taps;
        this.length = length;
        this.n = n;
        this.layout = layout;
        this.spectra = spectra;
        this.fused = fused;
    }

    /** Whether applies run the fused single-pass kernel (else the cuFFT pipeline). */
    boolean fused() {
        return fused;
    }

    /** The FFT length the plan transforms at. */
    int fftSize() {
        return n;
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
        applyGatedInto(x, null, null, null, y, layout);
    }

    @Override
    public void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        String op = kind.op;
        if (layout != this.layout) throw new LongConvException(op, "layout", "the planned " + this.layout, layout.toString());
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
        synchronized (backend) {
            Cuda.setDevice(backend.device);
            try (Staged in = new Staged(backend, op, x, new String[] {"x", "pregate", "postgate", "skip"}, x, pre, post, skip)) {
                Tensor out = host ? in.output(x.shape()) : y;
                if (s.batch() == 0 || s.channels() == 0) {
                    backend.zero(out);
                } else {
                    int off = kind == Kind.TOEPLITZ ? length - 1 : 0;
                    if (fused) {
                        backend.fusedForward(in.get(0), in.get(1), in.get(2), in.get(3), out, s.batch(), s.channels(), s.length(), n, spectra, off,
                                layout);
                    } else {
                        backend.fftForward(in.get(0), in.get(1), in.get(2), in.get(3), out, s.batch(), s.channels(), s.length(), n, spectra, off,
                                layout);
                    }
                }
                if (host) {
                    try (Tensor back = out.to(Device.CPU)) {
                        if (y.isContiguous()) {
                            java.lang.foreign.MemorySegment.copy(back.segment(), 0, y.segment(), 0, back.segment().byteSize());
                        } else {
                            for (long i = 0, m = back.numel(); i < m; i++) y.setFlat(i, back.getFlat(i));
                        }
                    }
                }
            }
        }
    }

    private void checkInput(Tensor x) {
        String op = kind.op;
        if (x == null) throw new LongConvException(op, "x", "a tensor", "null");
        if (!x.isAlive()) throw new LongConvException(op, "x", "a live tensor", "a closed one");
        CudaBackend.requireFloat32(op, "x", x);
        if (x.device().kind() == Device.Kind.CUDA && !x.device().equals(backend.device())) {
            throw new LongConvException(op, "x", "device cpu or " + backend.device(), x.device().toString());
        }
        if (x.rank() != 3 || x.dim(layout == Layout.BDL ? 1 : 2) != channels || x.dim(layout == Layout.BDL ? 2 : 1) != length) {
            String want = layout == Layout.BDL ? "[B, D=" + channels + ", L=" + length + "]" : "[B, L=" + length + ", D=" + channels + "]";
            throw new LongConvException(op, "x", "shape " + want + " (" + layout + ", as planned)", x.dtype() + Arrays.toString(x.shape()));
        }
    }

    @Override
    public void close() {
        synchronized (backend) {
            if (spectra.isClosed()) return;
            Cuda.setDevice(backend.device);
            spectra.close();
        }
    }
}
