package dev.longconv.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds CUDA shared libraries in a documented order: {@code -Dlongconv.cuda.libdir},
 * {@code LONGCONV_CUDA_LIBDIR}, {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64},
 * {@code /usr/local/cuda/lib64}, the system loader by soname, then the {@code nvidia/*}{@code /lib}
 * folders of Python site-packages (where PyTorch's CUDA wheels install them).
 */
public final class CudaLibraries {
    public static final String LIBDIR_PROPERTY = "longconv.cuda.libdir";
    public static final String LIBDIR_ENV = "LONGCONV_CUDA_LIBDIR";

    /** A loaded library and where it came from. */
    public record Loaded(SymbolLookup lookup, String location) {}

    private CudaLibraries() {}

    /** The directories searched before the system loader, in order (those that are set). */
    public static List<Path> directories() {
        List<Path> dirs = new ArrayList<>();
        addIfSet(dirs, System.getProperty(LIBDIR_PROPERTY), "");
        addIfSet(dirs, System.getenv(LIBDIR_ENV), "");
        addIfSet(dirs, System.getenv("CUDA_HOME"), "lib64");
        addIfSet(dirs, System.getenv("CUDA_PATH"), "lib64");
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        return dirs;
    }

    private static void addIfSet(List<Path> dirs, String base, String sub) {
        if (base != null && !base.isBlank()) dirs.add(Path.of(base).resolve(sub));
    }

    /** nvidia/&lt;pkg&gt;/lib folders of Python environments, searched after the system loader. */
    static List<Path> pythonDirectories() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("user.home");
        for (String base : new String[] {home + "/.local/lib", "/usr/local/lib", "/usr/lib", System.getenv("VIRTUAL_ENV") + "/lib",
                System.getenv("CONDA_PREFIX") + "/lib"}) {
            Path b = Path.of(base);
            if (!Files.isDirectory(b)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(b, "python3*")) {
                for (Path py : ds) {
                    roots.add(py.resolve("site-packages/nvidia"));
                    roots.add(py.resolve("dist-packages/nvidia"));
                }
            } catch (IOException | RuntimeException ignored) {
                // an unreadable folder is one place fewer to look
            }
        }
        List<Path> out = new ArrayList<>();
        for (Path r : roots) {
            if (!Files.isDirectory(r)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(r)) {
                for (Path pkg : ds) if (Files.isDirectory(pkg.resolve("lib"))) out.add(pkg.resolve("lib"));
            } catch (IOException | RuntimeException ignored) {
                // as above
            }
        }
        return out;
    }

    /**
     * Loads the first of {@code sonames} found, searching {@code dirs}, then the system loader, then
     * {@code later}. Libraries load into the global arena: a process loads CUDA once and keeps it.
     */
    static Optional<Loaded> load(List<String> sonames, List<Path> dirs, List<Path> later, StringBuilder searched) {
        Optional<Loaded> found = fromDirectories(sonames, dirs, searched);
        if (found.isPresent()) return found;
        for (String so : sonames) {
            try {
                return Optional.of(new Loaded(SymbolLookup.libraryLookup(so, Arena.global()), so + " (system loader)"));
            } catch (IllegalArgumentException e) {
                // not on the loader path; keep looking
            }
        }
        searched.append("system loader (").append(String.join(", ", sonames)).append("), ");
        found = fromDirectories(sonames, later, new StringBuilder());
        searched.append("python site-packages nvidia/*/lib");
        return found;
    }

    private static Optional<Loaded> fromDirectories(List<String> sonames, List<Path> dirs, StringBuilder searched) {
        for (Path d : dirs) {
            for (String so : sonames) {
                Path p = d.resolve(so);
                if (!Files.isRegularFile(p)) continue;
                try {
                    return Optional.of(new Loaded(SymbolLookup.libraryLookup(p, Arena.global()), p.toString()));
                } catch (IllegalArgumentException e) {
                    searched.append(p).append(" (failed to load: ").append(e.getMessage()).append("), ");
                }
            }
            searched.append(d).append(", ");
        }
        return Optional.empty();
    }

    /** Loads one CUDA library by its sonames in the documented order. */
    public static Optional<Loaded> load(List<String> sonames, StringBuilder searched) {
        return load(sonames, directories(), pythonDirectories(), searched);
    }
}
