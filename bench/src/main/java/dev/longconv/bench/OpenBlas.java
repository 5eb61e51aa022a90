package dev.longconv.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Benchmark anchor: OpenBLAS's cblas_sgemm through FFM, found at run time (libopenblas.so.0, as Debian's
 * libopenblas0 installs it). Not part of the library; benchmarks that use it skip with {@link #missing()}
 * when it is absent. The thread count is OpenBLAS's own ({@link #setThreads}), independent of longconv's pool.
 */
final class OpenBlas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final String[] NAMES = {"libopenblas.so.0", "libopenblas.so"};

    private final MethodHandle sgemm, setThreads, config, coreName;

    private OpenBlas(SymbolLookup lib) {
        sgemm = LINKER.downcallHandle(lib.findOrThrow("cblas_sgemm"), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, // order, transA, transB
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, // m, n, k
                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, // alpha, A, lda
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, // B, ldb
                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)); // beta, C, ldc
        setThreads = LINKER.downcallHandle(lib.findOrThrow("openblas_set_num_threads"), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        config = LINKER.downcallHandle(lib.findOrThrow("openblas_get_config"), FunctionDescriptor.of(ValueLayout.ADDRESS));
        coreName = LINKER.downcallHandle(lib.findOrThrow("openblas_get_corename"), FunctionDescriptor.of(ValueLayout.ADDRESS));
    }

    /** OpenBLAS, or null when no libopenblas can be loaded (the reason is then {@link #missing()}). */
    static OpenBlas load() {
        for (String name : NAMES) {
            try {
                return new OpenBlas(SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException e) {
                // not on the loader path under this name: try the next
            }
        }
        return null;
    }

    static String missing() {
        return "libopenblas.so.0 not found: OpenBLAS anchor skipped (apt-get install libopenblas-dev)";
    }

    /** openblas_set_num_threads: the threads every later call may use. */
    void setThreads(int threads) throws Throwable {
        setThreads.invokeExact(threads);
    }

    /** The build and the kernel OpenBLAS picked for this CPU, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (core Zen)". */
    String describe() throws Throwable {
        MemorySegment cfg = (MemorySegment) config.invokeExact(), core = (MemorySegment) coreName.invokeExact();
        return cfg.reinterpret(256).getString(0) + " (core " + core.reinterpret(64).getString(0) + ")";
    }

    /**
     * C [m, n] = op(A) op(B), row-major, every matrix contiguous: A is [m, k] ([k, m] when transA), B is [k, n]
     * ([n, k] when transB), C is [m, n]; the segments must be native memory.
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) throws Throwable {
        int lda = transA ? m : k, ldb = transB ? k : n;
        sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
    }
}
