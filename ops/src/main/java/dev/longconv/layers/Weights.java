package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named weight tensors and the string hyperparameters that came with them: what one safetensors file
 * holds. Names are those of the PyTorch module's state_dict. The tensors belong to the Weights (do not
 * close them); a layer built from Weights keeps using them, so keep the Weights open while it lives.
 */
public interface Weights {
    /** Where the weights came from, for messages: a file name, or "in-memory". */
    String source();

    /** The file's {@code __metadata__} (empty when it had none). */
    Map<String, String> metadata();

    Set<String> names();

    default boolean has(String name) {
        return names().contains(name);
    }

    /** The tensor as stored (float32 or float64); throws naming the source and the tensor when it is missing. */
    Tensor tensor(String name);

    /**
     * The tensor, checked against {@code shape} (-1 matches any extent). The message of a mismatch names
     * the op ({@code layer}), the source, the tensor, the expected and the actual shape.
     */
    default Tensor get(String layer, String name, long... shape) {
        if (!has(name)) {
            throw new LongConvException(layer, name, "tensor '" + name + "' is missing from " + source() + " (it has " + names() + ")");
        }
        Tensor t = tensor(name);
        boolean ok = t.rank() == shape.length;
        for (int i = 0; ok && i < shape.length; i++) ok = shape[i] < 0 || shape[i] == t.dim(i);
        if (!ok) {
            throw new LongConvException(layer, name, "shape " + describe(shape) + " in " + source(),
                    Arrays.toString(t.shape()));
        }
        return t;
    }

    private static String describe(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i] < 0 ? "*" : String.valueOf(shape[i]));
        return sb.append(']').toString();
    }

    /** Weights held in memory (tests, weights built in code). The map's tensors are not copied. */
    static Weights of(String source, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Tensor> t = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        Map<String, String> m = Map.copyOf(metadata);
        return new Weights() {
            @Override
            public String source() {
                return source;
            }

            @Override
            public Map<String, String> metadata() {
                return m;
            }

            @Override
            public Set<String> names() {
                return t.keySet();
            }

            @Override
            public Tensor tensor(String name) {
                Tensor x = t.get(name);
                if (x == null) throw new LongConvException("weights", name, "tensor '" + name + "' is missing from " + source);
                return x;
            }
        };
    }
}
