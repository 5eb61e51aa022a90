package dev.longconv.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way a header can be wrong is refused at open with a message naming the file and, where one is at fault, the tensor. */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    private int files;

    /** A file with {@code json} as its header (unpadded) and {@code dataBytes} bytes of data. */
    private Path file(String json, int dataBytes) throws IOException {
        return file(json.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8).length, dataBytes);
    }

    private Path file(byte[] header, long declaredLength, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        for (int i = 0; i < dataBytes; i++) b.put((byte) i);
        Path p = dir.resolve("case" + files++ + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    /** Opening {@code f} fails with a format error whose one-line message names the file and holds every fragment. */
    private static SafetensorsFormatException refused(Path f, String... fragments) {
        var e = assertThrows(SafetensorsFormatException.class, () -> {
            try (Safetensors st = Safetensors.open(f)) {
                throw new AssertionError("opened " + f + " with " + st.names());
            }
        });
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": "), m);
        assertFalse(m.contains("\n"), m);
        for (String frag : fragments) assertTrue(m.contains(frag), "message lacks '" + frag + "': " + m);
        return e;
    }

    private static String w(String dtype, String shape, String offsets) {
        return "\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void minimalValidFilesOpen() throws IOException {
        try (Safetensors st = Safetensors.open(file("{}", 0))) {
            assertTrue(st.names().isEmpty() && st.metadata().isEmpty());
        }
        // Whitespace padding after the object, null metadata (the reference reads it as none), and unknown keys in an entry.
        String json = "{\"__metadata__\":null," + w("F32", "[2]", "[0,8]").replace("}", ",\"extra\":[1,{}]}") + "} \t\r\n ";
        try (Safetensors st = Safetensors.open(file(json, 8))) {
            assertEquals(List.of("w"), List.copyOf(st.names()));
            assertEquals(Map.of(), st.metadata());
        }
    }

    // ---------------------------------------------------------------- the length prefix

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        for (int n = 0; n < 8; n++) {
            Path f = dir.resolve("short" + n + ".safetensors");
            Files.write(f, new byte[n]);
            refused(f, n + " bytes", "fewer than the 8");
        }
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        refused(file(h, 3, 0), "header length 3 runs past the end of the file (10 bytes)");
        refused(file(h, 1000, 0), "header length 1000");
    }

    @Test
    void headerLengthAbsurd() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        refused(file(h, 100_000_001L, 0), "100000001", "implausibly large");
        refused(file(h, -1L, 0), "18446744073709551615", "implausibly large"); // unsigned 2^64 - 1
        refused(file(h, Long.MIN_VALUE, 0), "9223372036854775808");
    }

    // ---------------------------------------------------------------- text and JSON

    @Test
    void headerNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}; // a lone lead byte
        refused(file(h, h.length, 0), "not valid UTF-8");
        byte[] overlong = {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'};
        refused(file(overlong, overlong.length, 0), "not valid UTF-8");
        byte[] surrogate = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'};
        refused(file(surrogate, surrogate.length, 0), "not valid UTF-8");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", " {}", "[]", "{", "{\"a\"", "{\"a\":}", "{\"a\":{},}", "{,}", "{} x", "{}{}", "{}\u0000",
        "{'a':{}}", "{\"a\" {}}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":[1,]}", "{\"a\":[1 2]}",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":0x10}",
        "{\"a\":NaN}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\\ud800\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"open}",
        "{\"a\":\"\\u\u0661\u0662\u0663\u0664\"}", "{\"a\":\"\\u\uff11234\"}", "{/*c*/}",
    })
    void headerNotJson(String json) throws IOException {
        String m = refused(file(json, 0)).getMessage();
        assertTrue(m.contains("invalid JSON") || m.contains("does not start with '{'"), m);
    }

    @Test
    void jsonMessagesSayWhereAndWhy() throws IOException {
        refused(file("{} x", 0), "character 3", "after the end of the JSON value");
        refused(file(" {}", 0), "does not start with '{'");
        refused(file("{\"a\":\"\\ud800\"}", 0), "unpaired high surrogate");
    }

    @Test
    void duplicateKeysAreRefused() throws IOException {
        String entry = w("F32", "[1]", "[0,4]");
        refused(file("{" + entry + "," + entry + "}", 4), "duplicate key 'w'");
        refused(file("{" + w("F32", "[1]", "[0,4]").replace("\"shape\"", "\"dtype\":\"F32\",\"shape\"") + "}", 4),
                "duplicate key 'dtype'");
        refused(file("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "duplicate key 'a'");
        // Escapes that spell the same key are the same key.
        refused(file("{\"__metadata__\":{\"a\":\"1\",\"\\u0061\":\"2\"}}", 0), "duplicate key 'a'");
    }

    @Test
    void nestingTooDeepIsRefusedNotAStackOverflow() throws IOException {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        refused(file("{\"__metadata__\":{\"x\":" + deep + "}}", 0), "nesting deeper than 64");
    }

    @Test
    void escapesAreDecoded() throws IOException {
        String name = "\\\"q\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\u0000";
        String meta = "{\"k\\u00E9y\":\"v\\u2028\"}";
        String json = "{\"__metadata__\":" + meta + ",\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        try (Safetensors st = Safetensors.open(file(json, 4))) {
            assertEquals(List.of("\"q\\/\b\f\n\r\t\u00e9\uD83D\uDE00\u0000"), List.copyOf(st.names()));
            assertEquals(Map.of("k\u00e9y", "v\u2028"), st.metadata());
        }
    }

    // ---------------------------------------------------------------- tensor entries

    @Test
    void entryMustBeAnObjectWithAllThreeKeys() throws IOException {
        refused(file("{\"w\":[1]}", 0), "tensor 'w'", "entry is an array");
        refused(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "no 'dtype'");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "no 'shape'");
        refused(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w'", "no 'data_offsets'");
        refused(file("{" + w("F32", "1", "[0,4]") + "}", 4), "tensor 'w'", "'shape' is the number 1");
        refused(file("{" + w("F32", "[1]", "{}") + "}", 4), "tensor 'w'", "'data_offsets' is an object");
        refused(file("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "'dtype' is the number 32");
    }

    @Test
    void unknownDtype() throws IOException {
        refused(file("{" + w("F128", "[1]", "[0,16]") + "}", 16), "tensor 'w'", "unknown dtype 'F128'");
        refused(file("{" + w("f32", "[1]", "[0,4]") + "}", 4), "tensor 'w'", "unknown dtype 'f32'");
    }

    @Test
    void shapeEntriesMustBeNonNegativeIntegers() throws IOException {
        refused(file("{" + w("F32", "[-1]", "[0,4]") + "}", 4), "tensor 'w'", "'shape' entry 0 is negative (-1)");
        refused(file("{" + w("F32", "[2,1.5]", "[0,4]") + "}", 4), "tensor 'w'", "'shape' entry 1 is the number 1.5, not an integer");
        refused(file("{" + w("F32", "[1.0]", "[0,4]") + "}", 4), "'shape' entry 0 is the number 1.0, not an integer");
        refused(file("{" + w("F32", "[1e0]", "[0,4]") + "}", 4), "not an integer");
        refused(file("{" + w("F32", "[\"1\"]", "[0,4]") + "}", 4), "'shape' entry 0 is the string '1'");
        refused(file("{" + w("F32", "[null]", "[0,4]") + "}", 4), "'shape' entry 0 is null");
        refused(file("{" + w("F32", "[18446744073709551616]", "[0,4]") + "}", 4), "18446744073709551616, out of range");
    }

    @Test
    void shapeProductOverflow() throws IOException {
        refused(file("{" + w("F32", "[4294967296,4294967296]", "[0,4]") + "}", 4), "tensor 'w'", "overflows");
        // The element count fits a long but its size in bits does not.
        refused(file("{" + w("F64", "[2305843009213693952]", "[0,4]") + "}", 4), "tensor 'w'", "overflows");
        // As in the reference implementation, the product is taken left to right, so a later zero does not save it.
        refused(file("{" + w("F32", "[4294967296,4294967296,0]", "[0,0]") + "}", 0), "tensor 'w'", "overflows");
        try (Safetensors st = Safetensors.open(file("{" + w("F32", "[0,4294967296,4294967296]", "[0,0]") + "}", 0))) {
            assertEquals(0, st.tensor("w").numel()); // the reference accepts this one, so longconv does too
        }
    }

    @Test
    void packedTypesMustFillWholeBytes() throws IOException {
        refused(file("{" + w("F4", "[3]", "[0,2]") + "}", 2), "tensor 'w'", "12 bits, not a whole number of bytes");
        try (Safetensors st = Safetensors.open(file("{" + w("F4", "[4]", "[0,2]") + "}", 2))) {
            assertEquals(SafetensorsDtype.F4, st.storedDtype("w"));
        }
    }

    @Test
    void dataOffsetsMustBeAnOrderedPairInsideTheData() throws IOException {
        refused(file("{" + w("F32", "[1]", "[4,0]") + "}", 4), "tensor 'w'", "[4, 0] end before they begin");
        refused(file("{" + w("F32", "[1]", "[0,4,8]") + "}", 8), "tensor 'w'", "has 3 entries, expected 2");
        refused(file("{" + w("F32", "[1]", "[0]") + "}", 8), "tensor 'w'", "has 1 entries, expected 2");
        refused(file("{" + w("F32", "[1]", "[-4,0]") + "}", 4), "tensor 'w'", "'data_offsets' entry 0 is negative");
        refused(file("{" + w("F32", "[2]", "[0,8]") + "}", 4), "tensor 'w'", "[0, 8] run past the end of the data section (4 bytes)");
        refused(file("{" + w("F32", "[1]", "[9223372036854775803,9223372036854775807]") + "}", 4), "tensor 'w'", "run past");
    }

    @Test
    void byteLengthMustMatchShapeAndDtype() throws IOException {
        refused(file("{" + w("F32", "[3]", "[0,8]") + "}", 8), "tensor 'w'", "span 8 bytes, but F32 of shape [3] needs 12");
        refused(file("{" + w("BF16", "[]", "[0,4]") + "}", 4), "tensor 'w'", "span 4 bytes, but BF16 of shape [] needs 2");
        refused(file("{" + w("F64", "[0]", "[0,8]") + "}", 8), "tensor 'w'", "needs 0");
    }

    @Test
    void tensorsMayNotOverlapLeaveGapsOrLeaveTrailingBytes() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        refused(file("{" + a + "," + w("F32", "[2]", "[4,12]") + "}", 12), "tensor 'w'", "overlap tensor 'a' at [0, 8]");
        refused(file("{" + a + "," + w("F32", "[2]", "[0,8]") + "}", 8), "overlap tensor 'a'");
        // An empty tensor inside another's bytes overlaps it too, as the reference implementation holds.
        refused(file("{" + a + "," + w("F32", "[0]", "[4,4]") + "}", 8), "tensor 'w'", "overlap");
        refused(file("{" + a + "," + w("F32", "[1]", "[12,16]") + "}", 16), "tensor 'w'", "leave bytes 8 to 12");
        refused(file("{" + w("F32", "[1]", "[4,8]") + "}", 8), "tensor 'w'", "leave bytes 0 to 4");
        refused(file("{" + a + "}", 11), "3 bytes after the last tensor's data");
        refused(file("{}", 1), "1 bytes after the last tensor's data");
        // Header order need not be offset order.
        try (Safetensors st = Safetensors.open(file("{" + w("F32", "[1]", "[8,12]") + "," + a + "}", 12))) {
            assertEquals(List.of("w", "a"), List.copyOf(st.names()));
            assertEquals(Float.intBitsToFloat(0x0b0a0908), (float) st.tensor("w").get(0));
        }
    }

    @Test
    void metadataMustBeAnObjectOfStrings() throws IOException {
        refused(file("{\"__metadata__\":{\"a\":\"x\",\"n\":1}}", 0), "'__metadata__' value for key 'n' is the number 1, expected a string");
        refused(file("{\"__metadata__\":{\"a\":{}}}", 0), "key 'a' is an object");
        refused(file("{\"__metadata__\":{\"a\":null}}", 0), "key 'a' is null");
        refused(file("{\"__metadata__\":[\"a\"]}", 0), "'__metadata__' is an array of 1, expected an object");
        refused(file("{\"__metadata__\":\"a\"}", 0), "'__metadata__' is the string 'a'");
    }

    @Test
    void namesWithControlCharactersStayOnOneLine() throws IOException {
        refused(file("{\"bad\\nname\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0), "tensor 'bad\\nname'", "unknown dtype");
    }
}
