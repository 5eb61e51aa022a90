package dev.longconv.ops;

import dev.longconv.LongConvException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Chooses the backend: the fastest available one, or the one named by {@code -Dlongconv.backend}.
 * Backends are found as {@link BackendProvider}s on the class or module path (scalar and vector come with
 * this module, cuda with longconv-cuda). The choice is made once per JVM and logged once through
 * {@link System.Logger}, with the reason each faster backend was skipped and what would enable it (after
 * Lucene's vectorization provider).
 */
public final class Backends {
    /** System property that forces a backend: scalar, vector or cuda. */
    public static final String PROPERTY = "longconv.backend";

    /** Availability of one backend; {@code reason} says why not and how to enable it. */
    public record Status(String name, boolean available, String reason) {}

    /**
     * Backends that live in optional modules, by name: when a module is absent its backend is still listed
     * (unavailable, saying which artifact to add) so that `info` and errors tell users what they could have.
     */
    private static final Map<String, String> OPTIONAL_MODULES = Map.of("cuda", "dev.longconv:longconv-cuda");

    private static final System.Logger LOG = System.getLogger("dev.longconv");

    /** The providers on the path, fastest first; found once. */
    private static final List<BackendProvider> PROVIDERS = ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())
            .stream().map(ServiceLoader.Provider::get)
            .sorted(Comparator.comparingInt(BackendProvider::preference).reversed()).toList();

    private Backends() {}

    /** Every backend, fastest first, with its availability on this machine. */
    public static List<Status> statuses() {
        List<Status> out = new ArrayList<>();
        for (var m : OPTIONAL_MODULES.entrySet()) {
            if (provider(m.getKey()) == null) {
                out.add(new Status(m.getKey(), false, "the " + m.getValue() + " module is not on the class or module path"));
            }
        }
        for (BackendProvider p : PROVIDERS) {
            BackendProvider.Availability a = p.status();
            out.add(new Status(p.name(), a.available(), a.reason()));
        }
        return out;
    }

    /** The backend named {@code name}; LongConvException with the reason when it is unknown or cannot run here. */
    public static Backend get(String name) {
        String n = name.toLowerCase(Locale.ROOT).strip();
        for (Status s : statuses()) {
            if (!s.name().equals(n)) continue;
            if (!s.available()) throw new LongConvException("backend", "name", "backend '" + n + "' is not available: " + s.reason());
            return provider(n).create();
        }
        List<String> names = new ArrayList<>(statuses().stream().map(Status::name).toList());
        Collections.reverse(names); // the portable one first
        throw new LongConvException("backend", "name", "unknown backend '" + name + "'; expected one of " + String.join(", ", names));
    }

    /** The backends that can run here, fastest first. */
    public static List<Backend> available() {
        return PROVIDERS.stream().filter(p -> p.status().available()).map(BackendProvider::create).toList();
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
                    } catch (LongConvException e) {
                        choice = e;
                    }
                }
                c = choice;
            }
        }
        if (c instanceof Backend b) return b;
        LongConvException e = (LongConvException) c;
        throw new LongConvException(e.op(), e.argument(), e.problem());
    }

    /** The chosen backend, or the exception that explains why none could be chosen. */
    private static volatile Object choice;

    private static BackendProvider provider(String name) {
        for (BackendProvider p : PROVIDERS) if (p.name().equals(name)) return p;
        return null;
    }

    private static Backend choose() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            Backend b;
            try {
                b = get(forced);
            } catch (LongConvException e) {
                throw new LongConvException("backend", "-D" + PROPERTY, e.problem());
            }
            LOG.log(System.Logger.Level.INFO, "longconv backend: " + b.name() + " (forced by -D" + PROPERTY + "=" + forced + ")");
            return b;
        }
        StringBuilder msg = new StringBuilder();
        for (Status s : statuses()) {
            if (s.available()) {
                LOG.log(System.Logger.Level.INFO, "longconv backend: " + s.name() + msg);
                return provider(s.name()).create();
            }
            msg.append("; skipped ").append(s.name()).append(": ").append(s.reason());
        }
        throw new LongConvException("backend", "selection", "an available backend", "none" + msg);
    }
}
