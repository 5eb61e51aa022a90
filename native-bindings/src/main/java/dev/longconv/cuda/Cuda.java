package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The entry point of the safe CUDA layer: whether CUDA can be used here, why not, and a few device-wide
 * calls. Every other class in this package checks {@link #available()} (through {@link #require}) before it
 * touches a generated binding, so no generated class is initialised on a machine without CUDA.
 */
public final class Cuda {
    static final LazyLibrary CUFFT = new LazyLibrary("cuFFT", "cufft", CudaLibraries.CUFFT);
    static final LazyLibrary CUBLAS = new LazyLibrary("cuBLAS", "cublas", CudaLibraries.CUBLAS);

    private Cuda() {}

    /**
     * True when libcudart loaded, a driver and at least one device answer, and longconv's kernels library
     * loaded at the ABI these bindings expect. Never throws.
     */
    public static boolean available() {
        try {
            return CudaProbe.status().available();
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Why {@link #available()} is false, on one line: no libcudart (with the places searched), no driver, no
     * device, or the kernels library missing or at another ABI. Empty when CUDA is available. Never throws.
     */
    public static String unavailableReason() {
        try {
            CudaProbe.CudaStatus s = CudaProbe.status();
            return s.available() ? "" : s.reason().replaceAll("\\s*\\R\\s*", " ");
        } catch (Throwable t) {
            return "CUDA probe failed: " + t;
        }
    }

    /** IllegalStateException naming {@code user} and the reason when CUDA is not available. */
    public static void require(String user) {
        if (!available()) throw new IllegalStateException(user + ": CUDA is not available: " + unavailableReason());
    }

    /** The devices the probe found (empty without CUDA). */
    public static List<DeviceInfo> devices() {
        return CudaProbe.status().devices();
    }

    /** This thread's current device ordinal. */
    public static int currentDevice() {
        require("Cuda.currentDevice");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT);
            CudaException.check("cudaGetDevice", cudart_h.cudaGetDevice(d));
            return d.get(JAVA_INT, 0);
        }
    }

    /** Makes {@code device} current on this thread (CUDA's current device is per thread). */
    public static void setDevice(int device) {
        require("Cuda.setDevice");
        int count = devices().size();
        if (device < 0 || device >= count) {
            throw new IllegalArgumentException("Cuda.setDevice: device must be in [0, " + count + "), got " + device);
        }
        CudaException.check("cudaSetDevice", cudart_h.cudaSetDevice(device));
    }

    /** Waits for all work on the current device. */
    public static void synchronize() {
        require("Cuda.synchronize");
        CudaException.check("cudaDeviceSynchronize", cudart_h.cudaDeviceSynchronize());
    }

    /** Returns and clears this thread's last runtime error as a CudaException, or null when there was none. */
    public static CudaException takeLastError() {
        require("Cuda.takeLastError");
        int code = cudart_h.cudaGetLastError();
        return code == 0 ? null : new CudaException("cudaGetLastError", code, Cudart.errorName(code), Cudart.errorString(code));
    }

    /** The probe's wording for a runtime call that failed while looking for devices. */
    static String describeFailure(CudaException e) {
        int c = e.code();
        if (c == cudart_h.cudaErrorInsufficientDriver() || c == cudart_h.cudaErrorStubLibrary()) return "no CUDA driver: " + e.getMessage();
        if (c == cudart_h.cudaErrorNoDevice()) return "no CUDA device: " + e.getMessage();
        return "CUDA not usable: " + e.getMessage();
    }
}
