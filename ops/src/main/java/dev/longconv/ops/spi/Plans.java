package dev.longconv.ops.spi;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Arrays;

/** Output checks and copies shared by plans. */
public final class Plans {
    private Plans() {}

    /**
     * x must be a live host tensor [B, D, L] (or [B, L, D]) of the planned channels, length and dtype; the
     * message is built only on failure, so a warm plan call allocates nothing here.
     */
    public static void checkInput(String op, Tensor x, Layout layout, int channels, int length, DType dtype) {
        if (x == null) throw new LongConvException(op, "x", expectedInput(layout, channels, length, dtype), "null");
        if (!x.isAlive()) throw new LongConvException(op, "x", "a live tensor", "a closed one");
        if (x.rank() != 3 || x.dtype() != dtype || !x.device().equals(Device.CPU)
                || x.dim(layout == Layout.BDL ? 1 : 2) != channels || x.dim(layout == Layout.BDL ? 2 : 1) != length) {
            throw new LongConvException(op, "x", expectedInput(layout, channels, length, dtype), x.toString());
        }
    }

    private static String expectedInput(Layout layout, int channels, int length, DType dtype) {
        String names = layout == Layout.BDL ? "[B, D, L]" : "[B, L, D]";
        return names + " with D=" + channels + ", L=" + length + " (" + layout + ", as planned), dtype " + dtype;
    }

    /**
     * Every check of a host plan's gated call, in order: the planned layout, x, y, the gates (when any is given) and
     * aliasing. One place, so that every host plan refuses the same calls with the same messages.
     */
    public static void checkGatedCall(String op, Layout planned, int channels, int length, DType dtype,
                                      Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        if (layout != planned) throw new LongConvException(op, "layout", planned + " (as planned)", String.valueOf(layout));
        checkInput(op, x, layout, channels, length, dtype);
        checkOutput(op, x, y);
        if (pre != null || post != null || skip != null) Check.gates(op, x, pre, post, skip, layout);
        checkAliasing(op, y, x, pre, post, skip);
    }

    /**
     * The output of a gated plan call against its inputs (see {@link Aliasing}): exactly one of them, or no shared
     * memory. Skip is read per channel and may not be y.
     */
    public static void checkAliasing(String op, Tensor y, Tensor x, Tensor pre, Tensor post, Tensor skip) {
        Aliasing.check(op, y, "x", x);
        Aliasing.check(op, y, "pregate", pre);
        Aliasing.check(op, y, "postgate", post);
        if (skip != null && Aliasing.overlaps(y, skip)) throw new LongConvException(op, "y", "an output that shares no memory with skip", "an overlap with skip");
    }

    /**
     * Refuses, before allocating, a plan whose working memory (kernel spectra or taps, per-thread buffers) the JVM's
     * heap cannot hold: one line with the bytes needed, instead of an OutOfMemoryError part way through.
     */
    public static void requireHeap(String op, String what, long bytes) {
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > available) {
            throw new LongConvException(op, "x", what + " within the Java heap (" + (available >> 20) + " MiB free of -Xmx " + (rt.maxMemory() >> 20)
                    + " MiB): too large for this machine", (bytes >> 20) + " MiB needed");
        }
    }

    /** y must be a live, writable CPU tensor of x's shape and dtype. */
    public static void checkOutput(String op, Tensor x, Tensor y) {
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

    /**
     * The output of a one-call op written into a caller's y (causalConvInto, toeplitzConvInto): {@link #checkOutput},
     * exactly x or apart from it, and apart from the kernel k, which every channel reads while y is written.
     */
    public static void checkIntoOutput(String op, Tensor x, Tensor k, Tensor y) {
        checkOutput(op, x, y);
        Aliasing.check(op, y, "x", x);
        if (Aliasing.overlaps(y, k)) throw new LongConvException(op, "y", "an output that shares no memory with k", "an overlap with k");
    }

    public static void copyInto(String op, Tensor r, Tensor y) {
        checkOutput(op, r, y);
        for (long i = 0, n = r.numel(); i < n; i++) y.setFlat(i, r.getFlat(i));
    }
}
