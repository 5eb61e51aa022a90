package dev.longconv.cuda;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What CUDA this process can use: the runtime, the driver, the devices, cuFFT, cuBLAS and longconv's own
 * kernels library. Computed once and never throws: on a machine without a driver or GPU every failure
 * becomes a reason string. Uses a few hand-written FFM downcalls, so no generated binding class (whose
 * static initializer would open a library) is touched before the libraries are known to load.
 */
public final class CudaProbe {
    /** Classpath location of the kernels library that kernels-cuda packages. */
    public static final String KERNELS_RESOURCE = "dev/longconv/native/linux-x86_64/liblongconv_cuda.so";
    /** The C ABI version (LONGCONV_CUDA_ABI_VERSION) this Java code speaks. */
    public static final int ABI_VERSION = 1;

    private static final int ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76; // cudaDevAttrComputeCapabilityMajor/Minor
    private static final int ERR_INSUFFICIENT_DRIVER = 35, ERR_NO_DEVICE = 100, ERR_STUB_LIBRARY = 34;

    /** One GPU; -1 where a query failed. */
    public record CudaDeviceInfo(int index, String name, int ccMajor, int ccMinor, long totalMemoryBytes) {}

    /**
     * The outcome of the probe. {@code available} means a GPU and the kernels library (at this ABI) are
     * usable; otherwise {@code reason} says why not. Versions are CUDA's encoding (13000 = 13.0), 0 when
     * unknown; {@code kernelsLibrary} is the loaded file, the classpath resource when packaged but not
     * loadable, or null when not packaged; {@code cufft}/{@code cublas} are "version (location)" or why not.
     */
    public record CudaStatus(boolean available, String reason, int runtimeVersion, int driverVersion, int deviceCount,
                             List<CudaDeviceInfo> devices, String cudartPath, String kernelsLibrary, int kernelsAbiVersion,
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

    private static CudaStatus probe() throws Throwable {
        Optional<CudaLibraries.Loaded> cudart = Cudart.library();
        String cufft = libraryVersion("cufft", CudaLibraries.CUFFT, "cufftGetVersion", false);
        String cublas = libraryVersion("cublas", CudaLibraries.CUBLAS, "cublasGetProperty", true);
        if (cudart.isEmpty()) {
            // The kernels need libcudart.so.13 as a dependency, so without it there is nothing to load them against.
            return new CudaStatus(false, "libcudart not found (searched: " + Cudart.searched() + "); install the CUDA toolkit or set -D"
                    + CudaLibraries.LIBDIR_PROPERTY, 0, 0, 0, List.of(), null, resourcePresent() ? "classpath:" + KERNELS_RESOURCE : null, -1,
                    cufft, cublas);
        }
        Runtime rt = new Runtime(cudart.get().lookup());
        int runtimeVersion = rt.intOrZero("cudaRuntimeGetVersion");
        int driverVersion = rt.intOrZero("cudaDriverGetVersion");
        Kernels kernels = loadKernels(); // after cudart: its DT_NEEDED libcudart then resolves to the one loaded

        String problem = null;
        int count = 0;
        List<CudaDeviceInfo> devices = new ArrayList<>();
        try {
            count = rt.intOut("cudaGetDeviceCount");
            if (count == 0) problem = "no CUDA device found";
            int current = count > 0 ? rt.intOut("cudaGetDevice") : 0;
            for (int d = 0; d < count; d++) devices.add(rt.device(d));
            // cudaSetDevice in the loop changed this thread's device; the thread that probed may be the caller's
            if (count > 0) CudaException.check("cudaSetDevice", rt.setDevice(current));
        } catch (CudaException e) {
            problem = switch (e.code()) {
                case ERR_INSUFFICIENT_DRIVER, ERR_STUB_LIBRARY -> "no CUDA driver: " + e.getMessage();
                case ERR_NO_DEVICE -> "no CUDA device: " + e.getMessage();
                default -> "CUDA not usable: " + e.getMessage();
            };
            if (devices.isEmpty()) count = 0;
        }
        if (kernels.problem != null) problem = problem == null ? kernels.problem : problem + "; " + kernels.problem;
        boolean ok = problem == null && count > 0 && kernels.abi == ABI_VERSION;
        String reason = ok ? count + " device(s), kernels ABI " + kernels.abi : problem;
        return new CudaStatus(ok, reason, runtimeVersion, driverVersion, count, List.copyOf(devices), cudart.get().location(),
                kernels.path, kernels.abi, cufft, cublas);
    }

    private record Kernels(String path, int abi, String problem) {}

    /** Extracts the packaged kernels library to a temporary file, loads it and asks its ABI version. */
    private static Kernels loadKernels() {
        Path tmp = null;
        try (InputStream in = CudaProbe.class.getClassLoader().getResourceAsStream(KERNELS_RESOURCE)) {
            if (in == null) return new Kernels(null, -1, "kernels library not packaged (built without nvcc)");
            // the loader needs a file; a temp file per JVM avoids racing other processes over a shared path
            tmp = Files.createTempFile("liblongconv_cuda", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            SymbolLookup lib = SymbolLookup.libraryLookup(tmp, Arena.global());
            MethodHandle v = Linker.nativeLinker().downcallHandle(lib.findOrThrow("longconv_abi_version"), FunctionDescriptor.of(JAVA_INT));
            int abi = (int) v.invokeExact();
            return new Kernels(tmp.toString(), abi,
                    abi == ABI_VERSION ? null : "kernels library has ABI " + abi + ", this code needs " + ABI_VERSION);
        } catch (Throwable t) {
            return new Kernels(tmp == null ? "classpath:" + KERNELS_RESOURCE : tmp.toString(), -1, "kernels library failed to load: " + t.getMessage());
        }
    }

    private static boolean resourcePresent() {
        return CudaProbe.class.getClassLoader().getResource(KERNELS_RESOURCE) != null;
    }

    /**
     * "version (location)" of cuFFT (cufftGetVersion) or cuBLAS (cublasGetProperty major/minor/patch),
     * which answer without a GPU; otherwise why not.
     */
    private static String libraryVersion(String base, List<String> sonames, String fn, boolean properties) {
        try {
            Optional<CudaLibraries.Loaded> lib = CudaLibraries.find(base, sonames);
            if (lib.isEmpty()) return "not found (searched: " + CudaLibraries.searched(base, sonames) + ")";
            String where = " (" + lib.get().location() + ")";
            Linker linker = Linker.nativeLinker();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT);
                if (!properties) {
                    MethodHandle h = linker.downcallHandle(lib.get().lookup().findOrThrow(fn), FunctionDescriptor.of(JAVA_INT, ADDRESS));
                    int err = (int) h.invokeExact(v);
                    if (err != 0) return fn + " returned " + err + where;
                    int ver = v.get(JAVA_INT, 0);
                    return ver / 1000 + "." + ver % 1000 / 100 + "." + ver % 100 + where;
                }
                MethodHandle h = linker.downcallHandle(lib.get().lookup().findOrThrow(fn), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
                int[] parts = new int[3];
                for (int i = 0; i < 3; i++) { // libraryPropertyType: MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
                    int err = (int) h.invokeExact(i, v);
                    if (err != 0) return fn + " returned " + err + where;
                    parts[i] = v.get(JAVA_INT, 0);
                }
                return parts[0] + "." + parts[1] + "." + parts[2] + where;
            }
        } catch (Throwable t) {
            return "failed to query: " + t;
        }
    }

    /** The few cudart entry points the probe needs, as downcalls made on demand (the probe runs once). */
    private record Runtime(SymbolLookup lib) {
        private MethodHandle handle(String name, FunctionDescriptor fd) {
            return Linker.nativeLinker().downcallHandle(lib.findOrThrow(name), fd);
        }

        /** Calls {@code cudaError_t fn(int*)}; CudaException on error. */
        int intOut(String fn) throws Throwable {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(JAVA_INT);
                CudaException.check(fn, (int) handle(fn, FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(p));
                return p.get(JAVA_INT, 0);
            }
        }

        /** Versions are informational: a failure leaves 0 rather than hiding the device count's clearer error. */
        int intOrZero(String fn) {
            try {
                return intOut(fn);
            } catch (Throwable t) {
                return 0;
            }
        }

        int setDevice(int d) throws Throwable {
            return (int) handle("cudaSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT)).invokeExact(d);
        }

        /** One device; a query that fails leaves its field at -1 (or the name "device N") rather than losing the device. */
        CudaDeviceInfo device(int d) throws Throwable {
            int major = -1, minor = -1;
            long total = -1;
            String name = "device " + d;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT);
                MethodHandle attr = handle("cudaDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
                if ((int) attr.invokeExact(v, ATTR_CC_MAJOR, d) == 0) major = v.get(JAVA_INT, 0);
                if ((int) attr.invokeExact(v, ATTR_CC_MINOR, d) == 0) minor = v.get(JAVA_INT, 0);
                // cudaDeviceProp begins with char name[256] in every CUDA version; the buffer is several times the
                // struct's size in any of them, so the rest of the layout need not be known.
                MemorySegment prop = a.allocate(16384, 16);
                String fn = lib.find("cudaGetDeviceProperties_v2").isPresent() ? "cudaGetDeviceProperties_v2" : "cudaGetDeviceProperties";
                if ((int) handle(fn, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)).invokeExact(prop, d) == 0) {
                    byte[] raw = prop.asSlice(0, 256).toArray(ValueLayout.JAVA_BYTE);
                    int len = 0;
                    while (len < raw.length && raw[len] != 0) len++;
                    if (len > 0) name = new String(raw, 0, len, java.nio.charset.StandardCharsets.UTF_8);
                }
                // cudaMemGetInfo answers for the current device, and needs its context: hence cudaSetDevice first
                MemorySegment free = a.allocate(JAVA_LONG), tot = a.allocate(JAVA_LONG);
                if (setDevice(d) == 0) {
                    MethodHandle mem = handle("cudaMemGetInfo", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
                    if ((int) mem.invokeExact(free, tot) == 0) total = tot.get(JAVA_LONG, 0);
                }
            }
            return new CudaDeviceInfo(d, name, major, minor, total);
        }
    }
}
