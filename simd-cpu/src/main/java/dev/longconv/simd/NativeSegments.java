package dev.longconv.simd;

import java.lang.foreign.MemorySegment;

/**
 * Native memory segments (allocated, sliced, read-only or memory-mapped) with their class made known to the JIT, so
 * that the segment loops compile the same whatever other code in the JVM does with segments.
 *
 * <p>Why: a vector or element access to a segment ({@code FloatVector.fromMemorySegment}, {@code intoMemorySegment},
 * {@code MemorySegment.get}) runs through JDK methods that ask the segment for its base object and offset. Those are
 * virtual calls, and C2 resolves them from the type profile of the JDK's own bytecodes, which every caller in the JVM
 * shares. Once any code has passed those methods a heap segment ({@code MemorySegment.ofArray}, or the Vector API's
 * Java fallbacks, which use one internally) or a mapped one, the profile holds two classes, and C2 compiles longconv's
 * loops with a type check per access and a base that may be an array, which keeps their loads and stores from being
 * scheduled as plain memory accesses. A small TNO forward then ran 1.4-1.6x slower and a small GTU forward 1.3-1.5x
 * (heap segments touched first), 1.2x after mapped ones, in a best-of loop on Zen 5.
 *
 * <p>{@link #cast} gives C2 the class statically: every loop method that touches a segment casts it on entry, and C2
 * then binds those calls by class hierarchy analysis (mapped segments are a subclass that overrides none of them),
 * without the profile. The cast must be in the method that holds the loop, since a type learnt in a caller does not
 * reach a callee that is compiled on its own. Segments that are not native (heap segments) do not pass: callers send
 * them to paths that do not vectorise over segments, which {@link #isNative} selects.
 */
public final class NativeSegments {
    /** The JDK's class of native segments; memory-mapped segments are a subclass of it. */
    private static final Class<?> NATIVE = MemorySegment.ofAddress(0).getClass();

    private NativeSegments() {}

    /**
     * Whether {@code s} is native memory (allocated, a slice or view of it, or a mapped file), not a heap array: what
     * {@code MemorySegment.isNative} says, asked of the class {@link #cast} takes, so that the two cannot disagree.
     */
    public static boolean isNative(MemorySegment s) {
        return NATIVE.isInstance(s);
    }

    /** Whether all of the segments are native; null ones are skipped (optional operands). */
    public static boolean allNative(MemorySegment a, MemorySegment b, MemorySegment c) {
        return (a == null || isNative(a)) && (b == null || isNative(b)) && (c == null || isNative(c));
    }

    /**
     * {@code s} itself, typed for the JIT as a native segment: the first statement of a loop method, for a segment the
     * caller has checked with {@link #isNative}.
     *
     * @throws ClassCastException if {@code s} is a heap segment (a caller that did not check)
     */
    public static MemorySegment cast(MemorySegment s) {
        return (MemorySegment) NATIVE.cast(s);
    }
}
