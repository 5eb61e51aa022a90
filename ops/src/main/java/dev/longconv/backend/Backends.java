package dev.longconv.backend;

import dev.longconv.cuda.CudaProbe;
import dev.longconv.simd.Simd;

import java.util.List;
import java.util.Locale;

/**
 * Chooses the backend: the fastest available one, or the one named by {@code -Dlongconv.backend}.
 * The choice is made once per JVM and logged once through {@link System.Logger}, with the reason
 * each faster backend was skipped and what would enable it (after Lucene's vectorization provider).
 */
public final class Backends {
    /** System property that forces a backend: scalar, vector or cuda. */
    public static final String PROPERTY = "longconv.backend";

    /** Availability of one backend; {@code reason} says why not and how to enable it. */
    public record Status(String name, boolean available, String reason) {}

    private static final System.Logger LOG = System.getLogger("dev.longconv");

    private Backends() {}

    /** Every backend, fastest first, with its availability on this machine. */
    public static List<Status> statuses() {
        var cuda = CudaProbe.status();
        String cudaReason = cuda.available() ? cudaSummary(cuda) : cuda.reason();
        Simd.Status simd = Simd.status();
        return List.of(
                new Status("cuda", cuda.available(), cudaReason),
                new Status("vector", simd.available(), simd.reason()),
                new Status("scalar", true, "plain Java, float64 arithmetic, the portable fallback"));
    }

    /** The backend named {@code name}; IllegalArgumentException with the reason when it cannot run here. */
    public static Backend get(String name) {
        String n = name.toLowerCase(Locale.ROOT).strip();
        for (Status s : statuses()) {
            if (!s.name().equals(n)) continue;
            if (!s.available()) throw new IllegalArgumentException("backend '" + n + "' is not available: " + s.reason());
            return create(n);
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; expected one of scalar, vector, cuda");
    }

    /** The backends that can run here, fastest first. */
    public static List<Backend> available() {
        return statuses().stream().filter(Status::available).map(s -> create(s.name())).toList();
    }

    /**
     * The process-wide default: forced by the property, else the fastest available. Chosen and logged
     * once; when the forced backend cannot run, every call throws the same one-line error.
     */
    public static Backend selected() {
        Object c = choice;
        if (c == null) {
            synchronized (Backends.class) {
                if (choice == null) {
                    try {
                        choice = choose();
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        choice = e;
                    }
                }
                c = choice;
            }
        }
        if (c instanceof Backend b) return b;
        RuntimeException e = (RuntimeException) c;
        throw e instanceof IllegalStateException ? new IllegalStateException(e.getMessage()) : new IllegalArgumentException(e.getMessage());
    }

    /** The chosen backend, or the exception that explains why none could be chosen. */
    private static volatile Object choice;

    private static Backend create(String name) {
        return switch (name) {
            case "scalar" -> new ScalarBackend();
            case "vector" -> new VectorBackend();
            case "cuda" -> dev.longconv.backend.cuda.CudaBackend.on(0);
            default -> throw new IllegalStateException("no implementation for backend " + name);
        };
    }

    /** "NVIDIA H100 80GB HBM3 (cc 9.0, 79.2 GiB), CUDA runtime 13.0" for the log line and info. */
    private static String cudaSummary(CudaProbe.CudaStatus s) {
        var d = s.devices().isEmpty() ? null : s.devices().get(0);
        String dev = d == null ? "device 0" : d.name() + " (cc " + d.computeCapability() + ", "
                + String.format(Locale.ROOT, "%.1f GiB", d.totalMemoryBytes() / (double) (1L << 30)) + ")";
        return dev + ", CUDA runtime " + s.runtimeVersion() / 1000 + "." + s.runtimeVersion() % 1000 / 10
                + (s.deviceCount() > 1 ? "; device 0 of " + s.deviceCount() : "");
    }

    private static Backend choose() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            Backend b = get(forced);
            LOG.log(System.Logger.Level.INFO, "longconv backend: " + b.name() + " (forced by -D" + PROPERTY + "=" + forced + ")");
            return b;
        }
        StringBuilder msg = new StringBuilder();
        for (Status s : statuses()) {
            if (s.available()) {
                LOG.log(System.Logger.Level.INFO, "longconv backend: " + s.name() + msg);
                return create(s.name());
            }
            msg.append("; skipped ").append(s.name()).append(": ").append(s.reason());
        }
        throw new IllegalStateException("no backend available" + msg);
    }
}
