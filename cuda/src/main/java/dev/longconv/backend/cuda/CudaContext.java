package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.cuda.BlasHandle;
import dev.longconv.cuda.Cuda;
import dev.longconv.cuda.CudaStream;
import dev.longconv.cuda.FftPlanCache;
import dev.longconv.cuda.Kernels;

import java.util.Arrays;

/**
 * What every cuda-backend call on one device shares: the stream all work is queued on, longconv's kernels on it,
 * the cuFFT plan cache, the cuBLAS handle and the device scratch. Calls serialize on this object
 * ({@code synchronized (ctx)}): the backend's ops and every plan's applies, since they share the scratch.
 */
final class CudaContext {
    /** cuFFT plans are kept per (n, batch); past this many the cache starts over, so random shapes cannot exhaust memory. */
    private static final int MAX_PLANS = 256;

    final int device;
    final CudaStream stream;
    final Kernels kernels;
    final BlasHandle blas;
    final Scratch scratch;
    private FftPlanCache ffts;
    private volatile boolean poisonOutputs;

    CudaContext(int device) {
        Cuda.require("the cuda backend");
        Cuda.setDevice(device);
        this.device = device;
        this.stream = CudaStream.create();
        this.kernels = Kernels.on(stream);
        this.ffts = new FftPlanCache(stream);
        this.blas = BlasHandle.create(stream, BlasHandle.MathMode.DEFAULT);
        this.scratch = new Scratch(stream);
    }

    Device deviceId() {
        return Device.cuda(device);
    }

    /** Makes this context's device the calling thread's current one (every call starts with it). */
    void activate() {
        Cuda.setDevice(device);
    }

    /** A cuFFT plan of size n over {@code batch} rows. */
    FftPlanCache.Plan fft(int n, long batch, FftPlanCache.Type type) {
        if (ffts.size() >= MAX_PLANS) {
            stream.synchronize();
            ffts.close();
            ffts = new FftPlanCache(stream);
        }
        return ffts.plan(n, Math.toIntExact(batch), type);
    }

    /** Frees the scratch buffers and cuFFT plans; the next call allocates them again. */
    void release() {
        activate();
        scratch.close();
        ffts.close();
        ffts = new FftPlanCache(stream);
    }

    void setPoisonOutputs(boolean on) {
        poisonOutputs = on;
    }

    boolean poisonOutputs() {
        return poisonOutputs;
    }

    /** Zeroes a float32 device tensor (queued). */
    void zero(Tensor t) {
        CudaMemory.buffer(t).memsetAsync(0, t.offset() * 4, t.numel() * 4, stream);
    }

    /** A device tensor for a checked argument: the tensor itself when on the device and contiguous, else a device copy. */
    Tensor toDevice(String op, String arg, Tensor t) {
        if (t.device().kind() == Device.Kind.CPU) return t.to(deviceId());
        if (!t.isContiguous()) {
            throw new LongConvException(op, arg, "a contiguous tensor on " + deviceId() + " (strided device views are not supported)",
                    t + " with strides " + Arrays.toString(t.strides()));
        }
        return t.contiguous();
    }

    static int code(Layout layout) {
        return layout == Layout.BDL ? Kernels.BDL : Kernels.BLD;
    }
}
