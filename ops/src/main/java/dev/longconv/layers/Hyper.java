package dev.longconv.layers;

import dev.longconv.LongConvException;

import java.util.Locale;
import java.util.Map;

/** Reads layer hyperparameters from safetensors metadata (strings), with one-line errors naming the key. */
final class Hyper {
    private Hyper() {}

    static String string(String layer, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new LongConvException(layer, key, "hyperparameter '" + key + "' is missing: put it in the weights' __metadata__ or pass --set " + key + "=VALUE");
        return v.trim();
    }

    static int integer(String layer, Map<String, String> meta, String key) {
        String v = string(layer, meta, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new LongConvException(layer, key, "an integer", "'" + v + "'");
        }
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
