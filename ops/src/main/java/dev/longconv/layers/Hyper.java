package dev.longconv.layers;

import dev.longconv.LongConvException;

import java.util.Locale;
import java.util.Map;

/** Reads layer hyperparameters from safetensors metadata (strings), with one-line errors naming the key. */
final class Hyper {
    /**
     * The largest size a hyperparameter may give (heads, widths, ranks, tap and layer counts, embeddings): any
     * product of two stays below 2^31, so shape arithmetic from metadata cannot overflow an int, and a hostile
     * file is refused before anything is allocated. Upstream's largest such value is flash-stu's n_embd
     * (a few thousand); sequence lengths have their own bounds where they are read.
     */
    static final int MAX_SIZE = 1 << 15;

    private Hyper() {}

    static String string(String layer, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new LongConvException(layer, key, "hyperparameter '" + key + "' is missing: put it in the weights' __metadata__ or pass --set " + key + "=VALUE");
        return v.trim();
    }

    /** A size hyperparameter: an integer in [0, {@link #MAX_SIZE}]. */
    static int integer(String layer, Map<String, String> meta, String key) {
        return size(layer, key, string(layer, meta, key));
    }

    /** {@code text} as a size in [0, {@link #MAX_SIZE}], or a one-line error naming {@code layer} and {@code key}. */
    static int size(String layer, String key, String text) {
        return integer(layer, key, text, 0, MAX_SIZE);
    }

    /** {@code text} as an integer in [min, max], or a one-line error naming {@code layer} and {@code key}. */
    static int integer(String layer, String key, String text, int min, int max) {
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new LongConvException(layer, key, "an integer", "'" + text + "'");
        }
        if (value < min || value > max) {
            throw new LongConvException(layer, key, "an integer in [" + min + ", " + max + "]", Long.toString(value));
        }
        return (int) value;
    }

    static double real(String layer, Map<String, String> meta, String key) {
        String v = string(layer, meta, key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new LongConvException(layer, key, "a number", "'" + v + "'");
        }
    }

    static boolean bool(String layer, Map<String, String> meta, String key, boolean dflt) {
        if (!meta.containsKey(key)) return dflt;
        return switch (meta.get(key).trim().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new LongConvException(layer, key, "true or false", "'" + meta.get(key) + "'");
        };
    }
}
