package dev.longconv.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed and fully checked safetensors header: the tensors' entries in header order and the
 * {@code __metadata__} strings. {@link #parse} checks what the reference implementation (safetensors
 * 0.8) checks: every entry's dtype known, shape and offsets non-negative integers, its byte range as long
 * as dtype and shape say, and the ranges together tiling the data section from its first byte to its
 * last with no overlap and no gap. It is stricter in two places where the format's README says MUST or
 * "disallowed" and the reference does not enforce it: the header must begin with '{' (no leading
 * whitespace), and duplicate keys are refused (the reference keeps the last).
 */
record SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {
    /** The key under which the header holds free-form string metadata instead of a tensor. */
    static final String METADATA_KEY = "__metadata__";

    /**
     * One tensor's entry.
     *
     * @param name  the tensor's name
     * @param dtype stored element type
     * @param shape dimensions, outermost first (empty for a scalar)
     * @param begin first byte, relative to the start of the data section
     * @param end   one past the last byte
     */
    record Entry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
        long byteSize() {
            return end - begin;
        }

        long elementCount() {
            long n = 1;
            for (long d : shape) n *= d; // cannot overflow: parse checked the byte size
            return n;
        }
    }

    /**
     * Parses and checks {@code json}, the header of {@code file} whose data section has {@code dataLength} bytes.
     *
     * @throws SafetensorsFormatException naming the file (and the tensor) on the first problem found
     */
    static SafetensorsHeader parse(Path file, String json, long dataLength) throws SafetensorsFormatException {
        if (json.isEmpty() || json.charAt(0) != '{') {
            throw new SafetensorsFormatException(file, "header does not start with '{' (the format requires a JSON object there)");
        }
        Object root;
        try {
            root = SafetensorsJson.parse(json);
        } catch (SafetensorsJson.Malformed e) {
            throw new SafetensorsFormatException(file, e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafetensorsFormatException(file, "header is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> kv : top.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, kv.getValue());
            } else {
                entries.put(name, entry(file, name, kv.getValue(), dataLength));
            }
        }
        checkTiling(file, entries, dataLength);
        return new SafetensorsHeader(Collections.unmodifiableMap(entries), metadata);
    }

    private static Map<String, String> metadata(Path file, Object value) throws SafetensorsFormatException {
        // serde reads a null __metadata__ as "none", so the reference implementation accepts it.
        if (value == SafetensorsJson.NULL) return Map.of();
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafetensorsFormatException(file, "'" + METADATA_KEY + "' is " + show(value)
                    + ", expected an object of string values");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : map.entrySet()) {
            if (!(kv.getValue() instanceof String v)) {
                throw new SafetensorsFormatException(file, "'" + METADATA_KEY + "' value for key "
                        + SafetensorsJson.quote((String) kv.getKey()) + " is " + show(kv.getValue()) + ", expected a string");
            }
            out.put((String) kv.getKey(), v);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry entry(Path file, String name, Object value, long dataLength) throws SafetensorsFormatException {
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafetensorsFormatException(file, name, "entry is " + show(value)
                    + ", expected an object with 'dtype', 'shape' and 'data_offsets'");
        }
        // Keys other than these three are ignored, as the reference implementation ignores them.
        for (String key : new String[] {"dtype", "shape", "data_offsets"}) {
            if (!info.containsKey(key)) throw new SafetensorsFormatException(file, name, "entry has no '" + key + "'");
        }
        if (!(info.get("dtype") instanceof String code)) {
            throw new SafetensorsFormatException(file, name, "'dtype' is " + show(info.get("dtype")) + ", expected a string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromCode(code).orElseThrow(() -> new SafetensorsFormatException(file, name,
                "unknown dtype " + SafetensorsJson.quote(code) + " (known: F64, F32, F16, BF16, I64, I32, U8, BOOL and the other"
                        + " types of the safetensors format)"));
        long[] shape = integers(file, name, "shape", info.get("shape"));
        long[] offsets = integers(file, name, "data_offsets", info.get("data_offsets"));
        if (offsets.length != 2) {
            throw new SafetensorsFormatException(file, name, "'data_offsets' has " + offsets.length
                    + " entries, expected 2: [begin, end]");
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw new SafetensorsFormatException(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataLength) {
            throw new SafetensorsFormatException(file, name, "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataLength + " bytes)");
        }
        long bytes = byteSize(file, name, dtype, shape);
        if (end - begin != bytes) {
            throw new SafetensorsFormatException(file, name, "data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes, but " + dtype + " of shape " + dims(shape) + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Exact bytes of a tensor; the element count must fit even when a zero dimension makes it empty, as in the reference. */
    private static long byteSize(Path file, String name, SafetensorsDtype dtype, long[] shape) throws SafetensorsFormatException {
        try {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            long bits = Math.multiplyExact(n, (long) dtype.bits());
            if (bits % 8 != 0) {
                throw new SafetensorsFormatException(file, name, dims(shape) + " " + dtype + " elements take " + bits
                        + " bits, not a whole number of bytes");
            }
            return bits / 8;
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(file, name, "the size of " + dtype + " of shape " + dims(shape) + " overflows");
        }
    }

    private static long[] integers(Path file, String name, String key, Object value) throws SafetensorsFormatException {
        if (!(value instanceof List<?> list)) {
            throw new SafetensorsFormatException(file, name, "'" + key + "' is " + show(value) + ", expected an array of integers");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object v = list.get(i);
            if (!(v instanceof Long n)) {
                String why = v instanceof SafetensorsJson.Decimal(String text) && !text.contains(".") && !text.contains("e")
                        && !text.contains("E") ? "out of range" : "not an integer";
                throw new SafetensorsFormatException(file, name, "'" + key + "' entry " + i + " is " + show(v) + ", " + why);
            }
            if (n < 0) throw new SafetensorsFormatException(file, name, "'" + key + "' entry " + i + " is negative (" + n + ")");
            out[i] = n;
        }
        return out;
    }

    /**
     * The ranges sorted by offset must start at 0, follow one another without overlap or gap, and end at
     * the end of the data: every byte of the data belongs to exactly one tensor (the reference refuses
     * overlaps, and gaps too, so that a file cannot hide a second payload).
     */
    private static void checkTiling(Path file, Map<String, Entry> entries, long dataLength) throws SafetensorsFormatException {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < at) {
                throw new SafetensorsFormatException(file, e.name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlap tensor " + SafetensorsJson.quote(previous.name()) + " at [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (e.begin() > at) {
                throw new SafetensorsFormatException(file, e.name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] leave bytes " + at + " to " + e.begin() + " of the data section in no tensor");
            }
            at = e.end();
            previous = e;
        }
        if (at != dataLength) {
            throw new SafetensorsFormatException(file, (dataLength - at) + " bytes after the last tensor's data (the tensors"
                    + " cover " + at + " of the " + dataLength + " data bytes)");
        }
    }

    static String dims(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) b.append(i > 0 ? ", " : "").append(shape[i]);
        return b.append(']').toString();
    }

    private static String show(Object v) {
        return switch (v) {
            case String s -> "the string " + SafetensorsJson.quote(s);
            case Long n -> "the number " + n;
            case SafetensorsJson.Decimal(String text) -> "the number " + text;
            case Boolean b -> b.toString();
            case List<?> l -> "an array of " + l.size();
            case Map<?, ?> m -> "an object";
            default -> "null";
        };
    }
}
