package dev.longconv.layers;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two halves of an RMS-type norm over one row of float32 memory on float lanes, for {@link Norm.Bound#forwardFloat}:
 * the sum of squares (fused multiply-adds into W partial sums, then added in float64) and the scaling. Loaded only
 * where the Vector API is readable. Offsets count elements, not bytes.
 */
final class VectorNorms {
    private VectorNorms() {}

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder(); // F32's order

    /** The sum of x[xo + i]^2 for i < d. */
    static double sumSquares(MemorySegment x, long xo, int d) {
        int w = FLOATS.length(), i = 0;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (; i + w <= d; i += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, (xo + i) * 4, ORDER);
            acc = v.fma(v, acc);
        }
        double s = 0;
        for (int l = 0; l < w; l++) s += acc.lane(l);
        for (; i < d; i++) {
            double v = x.getAtIndex(F32, xo + i);
            s += v * v;
        }
        return s;
    }

    /** y[yo + i] = x[xo + i] * q (* scale[i] where scale is not null) for i < d; y may be x. */
    static void scale(MemorySegment x, long xo, float q, float[] scale, MemorySegment y, long yo, int d) {
        int w = FLOATS.length(), i = 0;
        for (; i + w <= d; i += w) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, (xo + i) * 4, ORDER).mul(q);
            if (scale != null) v = v.mul(FloatVector.fromArray(FLOATS, scale, i));
            v.intoMemorySegment(y, (yo + i) * 4, ORDER);
        }
        for (; i < d; i++) {
            float v = x.getAtIndex(F32, xo + i) * q;
            y.setAtIndex(F32, yo + i, scale == null ? v : v * scale[i]);
        }
    }
}
