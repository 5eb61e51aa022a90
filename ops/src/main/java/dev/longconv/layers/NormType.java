package dev.longconv.layers;

import dev.longconv.LongConvException;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The normalizations of tnn-pytorch's {@code get_norm_fn}, by its {@code norm_type} names, with the
 * state_dict names of their parameters (relative to the module). Upstream maps any unknown name to
 * nn.LayerNorm; here that is the name "layernorm", and other unknown names throw unless the layer's
 * {@code lenient} hyperparameter asks for upstream's behaviour ({@link LenientNames}).
 */
public enum NormType {
    /** x / (‖x‖/√d + 1e-8); no parameters. */
    SIMPLE_RMS("simplermsnorm", List.of()),
    /** scale ⊙ x / (‖x‖/√d + 1e-8). */
    RMS("rmsnorm", List.of("scale")),
    /** scale ⊙ x / (‖x‖/√d + 1e-8) ⊙ sigmoid(gate ⊙ x). */
    GATED_RMS("gatedrmsnorm", List.of("scale", "gate")),
    /** scala · x / sqrt(mean(x²) + 1e-5); scala has shape [1]. */
    SCALE("scalenorm", List.of("scala")),
    /** nn.LayerNorm(d): weight ⊙ (x - mean) / sqrt(var + 1e-5) + bias, var biased. */
    LAYER("layernorm", List.of("weight", "bias"));

    private final String upstreamName;
    private final List<String> parameterNames;

    NormType(String upstreamName, List<String> parameterNames) {
        this.upstreamName = upstreamName;
        this.parameterNames = parameterNames;
    }

    public String upstreamName() {
        return upstreamName;
    }

    /** state_dict names of the parameters, relative to the norm module. */
    public List<String> parameterNames() {
        return parameterNames;
    }

    /** Shape of parameter {@code name} of a norm over d features. */
    public long[] parameterShape(String name, int d) {
        return this == SCALE ? new long[] {1} : new long[] {d};
    }

    public static NormType parse(String name, String op, String argument) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (NormType t : values()) if (t.upstreamName.equals(n)) return t;
        throw new LongConvException(op, argument, "one of " + Arrays.stream(values()).map(NormType::upstreamName).toList()
                + " (lenient=true maps other names to layernorm, as upstream)", "'" + name + "'");
    }
}
