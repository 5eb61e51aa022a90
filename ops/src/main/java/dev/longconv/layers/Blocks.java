package dev.longconv.layers;

import dev.longconv.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the block layers ({@link Glu}, {@link TnnLayer}, {@link StuLayer}) share: sub-module names, norms on rows, gradients. */
final class Blocks {
    private Blocks() {}

    /** The entries of {@code all} under {@code prefix}, with the prefix removed (a sub-module's own state_dict). */
    static Map<String, Tensor> strip(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((n, t) -> {
            if (n.startsWith(prefix)) out.put(n.substring(prefix.length()), t);
        });
        return out;
    }

    /** Weights of a sub-module: the names under {@code prefix} without it, the same metadata. */
    static Weights strip(Weights w, String prefix) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : w.names()) if (n.startsWith(prefix)) m.put(n.substring(prefix.length()), w.tensor(n));
        return Weights.of(w.source(), m, w.metadata());
    }

    /** The norm module {@code prefix} over d features, its parameters taken from {@code params} (checked). */
    static Norm norm(String layer, NormType type, int d, String prefix, Map<String, Tensor> params) {
        List<Tensor> ps = type.parameterNames().stream()
                .map(n -> TnoTensors.require(layer, params, prefix + n, type.parameterShape(n, d))).toList();
        return new Norm(type, d, ps);
    }

    /** The norm's parameter names and shapes under {@code prefix}. */
    static void putNormShapes(Map<String, long[]> s, NormType type, int d, String prefix) {
        for (String n : type.parameterNames()) s.put(prefix + n, type.parameterShape(n, d));
    }

    /** norm applied to every row of x [rows, d]. */
    static double[] normRows(Norm norm, double[] x, int rows) {
        Norm.Bound b = norm.bind();
        int d = norm.features();
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) b.forward(x, r * d, y, r * d);
        return y;
    }

    /** The norm's vector-Jacobian product on every row: returns dx; parameter gradients go to grads under prefix. */
    static double[] normRowsBackward(Norm norm, double[] x, double[] g, int rows, String prefix, Map<String, double[]> grads) {
        Norm.Bound b = norm.bind();
        int d = norm.features();
        double[][] gp = b.newGradients();
        double[] dx = new double[x.length];
        for (int r = 0; r < rows; r++) b.backward(x, r * d, g, r * d, dx, r * d, gp);
        List<String> names = norm.type().parameterNames();
        for (int i = 0; i < names.size(); i++) grads.put(prefix + names.get(i), gp[i]);
        return dx;
    }

    /** A sub-layer's gradients (tensors by its own names) read into arrays under {@code prefix}. */
    static void collect(LayerGrads g, String prefix, Map<String, double[]> grads) {
        g.dweights().forEach((n, t) -> grads.put(prefix + n, TnoTensors.read(t)));
    }

    /** LayerGrads in x's dtype: dx shaped like x, one gradient per parameter shaped like it. */
    static LayerGrads grads(double[] dx, Tensor x, Map<String, double[]> grads, Map<String, Tensor> params) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> p : params.entrySet()) {
                double[] g = grads.get(p.getKey());
                if (g == null) throw new IllegalStateException("no gradient computed for " + p.getKey());
                out.put(p.getKey(), TnoTensors.write(g, x.dtype(), p.getValue().shape()));
            }
            return new LayerGrads(TnoTensors.write(dx, x.dtype(), x.shape()), out);
        } catch (RuntimeException | Error e) {
            out.values().forEach(Tensor::close);
            throw e;
        }
    }
}
