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
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class NpyTest {
    static final ValueLayout.OfFloat F4 = (ValueLayout.OfFloat) DType.FLOAT32.layout();
    static final ValueLayout.OfDouble F8 = (ValueLayout.OfDouble) DType.FLOAT64.layout();

    @TempDir
    Path dir;

    /** Copies a fixture written by make_npy_fixtures.py into the temp dir, so messages name a known file. */
    private Path resource(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name);
            Files.copy(in, p);
        }
        return p;
    }

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name);
            return in.readAllBytes();
        }
    }

    private static long count(long[] shape) {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    private static MemorySegment values(Arena arena, DType dt, long n) {
        MemorySegment data = arena.allocate(n * dt.byteSize());
        for (long i = 0; i < n; i++) {
            if (dt == DType.FLOAT32) data.setAtIndex(F4, i, i * 0.25f - 3);
            else data.setAtIndex(F8, i, i / 7.0);
        }
        return data;
    }

    // ---------------------------------------------------------------- writing and reading back

    @Test
    void roundTripsEveryShape() throws IOException {
        long[][] shapes = {{}, {0}, {1}, {7}, {3, 5}, {2, 3, 4}, {2, 0, 3}};
        for (DType dt : DType.values()) {
            for (long[] shape : shapes) {
                String what = dt + Arrays.toString(shape);
                long n = count(shape);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment data = values(arena, dt, n);
                    Path f = dir.resolve("rt.npy");
                    Npy.write(f, dt, shape, data);
                    assertEquals(0, (Files.size(f) - n * dt.byteSize()) % 64, what + ": data 64-byte aligned");
                    NpyArray a = Npy.read(f, arena);
                    assertEquals(dt, a.dtype(), what);
                    assertArrayEquals(shape, a.shape(), what);
                    assertEquals(n, a.elementCount(), what);
                    assertEquals(n * dt.byteSize(), a.data().byteSize(), what);
                    assertFalse(a.data().isMapped(), what);
                    assertEquals(-1, a.data().mismatch(data), what);
                }
            }
        }
    }

    /** numpy is not run at test time, so byte equality with files it wrote stands in for "numpy reads ours". */
    @ParameterizedTest
    @ValueSource(strings = {"v1_f4.npy", "v1_f8.npy", "scalar.npy", "empty.npy", "empty_3d.npy", "vector.npy"})
    void writesExactlyWhatNumpySaves(String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(resource(name), arena);
            Path f = dir.resolve("again_" + name);
            Npy.write(f, a.dtype(), a.shape(), a.data());
            assertArrayEquals(fixture(name), Files.readAllBytes(f));
        }
    }

    @Test
    void writesVersion2WhenTheHeaderOutgrowsVersion1() throws IOException {
        long[] shape = new long[30_000]; // 3 bytes a dimension: a ~90 KB header, past version 1.0's 64 KiB
        Arrays.fill(shape, 1);
        shape[0] = 2;
        Path f = dir.resolve("v2.npy");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = values(arena, DType.FLOAT64, 2);
            Npy.write(f, DType.FLOAT64, shape, data);
            byte[] b = Files.readAllBytes(f);
            assertEquals(2, b[6], "major version");
            assertEquals(0, (b.length - 16) % 64, "data 64-byte aligned");
            NpyArray a = Npy.read(f, arena);
            assertArrayEquals(shape, a.shape());
            assertEquals(-1, a.data().mismatch(data));
        }
    }

    @Test
    void writesFromAnyKindOfSegment() throws IOException {
        float[] values = {1.5f, -2, 3.25f};
        Path f = dir.resolve("heap.npy");
        Npy.write(f, DType.FLOAT32, new long[] {3}, MemorySegment.ofArray(values));
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(f, arena);
            for (int i = 0; i < 3; i++) assertEquals(values[i], a.data().getAtIndex(F4, i));
        }
    }

    @Test
    void writeRefusesDataThatDoesNotMatchTheShape() {
        MemorySegment twelve = MemorySegment.ofArray(new byte[12]);
        Path f = dir.resolve("w.npy");
        var e = assertThrows(IllegalArgumentException.class, () -> Npy.write(f, DType.FLOAT32, new long[] {4}, twelve));
        assertTrue(e.getMessage().contains("12 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Npy.write(f, DType.FLOAT32, new long[] {-3}, twelve));
        assertThrows(IllegalArgumentException.class, () -> Npy.write(f, DType.FLOAT64, new long[] {1L << 62, 4}, twelve));
        assertFalse(Files.exists(f), "nothing written");
    }

    @Test
    void writeFailureNamesTheFileAndLeavesNothingBehind() throws IOException {
        Path f = dir.resolve("no_such_dir").resolve("x.npy");
        var e = assertThrows(IOException.class, () -> Npy.write(f, DType.FLOAT32, new long[] {0}, MemorySegment.NULL));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    // ---------------------------------------------------------------- numpy's files

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
    void readsNumpyScalarsVectorsAndEmptyArrays() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray s = Npy.read(resource("scalar.npy"), arena);
            assertArrayEquals(new long[0], s.shape());
            assertEquals(1, s.elementCount());
            assertEquals(2.5, s.data().get(F8, 0));

            NpyArray v = Npy.read(resource("vector.npy"), arena);
            assertArrayEquals(new long[] {7}, v.shape());
            for (int i = 0; i < 7; i++) assertEquals(i - 3f, v.data().getAtIndex(F4, i));

            NpyArray e = Npy.read(resource("empty.npy"), arena);
            assertEquals(DType.FLOAT32, e.dtype());
            assertArrayEquals(new long[] {0}, e.shape());
            assertEquals(0, e.data().byteSize());

            NpyArray e3 = Npy.read(resource("empty_3d.npy"), arena);
            assertArrayEquals(new long[] {2, 0, 3}, e3.shape());
            assertEquals(0, e3.elementCount());
        }
    }

    @Test
    void mappedFilesAreReadOnlyViewsOfTheFile() throws IOException {
        long n = (1 << 18) + 5;
        Path f = dir.resolve("big.npy");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(n * 4);
            for (long i = 0; i < n; i++) data.setAtIndex(F4, i, i);
            Npy.write(f, DType.FLOAT32, new long[] {n}, data);
        }
        byte[] before = Files.readAllBytes(f);
        try (Arena arena = Arena.ofShared()) {
            NpyArray a = Npy.map(f, arena);
            assertTrue(a.data().isMapped());
            assertTrue(a.data().isReadOnly());
            for (long i = 0; i < n; i += 997) assertEquals(i, a.data().getAtIndex(F4, i));
            assertEquals(n - 1, a.data().getAtIndex(F4, n - 1));
        }
        assertArrayEquals(before, Files.readAllBytes(f));
    }

    @Test
    void overwritingAMappedFileLeavesTheMappingIntact() throws IOException {
        long n = 1 << 17;
        Path f = dir.resolve("mapped.npy");
        try (Arena arena = Arena.ofShared()) {
            Npy.write(f, DType.FLOAT64, new long[] {n}, values(arena, DType.FLOAT64, n));
            NpyArray old = Npy.map(f, arena);
            assertTrue(old.data().isMapped());
            Npy.write(f, DType.FLOAT32, new long[] {1}, values(arena, DType.FLOAT32, 1));
            // Truncating in place would make this a fault; the rename keeps the old file alive for the mapping.
            assertEquals((n - 1) / 7.0, old.data().getAtIndex(F8, n - 1));
            assertArrayEquals(new long[] {1}, Npy.read(f, arena).shape());
        }
    }

    /** read copies: a large file truncated and rewritten in place after the read (as numpy.save does) leaves the array as it was. */
    @Test
    void readCopiesSoLaterChangesToTheFileDoNotReachTheArray() throws IOException {
        long n = 1 << 18;
        Path f = dir.resolve("copied.npy");
        try (Arena arena = Arena.ofShared()) {
            Npy.write(f, DType.FLOAT64, new long[] {n}, values(arena, DType.FLOAT64, n));
            NpyArray a = Npy.read(f, arena);
            assertFalse(a.data().isMapped());
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(new byte[100]));
            }
            assertEquals((n - 1) / 7.0, a.data().getAtIndex(F8, n - 1));
        }
    }

    @Test
    void acceptsEveryHeaderSpellingPythonWouldEvaluate() throws IOException {
        String[] dicts = {
            "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 1)}",
            "{'shape': (2, 1,), 'fortran_order': False, 'descr': '<f8'}",
            "{ 'descr' :'<f8' ,\t'fortran_order':False,\n 'shape':( 2 ,1 ) , }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }", // Python 2 numpy
        };
        for (String d : dicts) {
            for (int align : new int[] {64, 16, 1}) {
                try (Arena arena = Arena.ofConfined()) {
                    NpyArray a = Npy.read(file("ok.npy", 1, d, align, 16), arena);
                    assertArrayEquals(new long[] {2, 1}, a.shape(), d);
                    assertEquals(DType.FLOAT64, a.dtype(), d);
                }
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.read(file("zeros.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (00, 3)}", 64, 0), arena);
            assertArrayEquals(new long[] {0, 3}, a.shape());
        }
    }

    // ---------------------------------------------------------------- rejections

    private NpyFormatException rejects(Path f, String... words) {
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                Npy.read(f, arena);
            }
        }, f.getFileName().toString());
        assertOneLineNaming(e, f);
        for (String w : words) assertTrue(e.getMessage().contains(w), "'" + w + "' in: " + e.getMessage());
        return e;
    }

    private static void assertOneLineNaming(Exception e, Path f) {
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), "one line: " + e.getMessage());
    }

    /**
     * A file of the given version whose header is {@code dict}, padded with spaces and a newline so the data
     * starts at a multiple of {@code align}, followed by {@code dataBytes} bytes of data.
     */
    private Path file(String name, int major, String dict, int align, int dataBytes) throws IOException {
        return bytes(name, npy(major, dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1), align, dataBytes));
    }

    private static byte[] npy(int major, byte[] dict, int align, int dataBytes) {
        int prefix = major == 1 ? 10 : 12;
        int pad = (align - (prefix + dict.length + 1) % align) % align;
        int headerLen = dict.length + pad + 1;
        ByteBuffer b = ByteBuffer.allocate(prefix + headerLen + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) headerLen);
        else b.putInt(headerLen);
        b.put(dict).put(" ".repeat(pad).getBytes(StandardCharsets.ISO_8859_1)).put((byte) '\n');
        return b.array();
    }

    private Path bytes(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private Path header(String name, String dict, int dataBytes) throws IOException {
        return file(name, 1, dict, 64, dataBytes);
    }

    @Test
    void rejectsFilesThatAreNotNpy() throws IOException {
        rejects(bytes("empty.npy", new byte[0]), "not a .npy file", "magic");
        rejects(bytes("text.npy", "hello world, not numpy at all".getBytes(StandardCharsets.US_ASCII)), "not a .npy file", "magic");
        rejects(bytes("short.npy", new byte[] {(byte) 0x93, 'N', 'U'}), "magic");
        byte[] good = fixture("v1_f4.npy");
        byte[] badMagic = good.clone();
        badMagic[5] = 'Z';
        rejects(bytes("badmagic.npy", badMagic), "magic");
        rejects(bytes("preamble.npy", Arrays.copyOf(good, 7)), "preamble");
        rejects(bytes("preamble9.npy", Arrays.copyOf(good, 9)), "preamble");
        rejects(bytes("preamble_v2.npy", Arrays.copyOf(fixture("v2_f4.npy"), 11)), "preamble");
    }

    @Test
    void rejectsUnsupportedVersions() throws IOException {
        byte[] good = fixture("v1_f4.npy");
        for (int[] v : new int[][] {{9, 0}, {1, 1}, {0, 0}, {4, 0}, {255, 0}}) {
            byte[] b = good.clone();
            b[6] = (byte) v[0];
            b[7] = (byte) v[1];
            rejects(bytes("v" + v[0] + "_" + v[1] + ".npy", b), "unsupported .npy format version " + v[0] + "." + v[1], "1.0, 2.0 and 3.0");
        }
    }

    @Test
    void rejectsAHeaderLengthPastTheEnd() throws IOException {
        byte[] v1 = fixture("v1_f4.npy");
        v1[8] = (byte) 0xff;
        v1[9] = (byte) 0x7f;
        rejects(bytes("lh1.npy", v1), "header length 32767", "past the end", v1.length + " bytes");
        byte[] v2 = fixture("v2_f4.npy");
        Arrays.fill(v2, 8, 12, (byte) 0xff);
        rejects(bytes("lh2.npy", v2), "header length 4294967295", "past the end");
    }

    @Test
    void rejectsHeadersThatAreNotTheDict() throws IOException {
        String[][] cases = {
            {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,)}", "value of 'fortran_order'"},
            {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3,)}", "value of 'fortran_order'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,", "ends inside the dict"},
            {"{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}", "expected ',' or '}'"},
            {"{'descr' '<f4', 'fortran_order': False, 'shape': (3,)}", "':' after key 'descr'"},
            {"{descr: '<f4', 'fortran_order': False, 'shape': (3,)}", "quoted key"},
            {"{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}", "not a valid dict"},
            {"{'descr': '<f4\\x', 'fortran_order': False, 'shape': (3,)}", "escape"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", "after the closing '}'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}}", "after the closing '}'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3 4)}", "expected ',' or ')'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,,)}", "expected an integer"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "expected an integer"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3.5,)}", "after integer 3"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (0x3,)}", "after integer 0"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (03,)}", "leading zeros"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", "value of 'shape'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': {}}", "value of 'shape'"},
            {"['descr', '<f4']", "start with '{'"},
            {"", "start with '{'"},
            {"{", "ends inside the dict"},
            {"{'descr': '<f4',, 'fortran_order': False, 'shape': (3,)}", "quoted key"},
        };
        for (int i = 0; i < cases.length; i++) {
            NpyFormatException e = rejects(header("dict" + i + ".npy", cases[i][0], 12), "header is not a valid dict", cases[i][1]);
            assertTrue(e.getMessage().contains("at character"), e.getMessage());
        }
        // Python 2's long suffix is only legal where Python 2 could have written it.
        rejects(file("long_v3.npy", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}", 64, 12), "after integer 3");
        byte[] latin = npy(3, "{'descr': '<f4\u00e9', 'fortran_order': False, 'shape': (3,)}".getBytes(StandardCharsets.ISO_8859_1), 64, 12);
        rejects(bytes("utf8.npy", latin), "not valid UTF-8");
    }

    @Test
    void rejectsMissingExtraOrRepeatedKeys() throws IOException {
        rejects(header("missing.npy", "{'descr': '<f4', 'shape': (3,), }", 12), "missing key 'fortran_order'");
        rejects(header("nokeys.npy", "{}", 12), "missing key 'descr'");
        rejects(header("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': True}", 12),
                "unexpected key 'x'", "'descr', 'fortran_order' and 'shape'");
        rejects(header("dup.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 12), "duplicate key 'descr'");
    }

    @Test
    void rejectsValuesOfTheWrongKind() throws IOException {
        rejects(header("shape_int.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", 12), "'shape' is the integer 3", "(3,)");
        rejects(header("shape_str.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': 'x'}", 12), "'shape'", "not a tuple");
        rejects(header("fo_str.npy", "{'descr': '<f4', 'fortran_order': 'no', 'shape': (3,)}", 12), "'fortran_order'", "not True or False");
        rejects(header("descr_int.npy", "{'descr': 4, 'fortran_order': False, 'shape': (3,)}", 12), "'descr'", "'<f4' and '<f8'");
    }

    @Test
    void rejectsFortranOrderAndOtherDtypes() throws IOException {
        rejects(resource("fortran.npy"), "fortran_order True", "C-order");
        rejects(resource("big_endian.npy"), "unsupported dtype '>f4' (big-endian)", "'<f4' and '<f8'");
        rejects(header("big8.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (3,)}", 24), "'>f8' (big-endian)");
        rejects(resource("int32.npy"), "unsupported dtype '<i4'", "'<f4'", "'<f8'");
        rejects(resource("float16.npy"), "unsupported dtype '<f2'", "'<f4'", "'<f8'");
        rejects(resource("uint8.npy"), "unsupported dtype '|u1'", "'<f4'", "'<f8'");
        rejects(resource("complex64.npy"), "unsupported dtype '<c8'", "'<f4'", "'<f8'");
        rejects(header("native.npy", "{'descr': '=f4', 'fortran_order': False, 'shape': (3,)}", 12), "unsupported dtype '=f4'");
        NpyFormatException e = rejects(header("struct.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", 12),
                "structured", "'<f4' and '<f8'");
        assertFalse(e.getMessage().contains("not a valid dict"), e.getMessage());
        rejects(header("name.npy", "{'descr': 'float32', 'fortran_order': False, 'shape': (3,)}", 12), "unsupported dtype 'float32'");
    }

    @Test
    void rejectsImpossibleShapes() throws IOException {
        rejects(header("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", 0), "negative dimension -3", "(-3,)");
        rejects(header("neg2.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", 0), "negative dimension -1", "(2, -1)");
        rejects(header("huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 0),
                "(4294967296, 4294967296, 16)", "overflows a long");
        // The zero makes the count 0, but numpy still refuses the rest: the answer must not depend on dim order.
        rejects(header("huge0.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", 0),
                "overflows a long");
        rejects(header("bytes.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", 0),
                "overflows a long");
        rejects(header("bigdim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0),
                "99999999999999999999", "overflows a long");
        rejects(header("promise.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846975,), }", 0),
                "truncated: header promises 9223372036854775800 bytes of data, file has 0");
    }

    @Test
    void rejectsDataOfTheWrongSize() throws IOException {
        byte[] good = fixture("v1_f4.npy");
        rejects(bytes("trunc.npy", Arrays.copyOf(good, good.length - 3)), "truncated: header promises 48 bytes of data, file has 45");
        rejects(bytes("nodata.npy", Arrays.copyOf(good, good.length - 48)), "truncated: header promises 48 bytes of data, file has 0");
        rejects(bytes("trail.npy", Arrays.copyOf(good, good.length + 8)), "8 trailing bytes", "promises 48 bytes", "file has 56");
        rejects(header("scalar_empty.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 0), "promises 8 bytes", "has 0");
        rejects(header("empty_trail.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", 1), "1 trailing bytes");
    }

    @Test
    void messagesStayOnOneLineWhateverTheFileHolds() throws IOException {
        NpyFormatException e = rejects(header("ctl.npy", "{'descr': '<f4\u0001\u001b[2J', 'fortran_order': False, 'shape': (3,)}", 12),
                "unsupported dtype");
        assertFalse(e.getMessage().chars().anyMatch(Character::isISOControl), e.getMessage());
        e = rejects(header("key.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), '\tx\u0085': 1}", 12), "unexpected key");
        assertFalse(e.getMessage().chars().anyMatch(Character::isISOControl), e.getMessage());
        e = rejects(header("long.npy", "{'descr': '" + "x".repeat(5000) + "', 'fortran_order': False, 'shape': (3,)}", 12), "unsupported dtype");
        assertTrue(e.getMessage().length() < 300, e.getMessage());
    }

    @Test
    void fileSystemFailuresArePlainIOExceptionsNamingTheFile() throws IOException {
        Path missing = dir.resolve("missing.npy");
        IOException e = assertThrows(IOException.class, () -> Npy.read(missing, Arena.global()));
        assertInstanceOf(NoSuchFileException.class, e);
        assertOneLineNaming(e, missing);
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());

        Path sub = Files.createDirectory(dir.resolve("a_directory.npy"));
        e = assertThrows(IOException.class, () -> Npy.read(sub, Arena.global()));
        assertFalse(e instanceof NpyFormatException, e.toString());
        assertOneLineNaming(e, sub);
    }

    // ---------------------------------------------------------------- fuzzing

    @Test
    void fuzzedFilesOnlyEverFailWithNpyFormatException() throws IOException {
        long seed = Long.getLong("longconv.test.seed", 20240607L);
        Random r = new Random(seed);
        byte[][] bases = {fixture("v1_f8.npy"), fixture("v2_f4.npy"), fixture("v3_f8.npy"), fixture("scalar.npy"),
                fixture("empty_3d.npy"), fixture("vector.npy")};
        byte[] tokens = "{}():,'\" 0123456789-LTrueFalse<>|fic248\n\t\\".getBytes(StandardCharsets.US_ASCII);
        Path f = dir.resolve("fuzz.npy");
        int read = 0, rejected = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] good = bases[r.nextInt(bases.length)];
            byte[] b = switch (r.nextInt(6)) {
                case 0 -> Arrays.copyOf(good, r.nextInt(good.length + 1)); // truncation
                case 1 -> { // random bytes anywhere in the preamble and header
                    byte[] m = good.clone();
                    for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) m[r.nextInt(Math.min(m.length, 128))] = (byte) r.nextInt(256);
                    yield m;
                }
                case 2 -> { // a plausible token in the dict, which is where a parser goes wrong
                    byte[] m = good.clone();
                    for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) m[10 + r.nextInt(70)] = tokens[r.nextInt(tokens.length)];
                    yield m;
                }
                case 3 -> { // a different header length, possibly with extra bytes to back it
                    byte[] m = Arrays.copyOf(good, good.length + r.nextInt(16));
                    m[8 + r.nextInt(m[6] == 1 ? 2 : 4)] = (byte) r.nextInt(256);
                    yield m;
                }
                case 4 -> { // a byte inserted or deleted, shifting everything after it
                    int at = r.nextInt(good.length);
                    byte[] m;
                    if (r.nextBoolean()) {
                        m = new byte[good.length + 1];
                        System.arraycopy(good, 0, m, 0, at);
                        m[at] = tokens[r.nextInt(tokens.length)];
                        System.arraycopy(good, at, m, at + 1, good.length - at);
                    } else {
                        m = new byte[good.length - 1];
                        System.arraycopy(good, 0, m, 0, at);
                        System.arraycopy(good, at + 1, m, at, good.length - at - 1);
                    }
                    yield m;
                }
                default -> { // the version byte
                    byte[] m = good.clone();
                    m[6 + r.nextInt(2)] = (byte) r.nextInt(5);
                    yield m;
                }
            };
            Files.write(f, b);
            try (Arena arena = Arena.ofConfined()) {
                NpyArray a = Npy.read(f, arena);
                assertEquals(a.elementCount() * a.dtype().byteSize(), a.data().byteSize(), "case " + i + " (seed " + seed + ")");
                read++;
            } catch (NpyFormatException e) {
                if (!e.getMessage().startsWith(f + ": ") || e.getMessage().contains("\n")) {
                    fail("case " + i + " (seed " + seed + "): message not one line naming the file: " + e.getMessage());
                }
                rejected++;
            } catch (Throwable t) {
                fail("case " + i + " (seed " + seed + ") threw " + t, t);
            }
        }
        assertTrue(rejected > 1000 && read > 0, "read " + read + ", rejected " + rejected + " (seed " + seed + ")");
    }
}
