package dev.longconv.layers;

import dev.longconv.simd.Simd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The elementwise steps of float32 prepared layers over rows of native float32 memory, in one pass: out = act(in +
 * bias), times a gate row where one is given. On float lanes where the Vector API is readable and the activation has
 * a vector form ({@link VectorActivations#covers}), else element by element in float64 rounded once to float32. The
 * lane form rounds the bias sum to float32 and takes the Vector API's exponential (within an ulp), so it differs from
 * the float64 form by a few float32 ulps per element: well inside the 1e-6 that a prepared layer owes its forward.
 * Offsets count elements, not bytes.
 */
final class FloatRows {
    private FloatRows() {}

    private static final boolean VECTOR = Simd.status().available();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** out[outAt + j] = act(in[inAt + j] + bias[j]) (· gate[gateAt + j] when gate is not null) for j < bias.length; out may be in. */
    static void biasActivation(Activation act, MemorySegment in, long inAt, float[] bias, MemorySegment gate, long gateAt,
                               MemorySegment out, long outAt) {
        int from = 0;
        if (VECTOR && VectorActivations.covers(act)) from = VectorActivations.applyFloat(act, in, inAt, bias, gate, gateAt, out, outAt);
        for (int j = from; j < bias.length; j++) {
            double v = act.apply(in.getAtIndex(F32, inAt + j) + (double) bias[j]);
            if (gate != null) v *= gate.getAtIndex(F32, gateAt + j);
            out.setAtIndex(F32, outAt + j, (float) v);
        }
    }
}
