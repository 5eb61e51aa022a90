package dev.longconv.testing;

import dev.longconv.DType;
import dev.longconv.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Relative L2 comparison against the float64 reference, with the tolerances the issue states per dtype. */
public final class Compare {
    public static final double TOL_F32 = 1e-5;
    public static final double TOL_F64 = 1e-10;

    private Compare() {}

    public static double tolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? TOL_F32 : TOL_F64;
    }

    /** ||actual - expected|| / ||expected|| (absolute L2 when expected is all zeros). */
    public static double relL2(Tensor actual, Tensor expected) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        double num = 0, den = 0;
        long n = expected.numel();
        for (long i = 0; i < n; i++) {
            double e = expected.getFlat(i), a = actual.getFlat(i);
            if (!Double.isFinite(a)) return Double.POSITIVE_INFINITY;
            num += (a - e) * (a - e);
            den += e * e;
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Asserts the relative L2 error is within the dtype's tolerance; the message carries the case. */
    public static double assertClose(Tensor actual, Tensor expected, DType dtype, String what) {
        assertEquals(dtype, actual.dtype(), what + ": output dtype");
        double err = relL2(actual, expected);
        double tol = tolerance(dtype);
        assertTrue(err <= tol, () -> what + ": relative L2 error " + err + " > " + tol + " shape " + Arrays.toString(expected.shape()));
        return err;
    }
}
