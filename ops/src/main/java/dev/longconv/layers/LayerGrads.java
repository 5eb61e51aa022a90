package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Map;

/**
 * A layer's vector-Jacobian product: the gradient for its input and one per parameter, keyed by the
 * parameter's state_dict name, each shaped like the parameter. Closing frees all of them.
 */
public record LayerGrads(Tensor dx, Map<String, Tensor> dweights) implements AutoCloseable {
    public Tensor weight(String name) {
        Tensor t = dweights.get(name);
        if (t == null) throw new LongConvException("layer-grads", "name", "one of " + dweights.keySet(), "'" + name + "'");
        return t;
    }

    @Override
    public void close() {
        dx.close();
        dweights.values().forEach(Tensor::close);
    }
}
