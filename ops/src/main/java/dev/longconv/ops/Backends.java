package dev.longconv.ops;

import dev.longconv.LongConvException;
import dev.longconv.simd.Simd;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses the backend: the fastest available one, or the one named by {@code -Dlongconv.backend}.
 * Backends are found as {@link BackendProvider}s on the class or module path (scalar and vector come with
 * this module, cuda with longconv-cuda). The choice is made once per JVM and logged once through
 * {@link System.Logger} (logger {@code dev.longconv}): the choice at INFO, the reason each faster backend was
 * skipped at DEBUG (a machine without a GPU is normal, not news on every start; {@code longconv info} lists the
 * reasons). After Lucene's vectorization provider, the vector backend is not offered where C2 will not compile it
 * ({@link Simd#status()} logs that once as a warning), and a JDK newer than the one longconv was tested on is
 * named in a warning once. Every {@code -Dlongconv.*} property is checked at selection: a value that cannot be
 * honoured is a one-line {@link LongConvException} naming the property, the value and what is allowed; an unknown
 * name is a warning.
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

    /** The JDK feature version longconv is built and tested on; newer ones get a warning (the Vector API incubates). */
    public static final int TESTED_JDK = 25;

    /** Every {@code longconv.*} system property longconv reads (relaunched is the CLI's own marker). */
    public static final Set<String> PROPERTIES = Set.of(PROPERTY, Simd.BITS_PROPERTY, "longconv.threads", "longconv.workerSpinMicros", "longconv.cuda.fused",
            "longconv.cuda.libdir", "longconv.relaunched", "longconv.test.seed");

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
        checkProperties();
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
        checkProperties();
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
        checkProperties();
        String jdk = untestedJdkWarning(Runtime.version().feature());
        if (jdk != null) LOG.log(System.Logger.Level.WARNING, jdk);
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
                LOG.log(System.Logger.Level.INFO, "longconv backend: " + s.name() + " (" + s.reason() + ")");
                if (!msg.isEmpty()) LOG.log(System.Logger.Level.DEBUG, "longconv backend: " + s.name() + msg);
                return provider(s.name()).create();
            }
            msg.append("; skipped ").append(s.name()).append(": ").append(s.reason());
        }
        throw new LongConvException("backend", "selection", "an available backend", "none" + msg);
    }

    /**
     * Checks the {@code longconv.*} properties whose values selection depends on: {@code vectorBits} (128, 256 or
     * 512, at most the CPU's width) and {@code cuda.libdir} (an existing directory); {@code backend} is checked when it
     * is used, {@code threads} and {@code cuda.fused} by the code that reads them. Unknown names are logged once.
     */
    static void checkProperties() {
        String bits = Simd.propertyProblem();
        if (bits != null) {
            throw new LongConvException("configuration", "-D" + Simd.BITS_PROPERTY, bits + " (allowed: 128, 256 or 512, at most the CPU's width)");
        }
        String libdir = System.getProperty("longconv.cuda.libdir");
        if (libdir != null && !isDirectory(libdir)) {
            throw new LongConvException("configuration", "-Dlongconv.cuda.libdir", "an existing directory holding the CUDA libraries",
                    "'" + libdir + "'");
        }
        Set<String> unknown = unknownProperties(System.getProperties().stringPropertyNames());
        if (!unknown.isEmpty() && UNKNOWN_LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "longconv: unknown propert" + (unknown.size() == 1 ? "y " : "ies ") + String.join(", ", unknown)
                    + " ignored (known: " + String.join(", ", new TreeSet<>(PROPERTIES)) + ")");
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean UNKNOWN_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

    private static boolean isDirectory(String dir) {
        try {
            return !dir.isBlank() && Files.isDirectory(Path.of(dir));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** The names among {@code names} that start with {@code longconv.} but are not properties longconv reads. */
    static Set<String> unknownProperties(Set<String> names) {
        Set<String> out = new TreeSet<>();
        for (String n : names) if (n.startsWith("longconv.") && !PROPERTIES.contains(n)) out.add(n);
        return out;
    }

    /** The warning for a JDK feature version above {@link #TESTED_JDK}, or null. */
    static String untestedJdkWarning(int feature) {
        if (feature <= TESTED_JDK) return null;
        return "longconv: JDK " + feature + " is newer than the JDK " + TESTED_JDK + " longconv was tested on; the Vector API is an "
                + "incubator module and may behave differently (the scalar backend is the fallback: -D" + PROPERTY + "=scalar)";
    }
}
