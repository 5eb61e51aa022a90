package dev.longconv.cuda;

import java.util.List;
import java.util.Optional;

/**
 * A CUDA math library (cuFFT, cuBLAS) looked up on first use and remembered, found or not: the search walks
 * directories and should not run again per plan or handle.
 */
final class LazyLibrary {
    private final String name;
    private final String baseName;
    private final List<String> sonames;
    private volatile Found found;

    private record Found(CudaLibraries.Loaded lib, String searched) {}

    LazyLibrary(String name, String baseName, List<String> sonames) {
        this.name = name;
        this.baseName = baseName;
        this.sonames = sonames;
    }

    private Found found() {
        Found f = found;
        if (f == null) {
            synchronized (this) {
                f = found;
                if (f == null) {
                    StringBuilder searched = new StringBuilder();
                    CudaLibraries.Loaded lib = CudaLibraries.find(sonames, CudaLibraries.places(System::getProperty, System::getenv), searched)
                            .orElse(null);
                    found = f = new Found(lib, searched.toString());
                }
            }
        }
        return f;
    }

    Optional<CudaLibraries.Loaded> library() {
        return Optional.ofNullable(found().lib());
    }

    /** "lib&lt;base&gt;: places..." when not found; empty when found. */
    String searched() {
        return found().lib() == null ? "lib" + baseName + ": " + found().searched() : "";
    }

    /**
     * Throws IllegalStateException naming {@code user} when CUDA or this library is unusable, so the generated
     * class for it is only ever reached after both have loaded.
     */
    void require(String user) {
        Cuda.require(user);
        if (found().lib() == null) {
            throw new IllegalStateException(user + ": " + name + " not found (searched: " + searched() + ")");
        }
    }
}
