package dev.longconv.io;

import dev.longconv.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class NpyTest {
    static final ValueLayout.OfFloat F4 = (ValueLayout.OfFloat) DType.FLOAT32.layout();
    static final ValueLayout.OfDouble F8 = (ValueLayout.OfDouble) DType.FLOAT64.layout();

    @TempDir
    Path dir;

    private Path resource(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void roundTripsEveryShape() throws IOException {
        long[][] shapes = {{}, {0}, {1}, {7}, {3, 5}, {2, 3, 4}, {2, 0, 3}};
        for (DType dt : DType.values()) {
            for (long[] shape : shapes) {
                long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment data = arena.allocate(n * dt.byteSize());
                    for (long i = 0; i < n; i++) {
                        if (dt == DType.FLOAT32) data.setAtIndex(F4, i, i * 0.25f - 3);
                        else data.setAtIndex(F8, i, i / 7.0);
                    }
                    Path f = dir.resolve("rt.npy");
                    Npy.write(f, dt, shape, data);
                    assertEquals(0, (Files.size(f) - n * dt.byteSize()) % 64, "data 64-byte aligned");
                    NpyArray a = Npy.read(f, arena);
                    assertEquals(dt, a.dtype());
                    assertArrayEquals(shape, a.shape());
                    assertEquals(-1, a.data().mismatch(data), dt + Arrays.toString(shape));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1_f4.npy", "v2_f4.npy", "v3_f4.npy", "v1_f8.npy", "v2_f8.npy", "v3_f8.npy"})
    void readsNumpyFilesOfEveryVersion(String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(resource(name), arena);
            if (name.contains("f4")) {
                assertEquals(DType.FLOAT32, a.dtype());
                assertArrayEquals(new long[] {3, 4}, a.shape());
                for (int i = 0; i < 12; i++) assertEquals(i * 0.5f - 1, a.data().getAtIndex(F4, i));
            } else {
                assertEquals(DType.FLOAT64, a.dtype());
                assertArrayEquals(new long[] {2, 3}, a.shape());
                for (int i = 0; i < 6; i++) assertEquals(i / 3.0, a.data().getAtIndex(F8, i));
            }
        }
    }

    @Test
    void readsAScalar() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(resource("scalar.npy"), arena);
            assertArrayEquals(new long[0], a.shape());
            assertEquals(2.5, a.data().get(F8, 0));
        }
    }

    @Test
    void largeFilesAreMappedReadOnly() throws IOException {
        long n = Npy.MAP_THRESHOLD / 4 + 5;
        Path f = dir.resolve("big.npy");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(n * 4);
            for (long i = 0; i < n; i++) data.setAtIndex(F4, i, i);
            Npy.write(f, DType.FLOAT32, new long[] {n}, data);
        }
        byte[] before = Files.readAllBytes(f);
        try (Arena arena = Arena.ofShared()) {
            NpyArray a = Npy.read(f, arena);
            assertTrue(a.data().isMapped());
            assertEquals(n - 1, a.data().getAtIndex(F4, n - 1));
            assertTrue(a.data().isReadOnly());
        }
        assertArrayEquals(before, Files.readAllBytes(f));
    }

    // ---------------------------------------------------------------- rejections

    private void rejects(Path f, String... words) {
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                Npy.read(f, arena);
            }
        });
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String w : words) assertTrue(e.getMessage().contains(w), "'" + w + "' in: " + e.getMessage());
    }

    /** A version-1 file with the given header dict (padded as numpy does) and data bytes. */
    private Path file(String name, String dict, int dataBytes) throws IOException {
        int total = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void rejectsWhatItCannotRead() throws IOException {
        rejects(resource("fortran.npy"), "Fortran");
        rejects(resource("int32.npy"), "'<i4'", "'<f4'");
        rejects(resource("big_endian.npy"), "'>f4'", "big-endian");
        Path missing = dir.resolve("missing.npy");
        rejects(missing, "no such file");
        Path empty = dir.resolve("empty.npy");
        Files.write(empty, new byte[0]);
        rejects(empty, "not a .npy file");
        Files.writeString(dir.resolve("text.npy"), "hello world, not numpy at all");
        rejects(dir.resolve("text.npy"), "magic");

        byte[] good = Files.readAllBytes(resource("v1_f4.npy"));
        byte[] v9 = good.clone();
        v9[6] = 9;
        Files.write(dir.resolve("v9.npy"), v9);
        rejects(dir.resolve("v9.npy"), "version 9.0");
        byte[] longHeader = good.clone();
        longHeader[8] = (byte) 0xff;
        longHeader[9] = (byte) 0x7f;
        Files.write(dir.resolve("lh.npy"), longHeader);
        rejects(dir.resolve("lh.npy"), "runs past the end");
        Files.write(dir.resolve("trunc.npy"), Arrays.copyOf(good, good.length - 3));
        rejects(dir.resolve("trunc.npy"), "truncated", "promises 48 bytes", "has 45");
        Files.write(dir.resolve("trail.npy"), Arrays.copyOf(good, good.length + 8));
        rejects(dir.resolve("trail.npy"), "8 bytes after the data");

        rejects(file("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", 0), "negative dimension");
        rejects(file("keys.npy", "{'descr': '<f4', 'shape': (3,), }", 12), "header keys");
        rejects(file("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': True}", 12), "header keys");
        rejects(file("dup.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 12), "duplicate key");
        rejects(file("garbage.npy", "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,)}", 12), "header dict");
        rejects(file("unclosed.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,", 12), "header dict");
        rejects(file("struct.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", 12), "structured");
        rejects(file("huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 0), "more elements");
        rejects(file("shapetype.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': 'x'}", 0), "'shape' is not a tuple");
    }

    @Test
    void acceptsNumpysHeaderVariants() throws IOException {
        // Double quotes, no trailing comma, Python 2 long suffix: all valid headers numpy has written.
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(file("dq.npy", "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2L, 1)}", 16), arena);
            assertArrayEquals(new long[] {2, 1}, a.shape());
        }
    }

    @Test
    void fuzzedFilesOnlyEverFailWithNpyFormatException() throws IOException {
        long seed = Long.getLong("longconv.test.seed", 12345L);
        Random r = new Random(seed);
        byte[] good = Files.readAllBytes(resource("v1_f8.npy"));
        Path f = dir.resolve("fuzz.npy");
        int read = 0, rejected = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] b;
            switch (r.nextInt(4)) {
                case 0 -> b = Arrays.copyOf(good, r.nextInt(good.length + 1));
                case 1 -> {
                    b = good.clone();
                    for (int k = 0, m = 1 + r.nextInt(4); k < m; k++) b[r.nextInt(Math.min(b.length, 128))] = (byte) r.nextInt(256);
                }
                case 2 -> {
                    b = good.clone();
                    int at = 10 + r.nextInt(70);
                    b[at] = (byte) "{}():,'\" 0123456789-TrueFalse<>f48L\n".charAt(r.nextInt(35));
                }
                default -> {
                    b = Arrays.copyOf(good, good.length + r.nextInt(16));
                    b[8 + r.nextInt(2)] = (byte) r.nextInt(256);
                }
            }
            Files.write(f, b);
            try (Arena arena = Arena.ofConfined()) {
                Npy.read(f, arena);
                read++;
            } catch (NpyFormatException e) {
                rejected++;
            } catch (Throwable t) {
                fail("case " + i + " (seed " + seed + ") threw " + t, t);
            }
        }
        assertTrue(rejected > 1000 && read > 0, "read " + read + ", rejected " + rejected);
    }
}
