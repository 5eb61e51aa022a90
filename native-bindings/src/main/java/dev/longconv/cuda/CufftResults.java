package dev.longconv.cuda;

import dev.longconv.cuda.gen.cufft.cufft_h;

import java.util.Map;

/**
 * Names of {@code cufftResult} codes. cuFFT has no function that names its codes, so the table pairs each
 * enumerator's name with the value the generated binding carries for it.
 */
final class CufftResults {
    private CufftResults() {}

    private static final class Holder {
        // built on first failure, which only a cuFFT call (so a loaded cuFFT) can produce
        static final Map<Integer, String> NAMES = Map.ofEntries(
                Map.entry(cufft_h.CUFFT_INVALID_PLAN(), "CUFFT_INVALID_PLAN"),
                Map.entry(cufft_h.CUFFT_ALLOC_FAILED(), "CUFFT_ALLOC_FAILED"),
                Map.entry(cufft_h.CUFFT_INVALID_TYPE(), "CUFFT_INVALID_TYPE"),
                Map.entry(cufft_h.CUFFT_INVALID_VALUE(), "CUFFT_INVALID_VALUE"),
                Map.entry(cufft_h.CUFFT_INTERNAL_ERROR(), "CUFFT_INTERNAL_ERROR"),
                Map.entry(cufft_h.CUFFT_EXEC_FAILED(), "CUFFT_EXEC_FAILED"),
                Map.entry(cufft_h.CUFFT_SETUP_FAILED(), "CUFFT_SETUP_FAILED"),
                Map.entry(cufft_h.CUFFT_INVALID_SIZE(), "CUFFT_INVALID_SIZE"),
                Map.entry(cufft_h.CUFFT_UNALIGNED_DATA(), "CUFFT_UNALIGNED_DATA"),
                Map.entry(cufft_h.CUFFT_INVALID_DEVICE(), "CUFFT_INVALID_DEVICE"),
                Map.entry(cufft_h.CUFFT_NO_WORKSPACE(), "CUFFT_NO_WORKSPACE"),
                Map.entry(cufft_h.CUFFT_NOT_IMPLEMENTED(), "CUFFT_NOT_IMPLEMENTED"),
                Map.entry(cufft_h.CUFFT_NOT_SUPPORTED(), "CUFFT_NOT_SUPPORTED"),
                Map.entry(cufft_h.CUFFT_MISSING_DEPENDENCY(), "CUFFT_MISSING_DEPENDENCY"),
                Map.entry(cufft_h.CUFFT_NVRTC_FAILURE(), "CUFFT_NVRTC_FAILURE"),
                Map.entry(cufft_h.CUFFT_NVJITLINK_FAILURE(), "CUFFT_NVJITLINK_FAILURE"),
                Map.entry(cufft_h.CUFFT_NVSHMEM_FAILURE(), "CUFFT_NVSHMEM_FAILURE"));
    }

    static String name(int code) {
        if (Cuda.CUFFT.library().isEmpty()) return "cufftResult " + code;
        return Holder.NAMES.getOrDefault(code, "cufftResult " + code);
    }

    static String description(int code) {
        return "cuFFT returned " + name(code) + " (see cufftResult in cufft.h)";
    }
}
