package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.FutureTask;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-call scratch arena: zero-filled slices also where a call before wrote, unfilled ones NaN under assertions, nested arenas that never overlap and
 * leave the outer arena's data alone, overflow past the kept memory (then kept for the next call, up to KEPT_MAX),
 * slices pool threads may use, and misuse (closing out of order, after close, from another thread) refused.
 */
class ScratchArenaTest {
    @Test
    void slicesAreZeroEvenWhereAnEarlierCallWrote() {
        for (int call = 0; call < 3; call++) {
            try (Arena a = ScratchArena.open()) {
                MemorySegment s = a.allocate(4096, 64);
                for (long i = 0; i < s.byteSize(); i++) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "call " + call + " byte " + i);
                assertEquals(0, s.address() % 64);
                s.fill((byte) 7);
            }
        }
    }

    /**
     * Unfilled buffers skip the zero-fill; the tests run with assertions on, which make them NaN, so a step that leaves
     * an element unwritten shows in its result (as it would not with a previous call's values). From another arena
     * they are zero-filled.
     */
    @Test
    void unfilledBuffersAreNanUnderAssertionsAndZeroFromOtherArenas() {
        boolean assertions = false;
        assert assertions = true;
        assertTrue(assertions, "the build runs the tests with assertions on (-ea)");
        for (int call = 0; call < 2; call++) {
            try (Arena a = ScratchArena.open()) {
                Tensor f = ScratchArena.unfilled(a, DType.FLOAT32, 3, 5), d = ScratchArena.unfilled(a, DType.FLOAT64, 7);
                assertEquals(0, f.segment().address() % 64);
                for (long i = 0; i < f.numel(); i++) assertTrue(Double.isNaN(f.getFlat(i)), "float32 element " + i + " in call " + call);
                for (long i = 0; i < d.numel(); i++) assertTrue(Double.isNaN(d.getFlat(i)), "float64 element " + i + " in call " + call);
                f.segment().fill((byte) 0);
            }
        }
        try (Arena shared = Arena.ofShared()) {
            Tensor z = ScratchArena.unfilled(shared, DType.FLOAT32, 4, 4);
            for (long i = 0; i < z.numel(); i++) assertEquals(0.0, z.getFlat(i));
        }
    }

    @Test
    void nestedArenasDoNotOverlapAndLeaveTheOuterData() {
        try (Arena outer = ScratchArena.open()) {
            MemorySegment a = outer.allocate(1000, 16);
            a.fill((byte) 1);
            try (Arena inner = ScratchArena.open()) {
                MemorySegment b = inner.allocate(3000, 32);
                assertTrue(b.address() >= a.address() + a.byteSize() || b.address() + b.byteSize() <= a.address(), "inner slice overlaps the outer one");
                b.fill((byte) 2);
            }
            MemorySegment c = outer.allocate(500, 8);
            assertTrue(c.address() >= a.address() + a.byteSize(), "a later outer slice overlaps an earlier one");
            for (long i = 0; i < a.byteSize(); i++) assertEquals(1, a.get(ValueLayout.JAVA_BYTE, i), "outer byte " + i);
            for (long i = 0; i < c.byteSize(); i++) assertEquals(0, c.get(ValueLayout.JAVA_BYTE, i), "slice after the inner arena, byte " + i);
        }
    }

    @Test
    void aCallPastTheKeptMemoryOverflowsAndTheNextCallFits() throws Exception {
        // a fresh thread starts with nothing kept
        FutureTask<long[]> run = new FutureTask<>(() -> {
            long before = ScratchArena.keptBytes();
            long size = 3 << 20;
            try (Arena a = ScratchArena.open()) {
                MemorySegment s = a.allocate(size, 64), t = a.allocate(size, 64);
                s.fill((byte) 3);
                for (long i = 0; i < t.byteSize(); i += 4093) assertEquals(0, t.get(ValueLayout.JAVA_BYTE, i));
            }
            long after = ScratchArena.keptBytes();
            long huge = ScratchArena.KEPT_MAX + (1 << 20);
            try (Arena a = ScratchArena.open()) {
                MemorySegment s = a.allocate(huge, 64);
                assertEquals(huge, s.byteSize());
            }
            return new long[] {before, after, ScratchArena.keptBytes()};
        });
        Thread t = new Thread(run);
        t.start();
        long[] kept = run.get();
        assertEquals(0, kept[0], "a new thread keeps nothing");
        assertTrue(kept[1] >= 2 * (3 << 20), "after a 6 MB call the thread keeps " + kept[1] + " bytes");
        assertTrue(kept[2] <= ScratchArena.KEPT_MAX, "kept " + kept[2] + " bytes, more than KEPT_MAX");
    }

    @Test
    void slicesArePoolThreadsToUse() throws Exception {
        try (Arena a = ScratchArena.open()) {
            MemorySegment s = a.allocate(64, 8);
            FutureTask<Void> write = new FutureTask<>(() -> s.set(ValueLayout.JAVA_INT, 0, 42), null);
            Thread t = new Thread(write);
            t.start();
            write.get();
            assertEquals(42, s.get(ValueLayout.JAVA_INT, 0));
        }
    }

    @Test
    void misuseIsRefused() throws Exception {
        Arena outer = ScratchArena.open(), inner = ScratchArena.open();
        assertThrows(IllegalStateException.class, outer::close, "closing the outer arena before the inner one");
        inner.close();
        outer.close();
        assertThrows(IllegalStateException.class, () -> outer.allocate(8, 8));
        assertThrows(IllegalStateException.class, outer::close);
        try (Arena a = ScratchArena.open()) {
            assertThrows(IllegalArgumentException.class, () -> a.allocate(8, 3));
            FutureTask<Void> other = new FutureTask<>(() -> a.allocate(8, 8), null);
            Thread t = new Thread(other);
            t.start();
            var e = assertThrows(java.util.concurrent.ExecutionException.class, other::get);
            assertTrue(e.getCause() instanceof WrongThreadException, String.valueOf(e.getCause()));
        }
    }
}
