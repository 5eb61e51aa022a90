package dev.longconv;

import dev.longconv.io.Npy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {

    @Test
    void factoriesAndAccess() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertEquals(DType.FLOAT32, t.dtype());
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(new long[] {3, 1}, t.strides());
            assertEquals(6, t.get(1, 2));
            t.set(7.5, 0, 1);
            assertEquals(7.5, t.get(0, 1));
            assertEquals(Device.CPU, t.device());
            assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new double[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT32, 2, -1));
    }

    @Test
    void randomIsSeeded() {
        try (Tensor a = Tensor.random(DType.FLOAT64, 42, 3, 5); Tensor b = Tensor.random(DType.FLOAT64, 42, 3, 5);
             Tensor c = Tensor.random(DType.FLOAT64, 43, 3, 5)) {
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
            assertFalse(Arrays.equals(a.toDoubleArray(), c.toDoubleArray()));
            for (double v : a.toDoubleArray()) assertTrue(v >= -1 && v < 1);
        }
    }

    @Test
    void viewsShareStorageWithoutCopy() {
        try (Tensor t = Tensor.of(new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 2, 3)) {
            Tensor tr = t.transpose(1, 2);
            assertArrayEquals(new long[] {2, 3, 2}, tr.shape());
            assertFalse(tr.isContiguous());
            assertEquals(t.get(1, 0, 2), tr.get(1, 2, 0));
            Tensor s = t.slice(2, 1, 3);
            assertArrayEquals(new long[] {2, 2, 2}, s.shape());
            assertEquals(t.get(1, 1, 2), s.get(1, 1, 1));
            s.set(-1, 0, 0, 0);
            assertEquals(-1, t.get(0, 0, 1), "a slice writes through");
            Tensor r = t.reshape(4, -1);
            assertArrayEquals(new long[] {4, 3}, r.shape());
            assertEquals(t.get(1, 1, 0), r.get(3, 0));
            assertThrows(IllegalStateException.class, () -> tr.reshape(12));
            try (Tensor c = tr.contiguous()) {
                assertTrue(c.isContiguous());
                assertTrue(c.isOwner(), "non-contiguous input: contiguous() copies");
                assertArrayEquals(tr.toDoubleArray(), c.toDoubleArray());
            }
            try (Tensor same = t.contiguous()) {
                assertFalse(same.isOwner(), "contiguous input: contiguous() is a view");
            }
            assertTrue(t.isAlive(), "closing a view leaves the owner alive");
        }
    }

    @Test
    void useAfterCloseIsIllegalState() {
        Tensor t = Tensor.zeros(DType.FLOAT32, 4);
        Tensor v = t.slice(0, 1, 3);
        t.close();
        t.close(); // idempotent
        assertFalse(t.isAlive());
        assertThrows(IllegalStateException.class, () -> t.get(0));
        assertThrows(IllegalStateException.class, () -> v.get(0));
        assertThrows(IllegalStateException.class, t::contiguous);
        assertThrows(IllegalStateException.class, t::segment);
    }

    @Test
    void arenaTensorsBelongToTheArena() {
        Tensor t;
        try (Arena arena = Arena.ofConfined()) {
            t = Tensor.zeros(arena, DType.FLOAT64, 3);
            t.close(); // not the owner: no effect
            t.set(1, 2);
            assertEquals(1, t.get(2));
        }
        assertThrows(IllegalStateException.class, () -> t.get(0));
    }

    @Test
    void npyRoundTripOfAView(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        try (Tensor t = Tensor.random(DType.FLOAT32, 5, 2, 3, 4)) {
            Tensor v = t.transpose(1, 2).slice(2, 1, 3);
            Path f = dir.resolve("v.npy");
            Npy.save(v, f);
            try (Tensor r = Npy.load(f)) {
                assertArrayEquals(v.shape(), r.shape());
                assertArrayEquals(v.toFloatArray(), r.toFloatArray());
                assertTrue(r.isOwner());
            }
        }
    }

    @Test
    void mappedNpyTensorsAreReadOnly(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("big.npy");
        long n = (1 << 17) + 1;
        try (Tensor t = Tensor.random(DType.FLOAT64, 3, n)) {
            Npy.save(t, f);
            try (Tensor m = Npy.loadMapped(f); Tensor c = m.copy()) {
                assertEquals(t.get(n - 1), m.get(n - 1));
                var e = assertThrows(IllegalStateException.class, () -> m.set(1, 0));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                c.set(1, 0);
                assertEquals(1, c.get(0));
            }
        }
    }

    @Test
    void conversionRoundsToFloat() {
        try (Tensor d = Tensor.of(new double[] {0.1, 1e-3}, 2); Tensor f = d.to(DType.FLOAT32)) {
            assertEquals(0.1f, (float) f.get(0));
            assertSame(DType.FLOAT32, f.dtype());
        }
    }
}
