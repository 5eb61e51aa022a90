package dev.longconv.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict parser for the Python dict literal of a .npy header: string keys, and values that are
 * strings, True/False or tuples of non-negative integers. Anything else is an error, so a file whose
 * header is damaged is rejected rather than half-understood.
 */
final class NpyHeader {
    private final String s;
    private int pos;

    private NpyHeader(String s) {
        this.s = s;
    }

    /** Thrown with a description of what is wrong and where. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String msg) {
            super(msg, null, false, false);
        }
    }

    static Map<String, Object> parse(String header) throws Malformed {
        NpyHeader p = new NpyHeader(header);
        Map<String, Object> dict = p.dict();
        p.skipSpace();
        if (p.pos != header.length()) throw p.error("text after the closing '}'");
        return dict;
    }

    private Map<String, Object> dict() throws Malformed {
        expect('{');
        Map<String, Object> out = new LinkedHashMap<>();
        skipSpace();
        while (peek() != '}') {
            String key = string();
            expect(':');
            Object value = value();
            if (out.put(key, value) != null) throw error("duplicate key '" + key + "'");
            skipSpace();
            if (peek() == ',') {
                pos++;
                skipSpace();
            } else if (peek() != '}') {
                throw error("expected ',' or '}'");
            }
        }
        pos++;
        return out;
    }

    private Object value() throws Malformed {
        skipSpace();
        char c = peek();
        if (c == '\'' || c == '"') return string();
        if (c == '(') return tuple();
        if (s.startsWith("True", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("False", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (c == '[') throw error("structured dtypes (a list) are not supported");
        throw error("expected a string, True, False or a tuple");
    }

    private long[] tuple() throws Malformed {
        expect('(');
        List<Long> dims = new ArrayList<>();
        skipSpace();
        while (peek() != ')') {
            dims.add(integer());
            skipSpace();
            if (peek() == ',') {
                pos++;
                skipSpace();
            } else if (peek() != ')') {
                throw error("expected ',' or ')' in the shape");
            }
        }
        pos++;
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) out[i] = dims.get(i);
        return out;
    }

    private long integer() throws Malformed {
        int start = pos;
        if (peek() == '-') throw error("negative dimension in the shape");
        while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) pos++;
        if (pos == start) throw error("expected a non-negative integer in the shape");
        String digits = s.substring(start, pos);
        if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 long literal
        if (digits.length() > 18) throw error("dimension " + digits + " is too large");
        return Long.parseLong(digits);
    }

    private String string() throws Malformed {
        skipSpace();
        char q = peek();
        if (q != '\'' && q != '"') throw error("expected a quoted string");
        int end = s.indexOf(q, pos + 1);
        if (end < 0) throw error("unterminated string");
        String out = s.substring(pos + 1, end);
        if (out.indexOf('\\') >= 0) throw error("escapes in strings are not supported");
        pos = end + 1;
        return out;
    }

    private void expect(char c) throws Malformed {
        skipSpace();
        if (peek() != c) throw error("expected '" + c + "'");
        pos++;
    }

    private char peek() throws Malformed {
        if (pos >= s.length()) throw new Malformed("header dict ends early");
        return s.charAt(pos);
    }

    private void skipSpace() {
        while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\t')) pos++;
    }

    private Malformed error(String what) {
        return new Malformed("header dict: " + what + " at character " + pos);
    }
}
