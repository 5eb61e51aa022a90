package dev.longconv.cuda;

/** A CUDA call that failed: the call, the error code, its name and the runtime's description. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;

    public CudaException(String call, int code, String name, String description) {
        super(call + " failed: " + name + " (" + code + "): " + description);
        this.call = call;
        this.code = code;
    }

    public String call() {
        return call;
    }

    public int code() {
        return code;
    }
}
