package dev.longconv.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The strict JSON (RFC 8259) that safetensors headers are written in, parsed into plain Java values:
 * objects become {@code LinkedHashMap<String, Object>} in document order, arrays {@code List<Object>},
 * strings {@code String}, integers that fit a long {@code Long}, every other number a {@link Decimal}
 * holding its text, {@code true}/{@code false} {@code Boolean} and {@code null} {@link #NULL}.
 *
 * <p>Anything outside the grammar is refused: trailing garbage, duplicate keys, raw control characters
 * in strings, unpaired UTF-16 surrogates in {@code \\u} escapes, and nesting deeper than
 * {@link #MAX_DEPTH} (so no input can exhaust the stack).
 */
final class SafetensorsJson {
    /** A header is two levels deep; the limit only has to stop hostile input from recursing without end. */
    static final int MAX_DEPTH = 64;

    /** JSON {@code null}, kept distinct from a missing key. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A number that is not an integer in the range of a long, as written. */
    record Decimal(String text) {}

    /** The text is not JSON; the message says where and why. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    private final String s;
    private int pos;

    private SafetensorsJson(String s) {
        this.s = s;
    }

    /**
     * Parses {@code text}, which must hold exactly one JSON value surrounded by optional whitespace.
     *
     * @throws Malformed if it does not
     */
    static Object parse(String text) throws Malformed {
        SafetensorsJson p = new SafetensorsJson(text);
        p.skipSpace();
        Object v = p.value(0);
        p.skipSpace();
        if (p.pos < text.length()) throw p.error("unexpected " + p.describeHere() + " after the end of the JSON value");
        return v;
    }

    private Object value(int depth) throws Malformed {
        if (pos >= s.length()) throw error("unexpected end of the header, expected a value");
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected " + describeHere() + ", expected a value");
            }
        };
    }

    private Map<String, Object> object(int depth) throws Malformed {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipSpace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') throw error("unexpected " + describeHere() + ", expected a string key");
            int keyAt = pos;
            String key = string();
            skipSpace();
            expect(':');
            skipSpace();
            Object v = value(depth);
            if (map.putIfAbsent(key, v) != null) {
                pos = keyAt;
                throw error("duplicate key " + quote(key));
            }
            skipSpace();
            char c = peek();
            pos++;
            if (c == '}') return map;
            if (c != ',') {
                pos--;
                throw error("unexpected " + describeHere() + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws Malformed {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipSpace();
        if (peek() == ']') {
            pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipSpace();
            list.add(value(depth));
            skipSpace();
            char c = peek();
            pos++;
            if (c == ']') return Collections.unmodifiableList(list);
            if (c != ',') {
                pos--;
                throw error("unexpected " + describeHere() + ", expected ',' or ']'");
            }
        }
    }

    private String string() throws Malformed {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) throw error("unexpected end of the header inside a string");
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return b.toString();
            }
            if (c < 0x20) throw error("raw control character " + describeHere() + " inside a string (it must be escaped)");
            if (c != '\\') {
                b.append(c);
                pos++;
                continue;
            }
            if (pos + 1 >= s.length()) throw error("unexpected end of the header inside a string escape");
            char e = s.charAt(pos + 1);
            pos += 2;
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> b.append(unicodeEscape());
                default -> {
                    pos -= 2;
                    throw error("invalid escape \\" + printable(e) + " in a string");
                }
            }
        }
    }

    /** The code point of one {@code \\uXXXX} escape (after the 'u'), or of a surrogate pair of two. */
    private String unicodeEscape() throws Malformed {
        int at = pos - 2;
        char hi = hex4();
        if (Character.isLowSurrogate(hi)) {
            pos = at;
            throw error("unpaired low surrogate \\u" + hexOf(hi) + " in a string");
        }
        if (!Character.isHighSurrogate(hi)) return String.valueOf(hi);
        if (pos + 1 < s.length() && s.charAt(pos) == '\\' && s.charAt(pos + 1) == 'u') {
            pos += 2;
            char lo = hex4();
            if (Character.isLowSurrogate(lo)) return new String(new char[] {hi, lo});
        }
        pos = at;
        throw error("unpaired high surrogate \\u" + hexOf(hi) + " in a string");
    }

    private char hex4() throws Malformed {
        if (pos + 4 > s.length()) throw error("unexpected end of the header inside a \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos), 16);
            // Character.digit also accepts non-ASCII digits; JSON allows only [0-9a-fA-F].
            if (d < 0 || s.charAt(pos) > 'f') throw error("invalid hex digit " + describeHere() + " in a \\u escape");
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private Object number() throws Malformed {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("unexpected " + describeHere() + " in a number, expected a digit");
        }
        boolean integer = true;
        if (peek() == '.') {
            integer = false;
            pos++;
            if (!isDigit(peek())) throw error("unexpected " + describeHere() + " after a decimal point, expected a digit");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("unexpected " + describeHere() + " in an exponent, expected a digit");
            while (isDigit(peek())) pos++;
        }
        String text = s.substring(start, pos);
        if (integer) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException tooLong) {
                // out of range of a long: kept as text, for the caller to refuse by name
            }
        }
        return new Decimal(text);
    }

    private Object literal(String word, Object v) throws Malformed {
        if (!s.startsWith(word, pos)) throw error("unexpected " + describeHere() + ", expected a value");
        pos += word.length();
        return v;
    }

    private void expect(char c) throws Malformed {
        if (peek() != c) throw error("unexpected " + describeHere() + ", expected '" + c + "'");
        pos++;
    }

    /** The character at the cursor, or U+FFFF (never valid JSON syntax outside strings) at the end. */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\uffff';
    }

    private void skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String describeHere() {
        return pos >= s.length() ? "end of the header" : "character '" + printable(s.charAt(pos)) + "'";
    }

    private Malformed error(String what) {
        return new Malformed("invalid JSON at character " + pos + " of the header: " + what);
    }

    private static String printable(char c) {
        return c < 0x20 || c == 0x7f || Character.isSurrogate(c) ? "\\u" + hexOf(c) : String.valueOf(c);
    }

    private static String hexOf(char c) {
        return String.format("%04x", (int) c);
    }

    /** {@code s} as a single-quoted string for messages (control characters are escaped later, by the exception). */
    static String quote(String s) {
        return "'" + s + "'";
    }

    /**
     * Appends {@code s} as a JSON string the way serde_json (the reference writer) escapes it: quote and
     * backslash, {@code \\b \\t \\n \\f \\r} by their short escapes, other control characters as
     * {@code \\u00xx}, everything else as is.
     */
    static void appendString(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\b' -> b.append("\\b");
                case '\t' -> b.append("\\t");
                case '\n' -> b.append("\\n");
                case '\f' -> b.append("\\f");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) b.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
