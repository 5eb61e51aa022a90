package dev.longconv.backend.cuda;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Tensor;
import dev.longconv.ops.Grads;

import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one cuda-backend call on the device, and its outputs. Host arguments are copied up
 * (and the results copied back by {@link #result}); device arguments are used in place. Whatever this
 * object made and did not hand out is freed on close, also when the call fails.
 */
final class Staged implements AutoCloseable {
    private final CudaContext ctx;
    private final boolean host;
    private final Tensor[] onDevice;
    private final List<Tensor> owned = new ArrayList<>();

    /** {@code args} may hold nulls (absent optional arguments); {@code names} name them for errors. */
    Staged(CudaContext ctx, String op, Tensor first, String[] names, Tensor... args) {
        this.ctx = ctx;
        this.host = first.device().kind() == Device.Kind.CPU;
        this.onDevice = new Tensor[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                if (args[i] == null) continue;
                onDevice[i] = ctx.toDevice(op, names[i], args[i]);
                owned.add(onDevice[i]);
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Argument {@code i} on the device (null when absent). */
    Tensor get(int i) {
        return onDevice[i];
    }

    /** A new float32 device tensor for a result, freed on close unless handed out. */
    Tensor output(long... shape) {
        Tensor t = Tensor.empty(ctx.deviceId(), DType.FLOAT32, shape);
        owned.add(t);
        if (ctx.poisonOutputs()) CudaMemory.buffer(t).memsetAsync(0xFF, 0, CudaMemory.buffer(t).size(), ctx.stream); // all-ones bits: NaN
        return t;
    }

    /** The result where the arguments were: copied back to the host for host calls (waiting for the work), else {@code y} itself. */
    Tensor result(Tensor y) {
        if (host) return y.to(Device.CPU);
        owned.remove(y);
        return y;
    }

    Grads grads(Tensor dx, Tensor dk, Tensor dbias) {
        Tensor a = null, b = null, c = null;
        try {
            a = result(dx);
            b = result(dk);
            c = dbias == null ? null : result(dbias);
            return new Grads(a, b, c);
        } catch (RuntimeException | Error e) {
            for (Tensor t : new Tensor[] {a, b, c}) if (t != null) t.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (Tensor t : owned) t.close();
        owned.clear();
    }
}
