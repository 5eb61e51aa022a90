package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.spi.HostTasks;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The positional encoder's float32 pass ({@link Rpe#forwardFloat32}) split into runs of rows across a backend's host
 * tasks: it asks for one run per host thread (at most one per row), and the split result is the same, bit for bit, as one run over every
 * row, for every run length (1 to 2047 positions, 1 to 5 runs, runs of unequal length and of one row), depth, norm
 * type, residual and bias. Both also follow the float64 pass within relative L2 1e-5 (float32 roundings between the
 * steps). The host tasks here are the vector backend's ops behind a proxy that claims a given thread count and runs
 * the tasks on the calling thread in reverse order, so the split does not depend on this machine's cores.
 */
class RpeFloatTest {
    @Test
    void rowRunsGiveTheResultOfOneRun() {
        long seed = TnnTestSupport.SEED + 71;
        SplittableRandom rng = new SplittableRandom(seed);
        Backend vector = Backends.get("vector");
        for (int trial = 0; trial < 24; trial++) {
            int dim = 1 + rng.nextInt(40), outdim = 1 + rng.nextInt(40), layers = rng.nextInt(4);
            NormType norm = NormType.values()[rng.nextInt(NormType.values().length)];
            Rpe.Config c = new Rpe.Config(dim, outdim, rng.nextBoolean(), rng.nextBoolean() ? Activation.RELU : Activation.SILU,
                    rng.nextBoolean(), layers, norm);
            Map<String, Tensor> params = new LinkedHashMap<>();
            for (var e : Rpe.shapes(c, "rpe.").entrySet()) params.put(e.getKey(), Tensor.random(DType.FLOAT32, rng.nextLong(), e.getValue()));
            Rpe rpe = new Rpe("rpe", c, "rpe.", params);
            int m = switch (trial % 4) {
                case 0 -> 1 + rng.nextInt(4);
                case 1 -> 2047;
                default -> 5 + rng.nextInt(600);
            };
            double[] positions = new double[m];
            for (int i = 0; i < m; i++) positions[i] = i - (m - 1) / 2.0;
            int threads = 2 + rng.nextInt(4);
            List<Integer> ran = new ArrayList<>();
            String where = "seed " + seed + " trial " + trial + " " + c + " m=" + m + " threads=" + threads;
            float[] whole, split;
            try (Arena arena = Arena.ofShared()) {
                whole = rpe.forwardFloat32(vector, arena, positions).toFloatArray();
                split = rpe.forwardFloat32(reversedTasks(vector, threads, ran), arena, positions).toFloatArray();
            }
            int runs = Math.min(threads, m);
            assertEquals(runs > 1 ? runs : 0, ran.size(), where + ": host tasks asked for (none for one run)");
            assertArrayEquals(whole, split, where);
            double[] ref = rpe.forward(Backends.get("scalar"), DType.FLOAT64, positions, false).output();
            double[] got = new double[whole.length];
            for (int i = 0; i < got.length; i++) got[i] = whole[i];
            double err = TnnTestSupport.relL2(got, ref);
            assertTrue(err <= 1e-5, where + ": relative L2 " + err);
        }
    }

    /**
     * {@code be}'s ops with host tasks that claim {@code threads} threads and run every task on this thread, last
     * first, recording each task's index in {@code ran}.
     */
    private static Backend reversedTasks(Backend be, int threads, List<Integer> ran) {
        return (Backend) Proxy.newProxyInstance(RpeFloatTest.class.getClassLoader(), new Class<?>[] {Backend.class, HostTasks.class},
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
                        try {
                            yield method.invoke(be, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }
}
