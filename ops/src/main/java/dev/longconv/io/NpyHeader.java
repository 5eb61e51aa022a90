package dev.longconv.io;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strict parser for the Python dict literal in a .npy header. It accepts exactly the literals numpy's
 * {@code ast.literal_eval} would turn into what a .npy header may hold (quoted strings without escapes,
 * {@code True}/{@code False}, decimal integers, tuples of integers), so a damaged header is rejected
 * with a pointed message instead of being half understood.
 */
final class NpyHeader {
    /** A Python tuple of integers. Distinct from {@code long[]} so that {@code (3)}, an int in Python, cannot pass for one. */
    record Tuple(long[] items) {}

    /** What is wrong and where; {@link Npy} adds the file name. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String msg) {
            super(msg, null, false, false);
        }
    }

    private final String s;
    private final boolean python2Longs;
    private int pos;

    private NpyHeader(String s, boolean python2Longs) {
        this.s = s;
        this.python2Longs = python2Longs;
    }

    /**
     * Parses {@code header} into keys mapped to {@link String}, {@link Boolean}, {@link Long} or {@link Tuple}.
     *
     * @param python2Longs accept a trailing {@code L} on integers, as numpy does for the format versions
     *                     Python 2 wrote (1.0 and 2.0)
     */
    static Map<String, Object> parse(String header, boolean python2Longs) throws Malformed {
        NpyHeader p = new NpyHeader(header, python2Longs);
        Map<String, Object> dict = p.dict();
        p.skipSpace();
        if (p.pos != header.length()) throw p.error("text after the closing '}'");
        return dict;
    }

    private Map<String, Object> dict() throws Malformed {
        skipSpace();
        expect('{', "the header to start with '{'");
        Map<String, Object> out = new LinkedHashMap<>();
        skipSpace();
        while (peek() != '}') {
            if (peek() != '\'' && peek() != '"') throw error("expected a quoted key or '}'");
            String key = string();
            skipSpace();
            expect(':', "':' after key " + quote(key));
            skipSpace();
            Object value = value(key);
            if (out.put(key, value) != null) throw error("duplicate key " + quote(key));
            skipSpace();
            if (peek() == ',') {
                pos++;
                skipSpace();
            } else if (peek() != '}') {
                throw error("expected ',' or '}' after the value of " + quote(key));
            }
        }
        pos++;
        return out;
    }

    private Object value(String key) throws Malformed {
        char c = peek();
        if (c == '\'' || c == '"') return string();
        if (c == '(') return parenthesized();
        if (c == '-' || isDigit(c)) return integer();
        if (word("True")) return Boolean.TRUE;
        if (word("False")) return Boolean.FALSE;
        if (c == '[' && key.equals("descr")) {
            // A valid header, just not one longconv reads, so no "not a valid dict" and no position.
            throw new Malformed("structured dtypes (a list of fields) are not supported; longconv reads '<f4' and '<f8'");
        }
        throw error("expected a string, True, False, an integer or a tuple as the value of " + quote(key));
    }

    /** A tuple, or an integer in parentheses: Python makes {@code (3)} an int and only {@code (3,)} a tuple. */
    private Object parenthesized() throws Malformed {
        pos++;
        skipSpace();
        long[] items = new long[4];
        int n = 0;
        boolean comma = false;
        while (peek() != ')') {
            if (n > 0 && !comma) throw error("expected ',' or ')' in a tuple");
            if (n == items.length) items = Arrays.copyOf(items, 2 * n);
            items[n++] = integer();
            skipSpace();
            comma = peek() == ',';
            if (comma) {
                pos++;
                skipSpace();
            }
        }
        pos++;
        if (n == 1 && !comma) return items[0];
        return new Tuple(Arrays.copyOf(items, n));
    }

    private long integer() throws Malformed {
        int start = pos;
        if (peek() == '-') pos++;
        int digits = pos;
        while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
        if (pos == digits) {
            pos = start;
            throw error("expected an integer");
        }
        String literal = s.substring(start, pos);
        // Python 3 refuses "007" (it was octal in Python 2); only zeros may have leading zeros.
        if (s.charAt(digits) == '0' && !allZeros(digits, pos)) {
            pos = start;
            throw error("integer " + literal + " has leading zeros");
        }
        if (python2Longs && pos < s.length() && s.charAt(pos) == 'L') pos++;
        if (pos < s.length() && isWordChar(s.charAt(pos))) throw error("unexpected character after integer " + literal);
        try {
            return Long.parseLong(literal);
        } catch (NumberFormatException e) {
            pos = start;
            throw error("integer " + shorten(literal) + " overflows a long");
        }
    }

    private String string() throws Malformed {
        char q = s.charAt(pos);
        int start = pos + 1;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == q) {
                pos = i + 1;
                return s.substring(start, i);
            }
            if (c == '\\') {
                pos = i;
                throw error("escape sequences in strings are not supported");
            }
            if (c == '\n' || c == '\r') {
                pos = i;
                throw error("line break inside a string");
            }
        }
        throw error("unterminated string");
    }

    /** Matches a keyword only as a whole word, so "Falsey" is not False followed by junk the caller misreports. */
    private boolean word(String w) {
        int end = pos + w.length();
        if (!s.startsWith(w, pos) || end < s.length() && isWordChar(s.charAt(end))) return false;
        pos = end;
        return true;
    }

    private void expect(char c, String what) throws Malformed {
        if (pos >= s.length() || s.charAt(pos) != c) throw error("expected " + what);
        pos++;
    }

    private char peek() throws Malformed {
        if (pos >= s.length()) throw error("header ends inside the dict");
        return s.charAt(pos);
    }

    /** Python's whitespace between tokens inside brackets; the header's padding is spaces and a final newline. */
    private void skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') return;
            pos++;
        }
    }

    private boolean allZeros(int from, int to) {
        for (int i = from; i < to; i++) if (s.charAt(i) != '0') return false;
        return true;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isWordChar(char c) {
        return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c > 127;
    }

    private Malformed error(String what) {
        String found = pos >= s.length() ? "end of header" : s.charAt(pos) == '\'' ? "\"'\"" : quote(String.valueOf(s.charAt(pos)));
        return new Malformed("header is not a valid dict: " + what + " (at character " + pos + ", found " + found + ")");
    }

    /** Python-style quoting for messages; long strings from a damaged file are cut so the message stays readable. */
    static String quote(String v) {
        return "'" + shorten(v) + "'";
    }

    private static String shorten(String v) {
        return v.length() <= 40 ? v : v.substring(0, 37) + "...";
    }
}
