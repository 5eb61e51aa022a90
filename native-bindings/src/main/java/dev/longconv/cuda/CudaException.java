package dev.longconv.cuda;

/**
 * A CUDA runtime, cuFFT or cuBLAS call that failed: the call, the status code, and its name and description
 * ({@code cudaGetErrorName}/{@code cudaGetErrorString}, {@code cublasGetStatusName}/{@code cublasGetStatusString},
 * or the {@code cufftResult} enumerator), with placeholders when the library is not loaded, so the exception can
 * always be built.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;
    private final String errorName;
    private final String errorString;

    public CudaException(String call, int code, String errorName, String errorString) {
        super(call + " returned " + errorName + " (" + code + "): " + errorString);
        this.call = call;
        this.code = code;
        this.errorName = errorName;
        this.errorString = errorString;
    }

    /** Throws a CudaException named by the loaded runtime when {@code code} is not cudaSuccess (0). */
    public static void check(String call, int code) {
        if (code != 0) throw new CudaException(call, code, Cudart.errorName(code), Cudart.errorString(code));
    }

    /** Throws a CudaException named after the {@code cufftResult} enumerator when {@code code} is not CUFFT_SUCCESS (0). */
    public static void checkCufft(String call, int code) {
        if (code != 0) throw new CudaException(call, code, CufftResults.name(code), CufftResults.description(code));
    }

    /** Throws a CudaException named by cuBLAS itself when {@code code} is not CUBLAS_STATUS_SUCCESS (0). */
    public static void checkCublas(String call, int code) {
        if (code != 0) throw new CudaException(call, code, CublasStatuses.name(code), CublasStatuses.description(code));
    }

    /** The call that failed, e.g. {@code cudaMalloc(1024 bytes)}. */
    public String call() {
        return call;
    }

    /** The status code the call returned. */
    public int code() {
        return code;
    }

    /** The enumerator's name, e.g. {@code cudaErrorInsufficientDriver}. */
    public String errorName() {
        return errorName;
    }

    /** The runtime's sentence for the error, from {@code cudaGetErrorString}. */
    public String errorString() {
        return errorString;
    }
}
