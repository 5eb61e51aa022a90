package dev.longconv.backend.cuda;

import dev.longconv.backend.Backends;

import java.util.Map;

/**
 * What the cuda backend's GPU test classes share: whether a GPU can run them (else the reason each test is skipped
 * with), the shared backend with NaN-poisoned outputs, and the worst-error report printed after the class.
 */
final class CudaTestGpu {
    private CudaTestGpu() {}

    /** Null when the cuda backend is usable here, else the one-line reason its GPU tests are skipped. */
    static String unavailable() {
        var status = Backends.statuses().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        return status.available() ? null : "no usable GPU for the cuda backend: " + status.reason();
    }

    /** The shared backend on device 0, every new result poisoned with NaN (so an element a kernel misses fails). */
    static CudaBackend poisonedBackend() {
        CudaBackend cuda = CudaBackend.on(0);
        cuda.setPoisonOutputs(true);
        return cuda;
    }

    /** Prints the worst relative L2 error per op, sorted by name, under {@code title}. */
    static void report(String title, long seed, Map<String, Double> worst) {
        if (worst.isEmpty()) return;
        System.out.println(title + ": worst relative L2 error per op (seed " + seed + "):");
        worst.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> System.out.printf("  %-28s %.3e%n", e.getKey(), e.getValue()));
    }
}
