package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.ops.Backend;
import dev.longconv.ops.spi.BiasedGemm;
import dev.longconv.ops.spi.HostTasks;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backends, random state_dicts and the finite-difference gradient check shared by the TNN layer tests. */
final class TnnTestSupport {
    static final long SEED = Long.getLong("longconv.test.seed", 20261122L);
    static final double FD_TOL = 1e-6;

    private TnnTestSupport() {}

    /** scalar, and vector when the Vector API is usable. */
    static List<Backend> backends() {
        List<Backend> out = new ArrayList<>(List.of(new ScalarBackend()));
        if (dev.longconv.simd.Simd.status().available()) out.add(new VectorBackend());
        return out;
    }

    /** Uniform [-1, 1) tensors for every name, except those {@code special} fills. */
    static Map<String, Tensor> randomStateDict(Map<String, long[]> shapes, DType dtype, long seed) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        SplittableRandom rng = new SplittableRandom(seed);
        shapes.forEach((n, s) -> sd.put(n, Tensor.random(dtype, rng.nextLong(), s)));
        return sd;
    }

    /** Fills a decay parameter so that γ = its value lies in [0.6, 0.95) (fixed decay). */
    static void fixedDecay(Tensor gamma, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (long i = 0; i < gamma.numel(); i++) gamma.setFlat(i, rng.nextDouble(0.6, 0.95));
    }

    static void closeAll(Map<String, Tensor> sd) {
        sd.values().forEach(Tensor::close);
    }

    /** ||a - e|| / ||e|| over flat arrays (absolute when e is zero). */
    static double relL2(double[] a, double[] e) {
        double num = 0, den = 0;
        for (int i = 0; i < e.length; i++) {
            if (!Double.isFinite(a[i])) return Double.POSITIVE_INFINITY;
            num += (a[i] - e[i]) * (a[i] - e[i]);
            den += e[i] * e[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** sum(gy * layer.forward(x)). */
    static double objective(Layer layer, Backend be, Tensor x, Tensor gy) {
        try (Tensor y = layer.forward(be, x)) {
            double s = 0;
            for (long i = 0; i < y.numel(); i++) s += y.getFlat(i) * gy.getFlat(i);
            return s;
        }
    }

    /** Central difference of the objective along each element of {@code t} (perturbed in place and restored). */
    static double[] finiteDifference(Layer layer, Backend be, Tensor x, Tensor gy, Tensor t) {
        double[] g = new double[Math.toIntExact(t.numel())];
        for (int i = 0; i < g.length; i++) {
            double v = t.getFlat(i), h = 1e-5 * Math.max(1, Math.abs(v));
            t.setFlat(i, v + h);
            double up = objective(layer, be, x, gy);
            t.setFlat(i, v - h);
            double down = objective(layer, be, x, gy);
            t.setFlat(i, v);
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /**
     * The layer's backward against central finite differences of its float64 forward, for x and every
     * parameter: relative L2 error <= 1e-6 each.
     */
    static void checkGradients(Layer layer, Backend be, Tensor x, long seed, String what) {
        try (Tensor probe = layer.forward(be, x); Tensor gy = Tensor.random(DType.FLOAT64, seed ^ 0x5eed, probe.shape());
             LayerGrads grads = layer.backward(be, x, gy)) {
            assertArrayEquals(x.shape(), grads.dx().shape(), what + ": dx shape");
            double err = relL2(grads.dx().toDoubleArray(), finiteDifference(layer, be, x, gy, x));
            assertTrue(err <= FD_TOL, () -> what + " seed=" + seed + ": dx relative error " + err);
            assertTrue(grads.dweights().keySet().equals(layer.parameters().keySet()),
                    () -> what + ": gradients for " + grads.dweights().keySet() + " but parameters " + layer.parameters().keySet());
            for (Map.Entry<String, Tensor> p : layer.parameters().entrySet()) {
                Tensor g = grads.weight(p.getKey());
                assertArrayEquals(p.getValue().shape(), g.shape(), what + ": shape of the gradient of " + p.getKey());
                double e = relL2(g.toDoubleArray(), finiteDifference(layer, be, x, gy, p.getValue()));
                assertTrue(e <= FD_TOL, () -> what + " seed=" + seed + ": gradient of " + p.getKey() + " relative error " + e);
            }
        }
    }

    /**
     * {@code be}'s ops with host tasks that claim {@code threads} threads and run every task on this thread, last
     * first, recording each task's index in {@code ran}.
     */
    static Backend reversedTasks(Backend be, int threads, List<Integer> ran) {
        return reversedTasks(be, threads, ran, null);
    }

    /**
     * {@link #reversedTasks(Backend, int, List)}, offering also {@link BiasedGemm} (which {@code be} must implement) when
     * {@code asked} is not null, and recording there the name of each of its methods called.
     */
    static Backend reversedTasks(Backend be, int threads, List<Integer> ran, List<String> asked) {
        Class<?>[] faces = asked == null ? new Class<?>[] {Backend.class, HostTasks.class} : new Class<?>[] {Backend.class, HostTasks.class, BiasedGemm.class};
        return (Backend) Proxy.newProxyInstance(TnnTestSupport.class.getClassLoader(), faces,
                (proxy, method, args) -> switch (method.getName()) {
                    case "hostThreads" -> threads;
                    case "forEachHostTask" -> {
                        int tasks = (Integer) args[0];
                        var body = (java.util.function.IntConsumer) args[2];
                        for (int i = tasks - 1; i >= 0; i--) {
                            ran.add(i);
                            body.accept(i);
                        }
                        yield null;
                    }
                    default -> {
                        if (asked != null && method.getDeclaringClass() == BiasedGemm.class) asked.add(method.getName());
                        try {
                            yield method.invoke(be, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }
}
