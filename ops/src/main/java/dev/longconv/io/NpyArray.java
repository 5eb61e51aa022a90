package dev.longconv.io;

import dev.longconv.DType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A .npy array: C-order, little-endian {@code dtype} data, owned by the Arena passed to
 * {@link Npy#read}. An empty {@code shape} is a scalar (one element); dimensions may be zero.
 *
 * @param dtype element type
 * @param shape dimensions, outermost first
 * @param data  exactly {@code elementCount() * dtype.byteSize()} bytes; read-only when the file was mapped
 */
public record NpyArray(DType dtype, long[] shape, MemorySegment data) {
    /**
     * Checks that {@code data} is exactly as large as {@code dtype} and {@code shape} say.
     *
     * @throws IllegalArgumentException if a dimension is negative, the element count overflows a long,
     *                                  or {@code data} is not exactly the size the shape needs
     */
    public NpyArray {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        // Copied in and out so that no caller can change the shape under the size check below.
        shape = shape.clone();
        long bytes;
        try {
            bytes = byteCount(shape, dtype);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("byte size of " + dtype + Arrays.toString(shape) + " overflows a long");
        }
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("data has " + data.byteSize() + " bytes, " + dtype + Arrays.toString(shape)
                    + " needs " + bytes);
        }
    }

    /** {@return the dimensions, outermost first (a copy)} */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of elements: the product of the dimensions, 1 for a scalar} */
    public long elementCount() {
        return product(shape, 1);
    }

    /**
     * Data size in bytes, failing as numpy does: the product of the item size and the non-zero dimensions
     * must fit even when a zero makes the size 0, so the answer does not depend on the order of the dims.
     *
     * @throws ArithmeticException      on overflow
     * @throws IllegalArgumentException on a negative dimension
     */
    static long byteCount(long[] shape, DType dtype) {
        return product(shape, dtype.byteSize());
    }

    private static long product(long[] shape, long n) {
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            if (d == 0) empty = true;
            else n = Math.multiplyExact(n, d);
        }
        return empty ? 0 : n;
    }
}
