package dev.longconv.io;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the fixtures the reference library wrote, writing files it would write, and the object's lifetime. */
class SafetensorsTest {
    @TempDir
    Path dir;

    /** Copies a fixture written by make_fixtures.py into the temp dir, so messages name a known file. */
    Path resource(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = SafetensorsTest.class.getResourceAsStream("/safetensors/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name);
            Files.copy(in, p);
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> sidecar() throws Exception {
        String text = Files.readString(resource("reference.json"), StandardCharsets.UTF_8);
        return (Map<String, Object>) SafetensorsJson.parse(text);
    }

    private static byte[] bytes(Tensor t) {
        // Tensor.segment() refuses empty shapes like [2, 0]; they have no bytes anyway.
        return t.numel() == 0 ? new byte[0] : t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    // ---------------------------------------------------------------- the reference library's files

    @Test
    @SuppressWarnings("unchecked")
    void readsWhatTheReferenceLibraryWrote() throws Exception {
        Map<String, Object> expect = sidecar();
        Map<String, Object> dtypes = (Map<String, Object>) expect.get("dtypes");
        Map<String, Object> shapes = (Map<String, Object>) expect.get("shapes");
        try (Safetensors st = Safetensors.open(resource("reference.safetensors"))) {
            assertEquals(expect.get("names"), List.copyOf(st.names()), "names in header order");
            assertEquals(expect.get("metadata"), st.metadata());
            for (String name : st.names()) {
                assertEquals(dtypes.get(name), st.storedDtype(name).name(), name);
                long[] shape = ((List<Object>) shapes.get(name)).stream().mapToLong(o -> (Long) o).toArray();
                assertArrayEquals(shape, st.shape(name), name);
                if (st.storedDtype(name).loadsAs().isEmpty()) continue;
                Tensor t = st.tensor(name);
                try (Tensor want = Npy.load(resource("reference." + name + ".npy"))) {
                    assertEquals(want.dtype(), t.dtype(), name);
                    assertEquals(want.dtype(), st.dtype(name), name);
                    assertArrayEquals(want.shape(), t.shape(), name);
                    // Bits, not values: NaN payloads and the sign of zero must come through too.
                    assertArrayEquals(bytes(want), bytes(t), name);
                }
            }
        }
    }

    @Test
    void fixtureCoversTheCasesItIsMeantTo() throws IOException {
        try (Safetensors st = Safetensors.open(resource("reference.safetensors"))) {
            List<SafetensorsDtype> types = st.names().stream().map(st::storedDtype).toList();
            for (SafetensorsDtype t : new SafetensorsDtype[] {SafetensorsDtype.F32, SafetensorsDtype.F64,
                    SafetensorsDtype.F16, SafetensorsDtype.BF16, SafetensorsDtype.I64, SafetensorsDtype.BOOL}) {
                assertTrue(types.contains(t), "fixture has a " + t + " tensor");
            }
            assertEquals(0, st.shape("scalar").length);
            assertEquals(1, st.tensor("scalar").numel());
            assertEquals(0.125, st.tensor("scalar").get());
            assertEquals(0, st.tensor("empty").numel());
            assertEquals(0, st.tensor("empty64").numel());
            float[] half = st.tensor("half").toFloatArray();
            assertTrue(Float.isNaN(half[10]) && half[8] == Float.POSITIVE_INFINITY && half[5] == 0x1p-24f, Arrays.toString(half));
        }
    }

    @Test
    void unloadableTypesAreListedButRefusedByName() throws IOException {
        Path f = resource("reference.safetensors");
        try (Safetensors st = Safetensors.open(f)) {
            assertTrue(st.names().contains("steps") && st.contains("mask"));
            assertArrayEquals(new long[] {3}, st.shape("steps"));
            var e = assertThrows(LongConvException.class, () -> st.tensor("steps"));
            assertTrue(e.getMessage().contains("'steps'") && e.getMessage().contains("I64")
                    && e.getMessage().contains(f.toString()) && e.getMessage().contains("F16"), e.getMessage());
            assertThrows(LongConvException.class, () -> st.dtype("mask"));
            var missing = assertThrows(LongConvException.class, () -> st.tensor("nope"));
            assertTrue(missing.getMessage().contains("'nope'"), missing.getMessage());
            assertThrows(LongConvException.class, () -> st.shape("nope"));
            assertFalse(st.contains("nope"));
        }
    }

    @Test
    void float32AndFloat64AreReadOnlyViewsOfTheFilesMemory() throws IOException {
        Path file = resource("reference.safetensors");
        for (boolean mapped : new boolean[] {false, true}) {
            try (Safetensors st = mapped ? Safetensors.map(file) : Safetensors.open(file)) {
                views(st, mapped);
            }
        }
    }

    private static void views(Safetensors st, boolean mapped) {
        {
            for (String name : new String[] {"layer.weight", "filters"}) {
                Tensor a = st.tensor(name), b = st.tensor(name);
                assertTrue(a.segment().isMapped() == mapped && a.segment().isReadOnly(), name);
                assertEquals(a.segment().address(), b.segment().address(), "no copy per call: " + name);
                assertFalse(a.isOwner());
                var e = assertThrows(IllegalStateException.class, () -> a.set(1.0, 0, 0));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                a.close(); // a view: closing it frees nothing
                assertEquals(b.get(0, 0), a.get(0, 0));
            }
            Tensor h = st.tensor("half");
            assertEquals(h.segment().address(), st.tensor("half").segment().address(), "widened once");
            assertThrows(IllegalStateException.class, () -> h.set(1.0, 0, 0));
        }
    }

    @Test
    void tensorsDieWithTheFileAndNotBefore() throws Exception {
        Safetensors st = Safetensors.open(resource("reference.safetensors"));
        Tensor w = st.tensor("layer.weight"), h = st.tensor("half");
        double[] before = w.toDoubleArray();
        // Another thread reads the tensors while the file is open: the arena is shared.
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<double[]> other = pool.submit(w::toDoubleArray);
            assertArrayEquals(before, other.get());
            long widenedThere = pool.submit(() -> (long) st.tensor("half").toDoubleArray().length).get();
            assertEquals(h.numel(), widenedThere);
        }
        st.close();
        st.close(); // idempotent
        assertFalse(w.isAlive());
        assertThrows(IllegalStateException.class, () -> w.get(0, 0));
        assertThrows(IllegalStateException.class, () -> h.get(0, 0));
        assertThrows(IllegalStateException.class, () -> st.tensor("layer.weight"));
        assertThrows(IllegalStateException.class, st::names);
        assertThrows(IllegalStateException.class, st::metadata);
        assertEquals("reference.safetensors", st.file().getFileName().toString());
    }

    @Test
    void missingFileIsNoSuchFileNamingIt() {
        Path f = dir.resolve("absent.safetensors");
        var e = assertThrows(NoSuchFileException.class, () -> Safetensors.open(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    // ---------------------------------------------------------------- writing

    @Test
    void writesByteForByteWhatTheReferenceLibraryWrites() throws IOException {
        for (String fixture : new String[] {"layout_meta.safetensors", "layout_plain.safetensors"}) {
            Path src = resource(fixture);
            try (Safetensors st = Safetensors.open(src)) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                // Handed over in reverse to show the writer orders them itself.
                List<String> names = new ArrayList<>(st.names());
                for (int i = names.size() - 1; i >= 0; i--) tensors.put(names.get(i), st.tensor(names.get(i)));
                Path out = dir.resolve("java_" + fixture);
                Safetensors.write(out, tensors, st.metadata().isEmpty() ? null : st.metadata());
                assertEquals(-1, Files.mismatch(src, out), fixture + ": first differing byte");
            }
        }
    }

    @Test
    void roundTripsRandomTensorsAndMetadata() throws IOException {
        long seed = 0x5AFE7E50L;
        SplittableRandom rng = new SplittableRandom(seed);
        long[][] shapes = {{}, {1}, {0}, {7}, {13, 1}, {3, 5}, {2, 3, 11}, {2, 0, 3}, {1, 1, 1}, {31}};
        for (int round = 0; round < 6; round++) {
            String where = "seed " + seed + " round " + round;
            Map<String, Tensor> in = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            try {
                int count = 1 + rng.nextInt(8);
                for (int i = 0; i < count; i++) {
                    DType dt = rng.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
                    long[] shape = shapes[rng.nextInt(shapes.length)];
                    Tensor t = Tensor.random(dt, rng.nextLong(), shape);
                    if (shape.length == 2 && rng.nextBoolean()) {
                        Tensor tt = t.transpose(0, 1); // strided: written in C order of its logical shape
                        in.put(name(rng, i), tt);
                        in.put("owner_" + i, t);
                    } else {
                        in.put(name(rng, i), t);
                    }
                }
                int metaCount = rng.nextInt(4);
                for (int i = 0; i < metaCount; i++) meta.put(name(rng, i), name(rng, i + 1) + "\u0001\"\\\n\u00e9\uD83D\uDE00");
                Path f = dir.resolve("rt.safetensors");
                Safetensors.write(f, in, round % 2 == 0 ? meta : null);
                try (Safetensors st = Safetensors.open(f)) {
                    assertEquals(round % 2 == 0 ? meta : Map.of(), st.metadata(), where);
                    // The reference writer's order: float64 before float32, then by UTF-8 bytes of the name.
                    List<String> order = new ArrayList<>(in.keySet());
                    order.sort(Comparator.comparing((String k) -> in.get(k).dtype() == DType.FLOAT64 ? 0 : 1)
                            .thenComparing(k -> k.getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
                    assertEquals(order, List.copyOf(st.names()), where);
                    for (var kv : in.entrySet()) {
                        Tensor want = kv.getValue(), got = st.tensor(kv.getKey());
                        assertEquals(want.dtype(), got.dtype(), where + " " + kv.getKey());
                        assertArrayEquals(want.shape(), got.shape(), where + " " + kv.getKey());
                        assertArrayEquals(want.toDoubleArray(), got.toDoubleArray(), where + " " + kv.getKey());
                    }
                }
                assertEquals(0, headerLength(f) % 8, where + ": header padded to 8 bytes");
            } finally {
                in.values().forEach(Tensor::close);
            }
        }
    }

    private static long headerLength(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        long n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | (b[i] & 0xff);
        return n;
    }

    /** Names from a mix of ASCII, accents, astral characters and characters JSON must escape. */
    private static String name(SplittableRandom rng, int i) {
        String[] parts = {"layer", ".", "w", "\u00e9", "\uD83D\uDE00", "\"", "\\", "\t", "\u0000", "/", "_", "Z", "\uff21"};
        StringBuilder b = new StringBuilder();
        int n = 1 + rng.nextInt(5);
        for (int k = 0; k < n; k++) b.append(parts[rng.nextInt(parts.length)]);
        return b.append(i).toString();
    }

    @Test
    void replacingAnOpenFileLeavesItsMappingIntact() throws IOException {
        Path f = dir.resolve("w.safetensors");
        try (Tensor a = Tensor.of(new float[] {1, 2, 3}, 3); Tensor b = Tensor.of(new float[] {7, 8}, 2)) {
            Safetensors.write(f, Map.of("x", a), Map.of());
            try (Safetensors st = Safetensors.open(f)) {
                Tensor x = st.tensor("x");
                Safetensors.write(f, Map.of("x", b), Map.of());
                assertArrayEquals(new double[] {1, 2, 3}, x.toDoubleArray());
            }
            try (Safetensors st = Safetensors.open(f)) {
                assertArrayEquals(new double[] {7, 8}, st.tensor("x").toDoubleArray());
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of("w.safetensors"), files.map(p -> p.getFileName().toString()).toList(), "no temp files left");
        }
    }

    @Test
    void writeRefusesBadArguments() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Tensor t = Tensor.of(new float[] {1}, 1);
        var e = assertThrows(LongConvException.class, () -> Safetensors.write(f, Map.of("__metadata__", t), null));
        assertTrue(e.getMessage().contains("__metadata__"), e.getMessage());
        t.close();
        assertThrows(LongConvException.class, () -> Safetensors.write(f, Map.of("t", t), null));
        assertThrows(NoSuchFileException.class, () -> Safetensors.write(dir.resolve("no/such/dir.safetensors"), Map.of(), null));
        assertFalse(Files.exists(f));
    }

    @Test
    void writesTensorsOverHeapMemory() throws IOException {
        float[] values = {1.5f, -2, 3};
        Tensor heap = Tensor.wrap(MemorySegment.ofArray(values), DType.FLOAT32, 3);
        Path f = dir.resolve("heap.safetensors");
        Safetensors.write(f, Map.of("h", heap), null);
        try (Safetensors st = Safetensors.open(f)) {
            assertArrayEquals(values, st.tensor("h").toFloatArray());
        }
    }
}
