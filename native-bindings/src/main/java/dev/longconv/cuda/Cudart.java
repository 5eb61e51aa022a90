package dev.longconv.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The process's libcudart, found and loaded once. Kept apart from {@link CudaProbe} so that
 * {@link CudaException#check} can name errors without running the whole probe.
 */
final class Cudart {
    private Cudart() {}

    private static final class Holder {
        static final String SEARCHED;
        static final CudaLibraries.Loaded LIB;
        static final MethodHandle ERROR_NAME, ERROR_STRING;

        static {
            StringBuilder searched = new StringBuilder();
            CudaLibraries.Loaded lib = null;
            MethodHandle name = null, string = null;
            try {
                lib = CudaLibraries.find(CudaLibraries.CUDART, CudaLibraries.places(System::getProperty, System::getenv), searched)
                        .orElse(null);
                if (lib != null) {
                    FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
                    name = Linker.nativeLinker().downcallHandle(lib.lookup().findOrThrow("cudaGetErrorName"), fd);
                    string = Linker.nativeLinker().downcallHandle(lib.lookup().findOrThrow("cudaGetErrorString"), fd);
                }
            } catch (Throwable t) {
                // a failed class initializer would poison every later use; record the failure instead
                searched.append(" (search failed: ").append(t).append(')');
            }
            SEARCHED = searched.toString();
            LIB = lib;
            ERROR_NAME = name;
            ERROR_STRING = string;
        }
    }

    /** The loaded runtime, or empty when none was found ({@link #searched} says where it looked). */
    static Optional<CudaLibraries.Loaded> library() {
        return Optional.ofNullable(Holder.LIB);
    }

    static String searched() {
        return Holder.SEARCHED;
    }

    static String errorName(int code) {
        return text(Holder.ERROR_NAME, code, "cudaError " + code);
    }

    static String errorString(int code) {
        return text(Holder.ERROR_STRING, code, "(libcudart not loaded, no description)");
    }

    /** Both functions return a pointer to a static NUL-terminated string, never freed. */
    private static String text(MethodHandle h, int code, String fallback) {
        if (h == null) return fallback;
        try {
            MemorySegment s = (MemorySegment) h.invokeExact(code);
            return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }
}
