package dev.longconv.cuda;

import dev.longconv.cuda.gen.cublas.cublas_h;

import java.lang.foreign.MemorySegment;

/** Names of {@code cublasStatus_t} codes, as cuBLAS itself gives them. */
final class CublasStatuses {
    private CublasStatuses() {}

    static String name(int code) {
        if (Cuda.CUBLAS.library().isEmpty()) return "cublasStatus " + code;
        return text(cublas_h.cublasGetStatusName(code), "cublasStatus " + code);
    }

    static String description(int code) {
        if (Cuda.CUBLAS.library().isEmpty()) return "(libcublas not loaded, no description)";
        return text(cublas_h.cublasGetStatusString(code), "(no description)");
    }

    /** Both functions return pointers to static NUL-terminated strings. */
    private static String text(MemorySegment s, String fallback) {
        return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(1024).getString(0);
    }
}
