package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The process's libcudart, found and loaded once. Kept apart from {@link CudaProbe} so that
 * {@link CudaException#check} can name errors without running the whole probe. The generated
 * {@link cudart_h} is touched only once the library has loaded.
 */
final class Cudart {
    private Cudart() {}

    private static final class Holder {
        static final String SEARCHED;
        static final CudaLibraries.Loaded LIB;

        static {
            StringBuilder searched = new StringBuilder();
            CudaLibraries.Loaded lib = null;
            try {
                lib = CudaLibraries.find(CudaLibraries.CUDART, CudaLibraries.places(System::getProperty, System::getenv), searched)
                        .orElse(null);
            } catch (Throwable t) {
                // a failed class initializer would poison every later use; record the failure instead
                searched.append(" (search failed: ").append(t).append(')');
            }
            SEARCHED = searched.toString();
            LIB = lib;
        }
    }

    /** The loaded runtime, or empty when none was found ({@link #searched} says where it looked). */
    static Optional<CudaLibraries.Loaded> library() {
        return Optional.ofNullable(Holder.LIB);
    }

    static boolean loaded() {
        return Holder.LIB != null;
    }

    static String searched() {
        return Holder.SEARCHED;
    }

    static String errorName(int code) {
        if (!loaded()) return "cudaError " + code;
        return text(cudart_h.cudaGetErrorName(code), "cudaError " + code);
    }

    static String errorString(int code) {
        if (!loaded()) return "(libcudart not loaded, no description)";
        return text(cudart_h.cudaGetErrorString(code), "(no description)");
    }

    /** Both functions return a pointer to a static NUL-terminated string, never freed. */
    private static String text(MemorySegment s, String fallback) {
        return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(1024).getString(0);
    }
}
