package dev.longconv.ops.spi;

import dev.longconv.Device;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * The aliasing contract of outputs: an output may be exactly one of the inputs (the same view of the same memory:
 * start, shape, strides and dtype), in which case every backend reads what it needs before writing; any other
 * overlap of an output with an input is refused with a LongConvException, since the result would depend on the
 * order in which a backend visits elements. Checks allocate nothing (they run on warm plan calls).
 */
public final class Aliasing {
    private Aliasing() {}

    /** Whether {@code a} and {@code b} are the same view of the same host memory. */
    public static boolean same(Tensor a, Tensor b) {
        if (a == b) return true;
        if (a == null || b == null || !onHost(a) || !onHost(b) || a.dtype() != b.dtype() || a.rank() != b.rank()) return false;
        if (start(a) != start(b) || !a.sameShape(b) || !sameSpace(a, b)) return false;
        for (int i = 0; i < a.rank(); i++) if (a.dim(i) > 1 && a.stride(i) != b.stride(i)) return false;
        return true;
    }

    /** Whether the host memory {@code a} and {@code b} cover intersects (conservatively: the byte ranges of their element spans). */
    public static boolean overlaps(Tensor a, Tensor b) {
        if (a == null || b == null || !onHost(a) || !onHost(b) || a.numel() == 0 || b.numel() == 0) return false;
        return first(a) <= last(b) && first(b) <= last(a) && sameSpace(a, b);
    }

    /**
     * Whether a's and b's addresses are comparable: both native (one address space), or both over the same heap array.
     * A heap segment's address is its offset in its array, so tensors over two different arrays have equal addresses
     * without sharing a byte. A read-only heap segment does not show its array; it is taken to be the other's.
     */
    private static boolean sameSpace(Tensor a, Tensor b) {
        MemorySegment sa = a.storageSegment(), sb = b.storageSegment();
        boolean na = sa.isNative(), nb = sb.isNative();
        if (na || nb) return na && nb;
        Object ba = sa.heapBase().orElse(null), bb = sb.heapBase().orElse(null);
        return ba == null || bb == null || ba == bb;
    }

    /** Output {@code y} against input {@code arg}: exactly it, or no shared memory; a LongConvException otherwise. */
    public static void check(String op, Tensor y, String arg, Tensor input) {
        if (input != null && overlaps(y, input) && !same(y, input)) {
            throw new LongConvException(op, "y", "an output that is exactly " + arg + " or shares no memory with it", "a partial overlap with " + arg);
        }
    }

    private static boolean onHost(Tensor t) {
        return t.isAlive() && t.device().equals(Device.CPU);
    }

    /** Address of element [0, ..., 0]. */
    private static long start(Tensor t) {
        return t.storageSegment().address() + t.offset() * t.dtype().byteSize();
    }

    private static long first(Tensor t) {
        long lo = t.offset();
        for (int i = 0; i < t.rank(); i++) {
            long extent = (t.dim(i) - 1) * t.stride(i);
            if (extent < 0) lo += extent;
        }
        return t.storageSegment().address() + lo * t.dtype().byteSize();
    }

    private static long last(Tensor t) {
        long hi = t.offset();
        for (int i = 0; i < t.rank(); i++) {
            long extent = (t.dim(i) - 1) * t.stride(i);
            if (extent > 0) hi += extent;
        }
        return t.storageSegment().address() + (hi + 1) * t.dtype().byteSize() - 1;
    }
}
