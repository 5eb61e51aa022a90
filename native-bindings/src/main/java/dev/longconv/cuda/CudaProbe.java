package dev.longconv.cuda;

import java.io.IOException;
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

/**
 * What CUDA this process can use: the runtime, the driver, the devices, and longconv's own kernels
 * library. Computed once, never throws: on a machine without a driver or GPU every failure becomes
 * a reason string. Uses a few hand-written FFM downcalls, so no generated binding class (whose static
 * initializer would open a library) is touched before the libraries are known to load.
 */
public final class CudaProbe {
    /** Classpath location of the kernels library that kernels-cuda packages. */
    public static final String KERNELS_RESOURCE = "dev/longconv/native/linux-x86_64/liblongconv_cuda.so";
    /** The C ABI version (LONGCONV_CUDA_ABI_VERSION) this Java code speaks. */
    public static final int ABI_VERSION = 1;

    private static final List<String> CUDART = List.of("libcudart.so.13", "libcudart.so.12", "libcudart.so");
    private static final List<String> CUFFT = List.of("libcufft.so.12", "libcufft.so.11", "libcufft.so");
    private static final List<String> CUBLAS = List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so");
    private static final int ATTR_CC_MAJOR = 75, ATTR_CC_MINOR = 76;

    /** One GPU. */
    public record CudaDeviceInfo(int index, String name, int ccMajor, int ccMinor, long totalMemoryBytes) {}

    /** The outcome of the probe; {@code reason} says why CUDA is not usable when {@code available} is false. */
    public record CudaStatus(boolean available, String reason, int runtimeVersion, int driverVersion, int deviceCount,
                             List<CudaDeviceInfo> devices, String cudartPath, String kernelsLibrary, int kernelsAbiVersion,
                             String cufft, String cublas) {}

    private CudaProbe() {}

    public static CudaStatus status() {
        return Holder.STATUS;
    }

    private static final class Holder {
        static final CudaStatus STATUS = probe();
    }

    private static CudaStatus probe() {
        try {
            StringBuilder searched = new StringBuilder();
            Optional<CudaLibraries.Loaded> cudart = CudaLibraries.load(CUDART, searched);
            if (cudart.isEmpty()) {
                return new CudaStatus(false, "libcudart not found (searched: " + searched + "); install the CUDA toolkit or set -D"
                        + CudaLibraries.LIBDIR_PROPERTY, 0, 0, 0, List.of(), null, kernelsResourcePresent() ? KERNELS_RESOURCE : null, -1,
                        "not probed (no libcudart)", "not probed (no libcudart)");
            }
            return probe(new Runtime(cudart.get().lookup()), cudart.get().location());
        } catch (Throwable t) {
            return new CudaStatus(false, "CUDA probe failed: " + t, 0, 0, 0, List.of(), null, null, -1, "unknown", "unknown");
        }
    }

    private static CudaStatus probe(Runtime rt, String cudartPath) throws Throwable {
        int runtimeVersion = rt.intOut("cudaRuntimeGetVersion");
        int driverVersion = rt.intOut("cudaDriverGetVersion");
        // Kernels load after cudart, so their DT_NEEDED libcudart resolves to the library already loaded.
        String kernelsPath = null;
        int abi = -1;
        String kernelsProblem = null;
        try {
            Path lib = extractKernels();
            if (lib == null) {
                kernelsProblem = "kernels library not packaged (built without nvcc)";
            } else {
                kernelsPath = lib.toString();
                SymbolLookup k = SymbolLookup.libraryLookup(lib, Arena.global());
                MethodHandle v = Linker.nativeLinker().downcallHandle(k.findOrThrow("longconv_abi_version"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT));
                abi = (int) v.invokeExact();
                if (abi != ABI_VERSION) kernelsProblem = "kernels library ABI " + abi + ", this code needs " + ABI_VERSION;
            }
        } catch (IOException | IllegalArgumentException | java.util.NoSuchElementException e) {
            kernelsProblem = "kernels library failed to load: " + e.getMessage();
        }
        String cufft = libraryVersion(CUFFT, "cufftGetVersion", false), cublas = libraryVersion(CUBLAS, "cublasGetProperty", true);
        int[] count = new int[1];
        int err = rt.call("cudaGetDeviceCount", count);
        if (err != 0) {
            return new CudaStatus(false, "no usable GPU: " + rt.describe("cudaGetDeviceCount", err), runtimeVersion, driverVersion, 0,
                    List.of(), cudartPath, kernelsPath, abi, cufft, cublas);
        }
        List<CudaDeviceInfo> devices = new ArrayList<>();
        for (int d = 0; d < count[0]; d++) devices.add(rt.device(d));
        boolean ok = count[0] > 0 && kernelsProblem == null;
        String reason = count[0] == 0 ? "no CUDA device found" : kernelsProblem == null ? "ok" : kernelsProblem;
        return new CudaStatus(ok, reason, runtimeVersion, driverVersion, count[0], List.copyOf(devices), cudartPath, kernelsPath, abi,
                cufft, cublas);
    }

    /**
     * "version (path)" of cuFFT (cufftGetVersion) or cuBLAS (cublasGetProperty major/minor/patch), which
     * need no GPU; otherwise why not.
     */
    private static String libraryVersion(List<String> sonames, String fn, boolean properties) {
        StringBuilder searched = new StringBuilder();
        Optional<CudaLibraries.Loaded> lib = CudaLibraries.load(sonames, searched);
        if (lib.isEmpty()) return "not found (searched: " + searched + ")";
        try (Arena a = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            if (!properties) {
                MethodHandle h = linker.downcallHandle(lib.get().lookup().findOrThrow(fn), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
                int err = (int) h.invokeExact(v);
                if (err != 0) return fn + " returned " + err + " (" + lib.get().location() + ")";
                int ver = v.get(ValueLayout.JAVA_INT, 0);
                return ver / 1000 + "." + ver % 1000 / 100 + "." + ver % 100 + " (" + lib.get().location() + ")";
            }
            MethodHandle h = linker.downcallHandle(lib.get().lookup().findOrThrow(fn),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            int[] parts = new int[3];
            for (int i = 0; i < 3; i++) { // libraryPropertyType: MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
                int err = (int) h.invokeExact(i, v);
                if (err != 0) return fn + " returned " + err + " (" + lib.get().location() + ")";
                parts[i] = v.get(ValueLayout.JAVA_INT, 0);
            }
            return parts[0] + "." + parts[1] + "." + parts[2] + " (" + lib.get().location() + ")";
        } catch (Throwable t) {
            return "failed to query: " + t.getMessage();
        }
    }

    private static boolean kernelsResourcePresent() {
        return CudaProbe.class.getClassLoader().getResource(KERNELS_RESOURCE) != null;
    }

    /** Copies the packaged kernels library to a temporary file the loader can open; null when not packaged. */
    private static Path extractKernels() throws IOException {
        try (InputStream in = CudaProbe.class.getClassLoader().getResourceAsStream(KERNELS_RESOURCE)) {
            if (in == null) return null;
            Path tmp = Files.createTempFile("liblongconv_cuda", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    /** The few cudart entry points the probe needs, as downcalls. */
    private static final class Runtime {
        private final SymbolLookup lib;
        private final Linker linker = Linker.nativeLinker();

        Runtime(SymbolLookup lib) {
            this.lib = lib;
        }

        private MethodHandle handle(String name, FunctionDescriptor fd) {
            return linker.downcallHandle(lib.findOrThrow(name), fd);
        }

        /** Calls {@code int f(int*)} and returns the int, or -1 on error. */
        int intOut(String fn) throws Throwable {
            int[] v = new int[1];
            return call(fn, v) == 0 ? v[0] : -1;
        }

        int call(String fn, int[] out) throws Throwable {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ValueLayout.JAVA_INT);
                int err = (int) handle(fn, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS)).invokeExact(p);
                out[0] = p.get(ValueLayout.JAVA_INT, 0);
                return err;
            }
        }

        String errorText(String fn, int code) throws Throwable {
            MemorySegment s = (MemorySegment) handle(fn, FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT)).invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "?" : s.reinterpret(4096).getString(0);
        }

        String describe(String call, int code) throws Throwable {
            return call + " returned " + errorText("cudaGetErrorName", code) + " (" + code + "): " + errorText("cudaGetErrorString", code);
        }

        CudaDeviceInfo device(int d) throws Throwable {
            int major = -1, minor = -1;
            long total = -1;
            String name = "device " + d;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
                MethodHandle attr = handle("cudaDeviceGetAttribute",
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                if ((int) attr.invokeExact(v, ATTR_CC_MAJOR, d) == 0) major = v.get(ValueLayout.JAVA_INT, 0);
                if ((int) attr.invokeExact(v, ATTR_CC_MINOR, d) == 0) minor = v.get(ValueLayout.JAVA_INT, 0);
                // cudaDeviceProp starts with char name[256]; the buffer is far larger than the struct of any CUDA version.
                MemorySegment prop = a.allocate(16384, 16);
                String fn = lib.find("cudaGetDeviceProperties_v2").isPresent() ? "cudaGetDeviceProperties_v2" : "cudaGetDeviceProperties";
                int err = (int) handle(fn, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)).invokeExact(prop, d);
                if (err == 0) name = prop.asSlice(0, 256).getString(0);
                MethodHandle set = handle("cudaSetDevice", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                MemorySegment free = a.allocate(ValueLayout.JAVA_LONG), tot = a.allocate(ValueLayout.JAVA_LONG);
                if ((int) set.invokeExact(d) == 0) {
                    MethodHandle mem = handle("cudaMemGetInfo", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                    if ((int) mem.invokeExact(free, tot) == 0) total = tot.get(ValueLayout.JAVA_LONG, 0);
                }
            }
            return new CudaDeviceInfo(d, name, major, minor, total);
        }
    }
}
