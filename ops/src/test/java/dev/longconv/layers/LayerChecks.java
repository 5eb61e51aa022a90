package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.ops.Backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every layer test needs: the CPU backends, and gradients checked against finite differences. */
final class LayerChecks {
    private LayerChecks() {}

    static List<Backend> backends() {
        List<Backend> out = new ArrayList<>(List.of(new ScalarBackend()));
        if (dev.longconv.simd.Simd.status().available()) out.add(new VectorBackend());
        return out;
    }

    /**
     * The backends the forward tests run on: the CPU ones, and cuda where a GPU is usable (its float32
     * cases only; without a GPU CudaParityTest shows the skip).
     */
    static List<Backend> forwardBackends() {
        List<Backend> out = backends();
        if (dev.longconv.ops.Backends.statuses().stream().anyMatch(s -> s.name().equals("cuda") && s.available())) {
            out.add(dev.longconv.ops.Backends.get("cuda"));
        }
        return out;
    }

    /** Adds a case unless it is a float64 case for cuda (which computes in float32); the arguments are built either way, so seeds stay put. */
    static void addIf(List<org.junit.jupiter.params.provider.Arguments> out, Backend be, dev.longconv.DType dt,
                      org.junit.jupiter.params.provider.Arguments args) {
        if (!(be.name().equals("cuda") && dt == dev.longconv.DType.FLOAT64)) out.add(args);
    }

    static double dot(Tensor a, Tensor b) {
        double s = 0;
        for (long i = 0, n = a.numel(); i < n; i++) s += a.getFlat(i) * b.getFlat(i);
        return s;
    }

    /**
     * Checks the layer's backward (float64) against central differences of f = sum(gy * forward(x)) along a
     * random direction, for x and for each parameter: (f(p + h v) - f(p - h v)) / 2h against dot(grad, v).
     * Perturbs the parameters in place and restores them.
     */
    static void assertGradients(Layer layer, Backend backend, Tensor x, long seed, double tol, String what) {
        SplittableRandom rng = new SplittableRandom(seed);
        Function<Tensor, Double> f;
        try (Tensor y0 = layer.forward(backend, x); Tensor gy = Tensor.random(DType.FLOAT64, rng.nextLong(), y0.shape());
                LayerGrads g = layer.backward(backend, x, gy)) {
            f = xx -> {
                try (Tensor y = layer.forward(backend, xx)) {
                    return dot(y, gy);
                }
            };
            checkDirection(what + " dx", g.dx(), x, () -> f.apply(x), rng.nextLong(), tol);
            for (Map.Entry<String, Tensor> p : layer.parameters().entrySet()) {
                checkDirection(what + " d" + p.getKey(), g.weight(p.getKey()), p.getValue(), () -> f.apply(x), rng.nextLong(), tol);
            }
        }
    }

    private static void checkDirection(String what, Tensor grad, Tensor param, java.util.function.Supplier<Double> f, long seed, double tol) {
        assertTrue(java.util.Arrays.equals(grad.shape(), param.shape()), what + ": gradient shape " + java.util.Arrays.toString(grad.shape()));
        double[] p0 = param.toDoubleArray();
        double scale = 0;
        for (double v : p0) scale = Math.max(scale, Math.abs(v));
        double h = 1e-6 * Math.max(1, scale);
        double[] v = new double[p0.length];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble(-1, 1);
        set(param, p0, v, h);
        double fp = f.get();
        set(param, p0, v, -h);
        double fm = f.get();
        set(param, p0, v, 0);
        double numeric = (fp - fm) / (2 * h), analytic = 0, norm = 0;
        for (int i = 0; i < v.length; i++) {
            analytic += grad.getFlat(i) * v[i];
            norm += Math.abs(grad.getFlat(i) * v[i]);
        }
        double err = Math.abs(numeric - analytic) / Math.max(norm, 1e-300);
        assertTrue(err <= tol, what + ": finite difference " + numeric + " vs backward " + analytic + " (rel " + err + " > " + tol + ")");
    }

    private static void set(Tensor t, double[] p0, double[] v, double h) {
        for (int i = 0; i < p0.length; i++) t.setFlat(i, p0[i] + h * v[i]);
    }
}
