package dev.longconv.layers;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Upstream's treatment of names it does not know, offered behind the {@code lenient} hyperparameter:
 * tnn-pytorch's {@code get_activation_fn} returns the identity and its {@code get_norm_fn} nn.LayerNorm for any
 * name it does not list (a misspelt name is then silently linear). Each substitution is logged once per JVM
 * (System.Logger "dev.longconv", WARNING) with the layer, the hyperparameter and the name.
 */
final class LenientNames {
    private static final System.Logger LOG = System.getLogger("dev.longconv");
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private LenientNames() {}

    /** The activation for {@code name}, or the identity (logged once) when it is unknown. */
    static Activation activation(String name, String op, String argument) {
        try {
            return Activation.parse(name, op, argument);
        } catch (dev.longconv.LongConvException e) {
            warn(op, argument, name, "the identity");
            return Activation.NONE;
        }
    }

    /** The norm for {@code name}, or nn.LayerNorm (logged once) when it is unknown. */
    static NormType norm(String name, String op, String argument) {
        try {
            return NormType.parse(name, op, argument);
        } catch (dev.longconv.LongConvException e) {
            warn(op, argument, name, "layernorm");
            return NormType.LAYER;
        }
    }

    private static void warn(String op, String argument, String name, String as) {
        if (WARNED.add(op + "\u0000" + argument + "\u0000" + name)) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1}=''{2}'' is not a name upstream knows; lenient: using {3}, as upstream does",
                    op, argument, name, as);
        }
    }
}
