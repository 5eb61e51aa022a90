package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-call arena for a layer's intermediates, sliced from memory its thread keeps between calls: {@code
 * Arena.ofShared()} per call cost 50-125 µs in its close alone (a handshake with every thread of the JVM; a
 * throwaway loop on the 2-vCPU test VM), a tenth of a small TNO forward, and its memory came fresh from the
 * allocator each call. Opened and closed by one thread, in nested try-with-resources blocks: each arena frees what it
 * sliced when it closes, whatever it was given from before stays. Every slice is zero-filled, as {@code allocate}
 * promises. The slices lie in an automatic (GC-managed) segment, so pool workers may read and write them during the
 * call, and a slice kept past its arena's close can never reach freed memory, though a later call would reuse it:
 * nothing sliced here may leave the call. A call that needs more than the thread holds takes the rest from a shared
 * arena of its own (and pays its close); the outermost close then grows the kept memory to what the call needed, up
 * to {@link #KEPT_MAX} bytes a thread and {@link #KEPT_BUDGET} bytes for all threads together (a thread's memory
 * returns to the budget when the thread has ended and its memory is collected). Virtual threads keep nothing: each
 * would start empty, pay for growing, and end.
 */
final class ScratchArena implements Arena {
    /** The most memory a thread keeps for calls: beyond it a call's overflow comes from a shared arena every time. */
    static final long KEPT_MAX = 64L << 20;
    /** The most memory all threads together keep, so that a large pool of threads does not each hold KEPT_MAX. */
    static final long KEPT_BUDGET = 256L << 20;
    private static final AtomicLong KEPT_TOTAL = new AtomicLong();
    private static final Cleaner RETURNS = Cleaner.create();

    /**
     * A thread's kept memory, how far the open arenas reach into it (top: past its end when they overflowed), the most
     * a call reached (wanted) and the open arenas' count (depth, for closing in order). Its size returns to the budget
     * when it is collected.
     */
    private static final class Kept {
        MemorySegment memory = MemorySegment.NULL;
        long top, wanted;
        int depth;
        final AtomicLong counted = new AtomicLong();

        Kept() {
            AtomicLong c = counted;
            RETURNS.register(this, () -> KEPT_TOTAL.addAndGet(-c.get()));
        }

        /** Replaces the memory by {@code size} bytes where the budget allows. */
        void grow(long size) {
            long old = memory.byteSize();
            for (long total = KEPT_TOTAL.get(); ; total = KEPT_TOTAL.get()) {
                if (total - old + size > KEPT_BUDGET) return;
                if (KEPT_TOTAL.compareAndSet(total, total - old + size)) break;
            }
            memory = Arena.ofAuto().allocate(size, 64);
            counted.set(size);
        }
    }

    private static final ThreadLocal<Kept> KEPT = ThreadLocal.withInitial(Kept::new);

    private final Kept kept;
    private final long mark;
    private final Thread owner = Thread.currentThread();
    private final int depth;
    private Arena overflow;
    private boolean closed;

    private ScratchArena(Kept kept) {
        this.kept = kept;
        this.mark = kept.top;
        this.depth = ++kept.depth;
    }

    /** An arena slicing this thread's kept memory from where the open arenas stop. */
    static ScratchArena open() {
        return new ScratchArena(KEPT.get());
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        check();
        if (byteSize < 0 || byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1) {
            throw new IllegalArgumentException("scratch: size " + byteSize + " and alignment " + byteAlignment + " (a power of two) expected");
        }
        return slice(byteSize, byteAlignment).fill((byte) 0);
    }

    /** byteSize bytes at byteAlignment from the kept memory, or from the overflow arena past its end; not filled. */
    private MemorySegment slice(long byteSize, long byteAlignment) {
        check();
        MemorySegment memory = kept.memory;
        long base = memory.address(), start = ((base + kept.top + byteAlignment - 1) & -byteAlignment) - base;
        kept.top = start + byteSize;
        kept.wanted = Math.max(kept.wanted, kept.top);
        if (kept.top <= memory.byteSize()) return memory.asSlice(start, byteSize);
        if (overflow == null) overflow = Arena.ofShared();
        return overflow.allocate(byteSize, byteAlignment);
    }

    /**
     * A tensor of {@code shape} from {@code arena} for a buffer that a step writes in full before anything reads it: from
     * a scratch arena without the zero-fill (which cost a tenth of a small TNO forward's calling thread, a serial pass
     * over every intermediate while the pool waited), from any other arena zero-filled. With assertions on (the tests),
     * every byte is 0xFF instead, a NaN in float32 and float64, so an element a step leaves unwritten spreads NaN into
     * the result and fails the comparison with the reference, in place of reading a previous call's values.
     */
    static Tensor unfilled(Arena arena, DType dtype, long... shape) {
        if (!(arena instanceof ScratchArena scratch)) return Tensor.zeros(arena, dtype, shape);
        long bytes = dtype.byteSize();
        for (long d : shape) bytes = Math.multiplyExact(bytes, d);
        MemorySegment memory = scratch.slice(Math.max(bytes, 1), 64);
        if (POISON) memory.fill((byte) -1);
        return Tensor.wrap(memory, dtype, shape);
    }

    /** Whether assertions are on for this class: unfilled buffers are then filled with NaN. */
    private static final boolean POISON = assertionsOn();

    @SuppressWarnings("AssertWithSideEffects")
    private static boolean assertionsOn() {
        boolean on = false;
        assert on = true;
        return on;
    }

    /** The memory this thread keeps for calls, in bytes (for tests). */
    static long keptBytes() {
        return KEPT.get().memory.byteSize();
    }

    @Override
    public MemorySegment.Scope scope() {
        check();
        return kept.memory.scope();
    }

    @Override
    public void close() {
        check();
        if (kept.depth != depth) throw new IllegalStateException("scratch: arenas close in the reverse order of opening");
        closed = true;
        kept.depth--;
        kept.top = mark;
        if (overflow != null) overflow.close();
        if (depth == 1) {
            long size = Math.min(KEPT_MAX, kept.wanted + (kept.wanted >> 2));
            if (size > kept.memory.byteSize() && !owner.isVirtual()) kept.grow(size);
            kept.wanted = 0;
        }
    }

    private void check() {
        if (Thread.currentThread() != owner) throw new WrongThreadException("scratch: an arena is used by the thread that opened it");
        if (closed) throw new IllegalStateException("scratch: the arena is closed");
    }
}
