package dev.longconv.simd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeSegmentsTest {
    @TempDir
    Path dir;

    /** Every kind of native segment a tensor can sit on passes, and the cast is the segment itself. */
    @Test
    void nativeSlicedReadOnlyAndMappedSegmentsAreNative() throws IOException {
        Path f = dir.resolve("data.bin");
        Files.write(f, new byte[256]);
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            MemorySegment allocated = arena.allocate(64, 64);
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 256, arena);
            for (MemorySegment s : new MemorySegment[] {allocated, allocated.asSlice(4, 8), allocated.asReadOnly(), mapped, mapped.asSlice(16),
                    Arena.ofAuto().allocate(8), MemorySegment.ofAddress(64).reinterpret(8)}) {
                assertTrue(NativeSegments.isNative(s), s.toString());
                assertSame(s, NativeSegments.cast(s));
            }
            assertTrue(NativeSegments.allNative(allocated, null, mapped));
        }
    }

    /** Heap segments do not pass: the callers send them elsewhere, and a cast that was not checked fails loudly. */
    @Test
    void heapSegmentsAreNotNative() {
        for (MemorySegment s : new MemorySegment[] {MemorySegment.ofArray(new float[4]), MemorySegment.ofArray(new byte[4]),
                MemorySegment.ofArray(new double[2]).asSlice(8)}) {
            assertFalse(NativeSegments.isNative(s), s.toString());
            assertFalse(NativeSegments.allNative(null, null, s));
            assertThrows(ClassCastException.class, () -> NativeSegments.cast(s));
        }
    }
}
