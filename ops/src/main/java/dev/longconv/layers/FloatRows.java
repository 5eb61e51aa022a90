package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.spi.BiasedGemm;
import dev.longconv.ops.spi.HostTasks;
import dev.longconv.simd.Simd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The elementwise steps of float32 prepared layers over rows of native float32 memory, in one pass: out = act(in +
 * bias), times a gate row where one is given. On float lanes where the Vector API is readable and the activation has
 * a vector form ({@link VectorActivations#covers}), else element by element in float64 rounded once to float32. The
 * lane form rounds the bias sum to float32 and takes its own float exponential (within 2 ulps), so it differs from
 * the float64 form by a few float32 ulps per element: well inside the 1e-6 that a prepared layer owes its forward.
 * Offsets count elements, not bytes.
 */
final class FloatRows {
    private FloatRows() {}

    private static final boolean VECTOR = Simd.status().available();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * A Linear layer in float32: c = a weight^T + bias (bias null: none), c a contiguous [rows, out] tensor. The bias
     * goes into the backend's GEMM where it offers that ({@link BiasedGemm}: added to each tile in registers before
     * its store), else into a lane pass over c afterwards; the bits are the same.
     */
    static void linearInto(Backend be, Tensor a, Tensor weight, float[] bias, Tensor c) {
        if (bias != null && be instanceof BiasedGemm fused) {
            fused.gemmInto(a, weight, false, true, bias, c);
            return;
        }
        be.gemmInto(a, weight, false, true, c);
        if (bias != null) {
            int rows = Math.toIntExact(c.dim(0)), d = Math.toIntExact(c.dim(1));
            MemorySegment cs = c.storageSegment();
            biasActivation(Activation.NONE, rows, d, cs, c.offset(), d, bias, null, 0, 0, cs, c.offset(), d);
        }
    }

    /**
     * {@link #biasActivation(Activation, int, int, MemorySegment, long, long, float[], MemorySegment, long, long,
     * MemorySegment, long, long)} in runs of rows on the backend's pool where it offers one ({@link HostTasks}) and the
     * work is worth it: a GTU's activation of [512, 96] took 30 µs on the calling thread between two pool ops while the
     * other core waited. The same bits: each row's values are computed alone.
     */
    static void biasActivation(Backend be, Activation act, int rows, int d, MemorySegment in, long inAt, long inStride, float[] bias,
                               MemorySegment gate, long gateAt, long gateStride, MemorySegment out, long outAt, long outStride) {
        int parts = be instanceof HostTasks pool && HostTasks.anyThread(in) && HostTasks.anyThread(gate) && HostTasks.anyThread(out)
                ? Math.min(pool.hostThreads(), rows) : 1;
        if (parts <= 1) {
            biasActivation(act, rows, d, in, inAt, inStride, bias, gate, gateAt, gateStride, out, outAt, outStride);
            return;
        }
        double flopsPerPart = (double) FLOPS_PER_VALUE * rows / parts * d;
        ((HostTasks) be).forEachHostTask(parts, flopsPerPart, part -> {
            int r0 = (int) ((long) rows * part / parts), r1 = (int) ((long) rows * (part + 1) / parts);
            biasActivation(act, r1 - r0, d, in, inAt + r0 * inStride, inStride, bias, gate, gateAt + r0 * gateStride, gateStride,
                    out, outAt + r0 * outStride, outStride);
        });
    }

    /** Flops per value of an activation pass, for the pool's hand-off test: about an exponential's (SiLU, the GTU's default). */
    private static final int FLOPS_PER_VALUE = 20;

    /**
     * For each row r < rows: out[outAt + r outStride + j] = act(in[inAt + r inStride + j] + bias[j]) (· gate[gateAt + r
     * gateStride + j] when gate is not null) for j < d; bias null adds nothing; out may be in. One call per block of
     * rows, so the lane loop runs over all of them without a call per row.
     */
    static void biasActivation(Activation act, int rows, int d, MemorySegment in, long inAt, long inStride, float[] bias,
                               MemorySegment gate, long gateAt, long gateStride, MemorySegment out, long outAt, long outStride) {
        int from = 0;
        if (VECTOR && VectorActivations.covers(act)) {
            from = VectorActivations.applyFloat(act, rows, d, in, inAt, inStride, bias, gate, gateAt, gateStride, out, outAt, outStride);
        }
        if (from == d) return;
        for (int r = 0; r < rows; r++) {
            long i = inAt + r * inStride, g = gateAt + r * gateStride, o = outAt + r * outStride;
            for (int j = from; j < d; j++) {
                double v = act.apply(in.getAtIndex(F32, i + j) + (bias == null ? 0.0 : (double) bias[j]));
                if (gate != null) v *= gate.getAtIndex(F32, g + j);
                out.setAtIndex(F32, o + j, (float) v);
            }
        }
    }
}
