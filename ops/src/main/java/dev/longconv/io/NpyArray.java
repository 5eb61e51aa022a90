package dev.longconv.io;

import dev.longconv.DType;

import java.lang.foreign.MemorySegment;

/** A .npy array: C-order little-endian data of {@code dtype}, owned by the Arena it was read into. */
public record NpyArray(DType dtype, long[] shape, MemorySegment data) {
    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}
