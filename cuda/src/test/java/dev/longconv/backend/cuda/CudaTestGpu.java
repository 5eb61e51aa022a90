package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.ops.Backends;
import org.junit.jupiter.api.BeforeAll;

import java.util.Map;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the cuda backend's GPU test classes share: whether a GPU can run them (else the reason each test is skipped
 * with), the shared backend with NaN-poisoned outputs (so an element a kernel misses fails), and the worst-error
 * report printed after a class.
 */
abstract class CudaTestGpu {
    static CudaBackend cuda;
    static Device gpu;
    /** Null when the cuda backend is usable here, else the one-line reason its GPU tests are skipped. */
    static String unavailable;

    @BeforeAll
    static void openGpu() {
        var status = Backends.statuses().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        unavailable = status.available() ? null : "no usable GPU for the cuda backend: " + status.reason();
        if (unavailable != null) return;
        cuda = CudaBackend.on(0);
        cuda.setPoisonOutputs(true);
        gpu = cuda.device();
    }

    /** Skips the calling test, with the reason, where no GPU can run it. */
    static void needsGpu() {
        assumeTrue(unavailable == null, unavailable);
    }

    /** Prints the worst relative L2 error per op, sorted by name, under {@code title}. */
    static void report(String title, long seed, Map<String, Double> worst) {
        if (worst.isEmpty()) return;
        System.out.println(title + ": worst relative L2 error per op (seed " + seed + "):");
        worst.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> System.out.printf("  %-28s %.3e%n", e.getKey(), e.getValue()));
    }
}
