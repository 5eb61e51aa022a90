package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Checks and copies the prepared layers and sessions share. */
final class ServingChecks {
    private ServingChecks() {}

    static DType checkDtype(String op, DType dtype) {
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) throw new LongConvException(op, "dtype", "float32 or float64", String.valueOf(dtype));
        return dtype;
    }

    static int checkLength(String op, int length) {
        if (length < 1) throw new LongConvException(op, "length", "L >= 1", "L=" + length);
        return length;
    }

    /** y must be a live, writable host tensor of {@code shape} and {@code dtype}. */
    static void checkOutput(String op, Tensor y, long[] shape, DType dtype) {
        if (y == null || !y.isAlive() || !y.device().equals(Device.CPU) || y.dtype() != dtype || !Arrays.equals(y.shape(), shape)
                || y.storageSegment().isReadOnly()) {
            throw new LongConvException(op, "y", "a writable host tensor " + dtype + Arrays.toString(shape), String.valueOf(y));
        }
    }

    /** Copies {@code r} into {@code y} (same shape, any strides) after checking y. */
    static void copyInto(String op, Tensor r, Tensor y) {
        checkOutput(op, y, r.shape(), r.dtype());
        if (r.isContiguous() && y.isContiguous()) {
            MemorySegment.copy(r.segment(), 0, y.segment(), 0, r.segment().byteSize());
        } else {
            for (long i = 0, n = r.numel(); i < n; i++) y.setFlat(i, r.getFlat(i));
        }
    }
}
