package dev.longconv.layers;

import dev.longconv.LongConvException;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * String hyperparameters (a safetensors file's metadata, overridden by the caller's map) read as typed
 * values by their PyTorch constructor argument names. Booleans accept true/false in any case and 1/0;
 * keys this layer does not know are ignored (a file's metadata may describe more than one layer). Unknown
 * activation and norm names are refused unless {@code lenient} is true ({@link LenientNames}).
 */
final class TnoHyperparameters {
    private final String layer;
    private final Map<String, String> values;

    TnoHyperparameters(String layer, Map<String, String> metadata, Map<String, String> overrides) {
        this.layer = layer;
        this.values = new HashMap<>(metadata);
        this.values.putAll(overrides);
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    String string(String key, String fallback) {
        String v = values.get(key);
        return v == null ? fallback : v.trim();
    }

    /** The value of a required string hyperparameter. */
    String requiredString(String key) {
        String v = values.get(key);
        if (v == null) throw new LongConvException(layer, key, "hyperparameter '" + key + "' is required (in the metadata or the overrides)");
        return v.trim();
    }

    int integer(String key) {
        String v = values.get(key);
        if (v == null) throw new LongConvException(layer, key, "hyperparameter '" + key + "' is required (in the metadata or the overrides)");
        return parseInt(key, v);
    }

    int integer(String key, int fallback) {
        String v = values.get(key);
        return v == null ? fallback : parseInt(key, v);
    }

    double real(String key, double fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new LongConvException(layer, key, "a number", "'" + v + "'");
        }
    }

    boolean flag(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new LongConvException(layer, key, "true or false", "'" + v + "'");
        };
    }

    /**
     * Whether unknown activation and norm names follow upstream (identity, LayerNorm; logged once) instead of
     * being refused: the {@code lenient} hyperparameter, false by default.
     */
    boolean lenient() {
        return flag("lenient", false);
    }

    Activation activation(String key, String fallback) {
        String name = string(key, fallback);
        return lenient() ? LenientNames.activation(name, layer, key) : Activation.parse(name, layer, key);
    }

    NormType norm(String key, String fallback) {
        String name = string(key, fallback);
        return lenient() ? LenientNames.norm(name, layer, key) : NormType.parse(name, layer, key);
    }

    /**
     * An activation of ski-tnn's table: tnn-pytorch's, except that ski-tnn's "exp" subtracts the maximum over the
     * last axis first, which no layer here computes, so it is refused (as is its "sine" unless lenient).
     */
    Activation skiTnnActivation(String key, String fallback) {
        String name = string(key, fallback);
        if (name.trim().equalsIgnoreCase("exp")) {
            throw new LongConvException(layer, key, "an activation other than ski-tnn's 'exp' (it subtracts the maximum over the last axis)", "'exp'");
        }
        return activation(key, fallback);
    }

    /** Throws when the boolean hyperparameter {@code key} is true. */
    void refuse(String key, String op, String expected) {
        if (flag(key, false)) throw new LongConvException(op, key, expected, "true");
    }

    private int parseInt(String key, String v) {
        return Hyper.size(layer, key, v);
    }
}
