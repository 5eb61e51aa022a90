package dev.longconv.cuda;

import dev.longconv.cuda.gen.cublas.cublas_h;
import dev.longconv.cuda.gen.cudart.cudaDeviceProp;
import dev.longconv.cuda.gen.cudart.cudart_h;
import dev.longconv.cuda.gen.cufft.cufft_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What CUDA this process can use: the runtime, the driver, the devices, cuFFT, cuBLAS and longconv's own
 * kernels library. Computed once and never throws: on a machine without a driver or GPU every failure
 * becomes a reason string. Each generated binding class is touched only after its library has loaded.
 * {@link Cuda} is the short form of this.
 */
public final class CudaProbe {
    /** Classpath location of the kernels library that kernels-cuda packages. */
    public static final String KERNELS_RESOURCE = KernelLibrary.RESOURCE;

    /**
     * The outcome of the probe. {@code available} means a GPU and the kernels library (at this ABI) are
     * usable; otherwise {@code reason} says why not. Versions are CUDA's encoding (13000 = 13.0), 0 when
     * unknown; {@code kernelsLibrary} is the loaded file, the classpath resource when packaged but not
     * loadable, or null when not packaged; {@code cufft}/{@code cublas} are "version (location)" or why not.
     */
    public record CudaStatus(boolean available, String reason, int runtimeVersion, int driverVersion, int deviceCount,
                             List<DeviceInfo> devices, String cudartPath, String kernelsLibrary, int kernelsAbiVersion,
                             String cufft, String cublas) {}

    private CudaProbe() {}

    /** The probe's result, computed on first use. */
    public static CudaStatus status() {
        return Holder.STATUS;
    }

    private static final class Holder {
        static final CudaStatus STATUS = probeSafely();
    }

    private static CudaStatus probeSafely() {
        try {
            return probe();
        } catch (Throwable t) {
            return new CudaStatus(false, "CUDA probe failed: " + t, 0, 0, 0, List.of(), null, null, -1, "unknown", "unknown");
        }
    }

    /** The reason when the NVIDIA driver's library cannot be opened: without it no CUDA call can succeed. */
    public static final String NO_DRIVER = "no NVIDIA driver (" + DRIVER_SONAME() + " not found)";

    private static String DRIVER_SONAME() {
        return "libcuda.so.1";
    }

    /** Whether the dynamic loader finds the NVIDIA driver library (libcuda.so.1), which every CUDA runtime call needs. */
    static boolean driverFound() {
        try {
            SymbolLookup.libraryLookup(DRIVER_SONAME(), Arena.global());
            return true;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    private static CudaStatus probe() {
        Optional<CudaLibraries.Loaded> cudart = Cudart.library();
        String cufft = cufftVersion(), cublas = cublasVersion();
        if (cudart.isEmpty()) {
            // The kernels need libcudart.so.13 as a dependency, so without it there is nothing to load them against.
            return new CudaStatus(false, "libcudart not found (searched: " + Cudart.searched() + "); install the CUDA toolkit or set -D"
                    + CudaLibraries.LIBDIR_PROPERTY, 0, 0, 0, List.of(), null, KernelLibrary.packaged() ? "classpath:" + KernelLibrary.RESOURCE : null,
                    -1, cufft, cublas);
        }
        int runtimeVersion = intOrZero(Query.RUNTIME_VERSION), driverVersion = intOrZero(Query.DRIVER_VERSION);
        boolean driver = driverFound();
        KernelLibrary.Status kernels = KernelLibrary.status(); // after cudart: its DT_NEEDED libcudart then resolves to the one loaded

        String problem = null;
        int count = 0;
        List<DeviceInfo> devices = new ArrayList<>();
        try {
            count = intOut(Query.DEVICE_COUNT);
            if (count == 0) problem = "no CUDA device found";
            int current = count > 0 ? intOut(Query.DEVICE) : 0;
            for (int d = 0; d < count; d++) devices.add(device(d));
            // device(d) made d current on this thread; the thread that probed may be the caller's
            if (count > 0) CudaException.check("cudaSetDevice", cudart_h.cudaSetDevice(current));
        } catch (CudaException e) {
            problem = Cuda.describeFailure(e);
            if (devices.isEmpty()) count = 0;
        }
        if (!driver) {
            problem = NO_DRIVER; // the runtime answers "driver version is insufficient", which misleads; nothing else matters then
        } else if (kernels.problem() != null) {
            problem = problem == null ? kernels.problem() : problem + "; " + kernels.problem();
        }
        boolean ok = problem == null && count > 0 && kernels.loaded();
        String reason = ok ? count + " device(s), kernels ABI " + kernels.abiVersion() : problem;
        return new CudaStatus(ok, reason, runtimeVersion, driverVersion, count, List.copyOf(devices), cudart.get().location(),
                kernels.location(), kernels.abiVersion(), cufft, cublas);
    }

    private enum Query { RUNTIME_VERSION, DRIVER_VERSION, DEVICE_COUNT, DEVICE }

    /** One {@code cudaError_t fn(int*)} call; CudaException on error. */
    private static int intOut(Query q) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            switch (q) {
                case RUNTIME_VERSION -> CudaException.check("cudaRuntimeGetVersion", cudart_h.cudaRuntimeGetVersion(p));
                case DRIVER_VERSION -> CudaException.check("cudaDriverGetVersion", cudart_h.cudaDriverGetVersion(p));
                case DEVICE_COUNT -> CudaException.check("cudaGetDeviceCount", cudart_h.cudaGetDeviceCount(p));
                case DEVICE -> CudaException.check("cudaGetDevice", cudart_h.cudaGetDevice(p));
            }
            return p.get(JAVA_INT, 0);
        }
    }

    /** Versions are informational: a failure leaves 0 rather than hiding the device count's clearer error. */
    private static int intOrZero(Query q) {
        try {
            return intOut(q);
        } catch (CudaException e) {
            return 0;
        }
    }

    /** One device, from cudaGetDeviceProperties; a failed query keeps the device with placeholder fields. */
    static DeviceInfo device(int d) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prop = cudaDeviceProp.allocate(a);
            if (cudart_h.cudaGetDeviceProperties(prop, d) != 0) return new DeviceInfo(d, "device " + d, -1, -1, -1);
            String name = cudaDeviceProp.name(prop).getString(0);
            return new DeviceInfo(d, name.isEmpty() ? "device " + d : name, cudaDeviceProp.major(prop), cudaDeviceProp.minor(prop),
                    cudaDeviceProp.totalGlobalMem(prop));
        }
    }

    /** "version (location)" of cuFFT from cufftGetVersion, which answers without a GPU; otherwise why not. */
    private static String cufftVersion() {
        try {
            Optional<CudaLibraries.Loaded> lib = Cuda.CUFFT.library();
            if (lib.isEmpty()) return "not found (searched: " + Cuda.CUFFT.searched() + ")";
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT);
                int err = cufft_h.cufftGetVersion(v);
                if (err != 0) return "cufftGetVersion returned " + err + " (" + lib.get().location() + ")";
                int ver = v.get(JAVA_INT, 0);
                return ver / 1000 + "." + ver % 1000 / 100 + "." + ver % 100 + " (" + lib.get().location() + ")";
            }
        } catch (RuntimeException | LinkageError e) {
            return "failed to query: " + e;
        }
    }

    /** "major.minor.patch (location)" of cuBLAS from cublasGetProperty, which needs no handle or GPU; otherwise why not. */
    private static String cublasVersion() {
        try {
            Optional<CudaLibraries.Loaded> lib = Cuda.CUBLAS.library();
            if (lib.isEmpty()) return "not found (searched: " + Cuda.CUBLAS.searched() + ")";
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT);
                int[] parts = new int[3];
                int[] props = {cublas_h.MAJOR_VERSION(), cublas_h.MINOR_VERSION(), cublas_h.PATCH_LEVEL()};
                for (int i = 0; i < 3; i++) {
                    int err = cublas_h.cublasGetProperty(props[i], v);
                    if (err != 0) return "cublasGetProperty returned " + err + " (" + lib.get().location() + ")";
                    parts[i] = v.get(JAVA_INT, 0);
                }
                return parts[0] + "." + parts[1] + "." + parts[2] + " (" + lib.get().location() + ")";
            }
        } catch (RuntimeException | LinkageError e) {
            return "failed to query: " + e;
        }
    }
}
