package dev.longconv.backend;

import dev.longconv.Device;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Arrays;

/** Output checks and copies shared by plans. */
final class Plans {
    private Plans() {}

    /** y must be a live, writable CPU tensor of x's shape and dtype. */
    static void checkOutput(String op, Tensor x, Tensor y) {
        if (y == null) throw new LongConvException(op, "y", expectedOutput(x), "null");
        if (!y.isAlive()) throw new LongConvException(op, "y", "a live tensor", "a closed one");
        if (y.dtype() != x.dtype() || !y.sameShape(x) || !y.device().equals(Device.CPU)
                || y.storageSegment().isReadOnly()) {
            throw new LongConvException(op, "y", expectedOutput(x), y.toString());
        }
    }

    /** Built only on failure, so a warm plan call does not allocate the message. */
    private static String expectedOutput(Tensor x) {
        return "a writable cpu tensor " + x.dtype() + Arrays.toString(x.shape()) + " (x's shape and dtype)";
    }

    static void copyInto(String op, Tensor r, Tensor y) {
        checkOutput(op, r, y);
        for (long i = 0, n = r.numel(); i < n; i++) y.setFlat(i, r.getFlat(i));
    }
}
