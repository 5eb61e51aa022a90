package dev.longconv.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Finds CUDA shared libraries in a documented order: {@code -Dlongconv.cuda.libdir},
 * {@code LONGCONV_CUDA_LIBDIR}, {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64},
 * {@code /usr/local/cuda/lib64}, the system loader by soname, then the {@code nvidia/*}{@code /lib}
 * folders of Python site-packages (where PyTorch's CUDA wheels install them). Libraries load into the
 * global arena and stay loaded: the dynamic loader shares them process-wide anyway.
 *
 * <p>A library that loads is also registered with this class loader through {@link System#load}, because the
 * jextract-generated classes in {@code dev.longconv.cuda.gen} are generated without {@code --library} and find
 * their symbols through {@link SymbolLookup#loaderLookup()}: that is what lets their static initializers open
 * nothing, so they cannot fail on a machine without CUDA.
 */
public final class CudaLibraries {
    public static final String LIBDIR_PROPERTY = "longconv.cuda.libdir";
    public static final String LIBDIR_ENV = "LONGCONV_CUDA_LIBDIR";
    /** Sonames by preference: the newest major version first. */
    public static final List<String> CUDART = List.of("libcudart.so.13", "libcudart.so.12");
    public static final List<String> CUFFT = List.of("libcufft.so.12", "libcufft.so.11");
    public static final List<String> CUBLAS = List.of("libcublas.so.13", "libcublas.so.12");

    /** A loaded library and where it came from (a file, or a soname the system loader resolved). */
    public record Loaded(SymbolLookup lookup, String location) {}

    /** One place to look: a directory, or the system loader when {@code dir} is null. */
    record Place(String label, Path dir) {}

    /** Why a file that exists did not load (a missing dependency, a wrong architecture), for {@link #searched}. */
    private static final Map<Path, String> FAILED = new ConcurrentHashMap<>();

    private CudaLibraries() {}

    /**
     * Loads the first of {@code sonames} found in the documented order; empty when none loads, and then
     * {@link #searched} says where it looked. {@code baseName} ("cudart") only names the library.
     */
    public static Optional<Loaded> find(String baseName, List<String> sonames) {
        return find(sonames, places(System::getProperty, System::getenv), new StringBuilder());
    }

    /** Where {@link #find} looks for {@code sonames}, in order, with load failures: for error messages. */
    public static String searched(String baseName, List<String> sonames) {
        StringBuilder sb = new StringBuilder("lib").append(baseName).append(": ");
        describe(sonames, places(System::getProperty, System::getenv), sb);
        return sb.toString();
    }

    /** The places to look, from a property and an environment source so tests need not set globals. */
    static List<Place> places(UnaryOperator<String> property, UnaryOperator<String> env) {
        List<Place> out = new ArrayList<>();
        dir(out, "-D" + LIBDIR_PROPERTY, property.apply(LIBDIR_PROPERTY), "");
        dir(out, LIBDIR_ENV, env.apply(LIBDIR_ENV), "");
        dir(out, "$CUDA_HOME/lib64", env.apply("CUDA_HOME"), "lib64");
        dir(out, "$CUDA_PATH/lib64", env.apply("CUDA_PATH"), "lib64");
        out.add(new Place("/usr/local/cuda/lib64", Path.of("/usr/local/cuda/lib64")));
        out.add(new Place("system loader", null));
        for (Path p : pythonLibDirs(property.apply("user.home"), env)) out.add(new Place(p.toString(), p));
        return out;
    }

    private static void dir(List<Place> out, String label, String base, String sub) {
        if (base == null || base.isBlank()) return;
        Path p = Path.of(base).resolve(sub);
        out.add(new Place(label + "=" + p, p));
    }

    /** nvidia/&lt;pkg&gt;/lib folders of Python environments, found without running Python. */
    private static List<Path> pythonLibDirs(String home, UnaryOperator<String> env) {
        List<Path> libs = new ArrayList<>();
        for (String root : new String[] {home == null ? null : home + "/.local", "/usr/local", "/usr", env.apply("VIRTUAL_ENV"),
                env.apply("CONDA_PREFIX")}) {
            if (root == null || root.isBlank()) continue;
            for (Path py : list(Path.of(root, "lib"), "python3*")) {
                for (String pkgs : new String[] {"site-packages", "dist-packages"}) {
                    for (Path pkg : list(py.resolve(pkgs).resolve("nvidia"), "*")) {
                        if (Files.isDirectory(pkg.resolve("lib"))) libs.add(pkg.resolve("lib"));
                    }
                }
            }
        }
        return libs;
    }

    private static List<Path> list(Path dir, String glob) {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            ds.forEach(out::add);
        } catch (IOException | RuntimeException e) {
            // an unreadable folder is one place fewer to look, not a failure
        }
        out.sort(null); // directory order varies between file systems; the search order should not
        return out;
    }

    /** Loads the first of {@code sonames} from {@code places} in order; when none loads, appends where it looked. */
    static Optional<Loaded> find(List<String> sonames, List<Place> places, StringBuilder searched) {
        for (Place place : places) {
            for (String so : sonames) {
                Path file = place.dir() == null ? null : place.dir().resolve(so);
                if (file != null && !Files.exists(file)) continue;
                try {
                    Loaded loaded = file == null ? new Loaded(SymbolLookup.libraryLookup(so, Arena.global()), so + " (system loader)")
                            : new Loaded(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
                    registerWithLoader(file != null ? file : mappedFile(so));
                    return Optional.of(loaded);
                } catch (RuntimeException | UnsatisfiedLinkError e) {
                    // the loader not knowing a soname is the normal miss; a file that exists and fails is worth reporting
                    if (file != null) FAILED.put(file, String.valueOf(e.getMessage()));
                }
            }
        }
        describe(sonames, places, searched);
        return Optional.empty();
    }

    /**
     * Makes an already opened library visible to {@link SymbolLookup#loaderLookup()} of this class loader.
     * dlopen of the same file returns the handle it already has, so this loads nothing twice. Throws
     * UnsatisfiedLinkError when another class loader holds the library (the JDK allows one per library).
     */
    static void registerWithLoader(Path file) {
        if (file == null) throw new UnsatisfiedLinkError("opened by soname, but not found in /proc/self/maps");
        System.load(file.toAbsolutePath().toString());
    }

    /**
     * The file the dynamic loader mapped for {@code soname} (System.load needs a path, dlopen by soname gives
     * none): the first mapping whose file name starts with it, as libcudart.so.13 maps libcudart.so.13.0.96.
     */
    static Path mappedFile(String soname) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                Path p = Path.of(line.substring(slash).strip());
                if (p.getFileName().toString().startsWith(soname)) return p;
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux): the caller reports the library as not loadable for the bindings
        }
        return null;
    }

    private static void describe(List<String> sonames, List<Place> places, StringBuilder sb) {
        int start = sb.length();
        for (Place place : places) {
            if (sb.length() > start) sb.append(", ");
            if (place.dir() == null) {
                sb.append("system loader (").append(String.join(", ", sonames)).append(')');
                continue;
            }
            sb.append(place.label());
            for (String so : sonames) {
                String why = FAILED.get(place.dir().resolve(so));
                if (why != null) sb.append(" (").append(so).append(" failed to load: ").append(why).append(')');
            }
        }
        if (places.getLast().dir() == null) sb.append(", no nvidia/*/lib in Python site-packages");
    }
}
