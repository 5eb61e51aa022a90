package dev.longconv.cuda;

import dev.longconv.cuda.gen.kernels.kernels_h;
import dev.longconv.kernels.cuda.NativeKernels;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * longconv's own CUDA kernels, {@code liblongconv_cuda.so}, which the platform artifact of kernels-cuda
 * ({@code longconv-kernels-cuda} with classifier {@code linux-x86_64}) carries and offers as a {@link NativeKernels}
 * service (found by service binding on the module path, by {@code META-INF/services} on the class path). Loading extracts it to a temporary file this process owns, {@link System#load}s it after libcudart
 * (so its dependency on libcudart.so.13 resolves to the runtime already loaded), deletes the file (the mapping
 * outlives it, and nothing is left in /tmp), and compares {@code longconv_abi_version()} with the
 * {@code LONGCONV_CUDA_ABI_VERSION} the bindings were generated from.
 */
public final class KernelLibrary {
    /** Classpath location of the library that kernels-cuda packages. */
    public static final String RESOURCE = "dev/longconv/native/linux-x86_64/liblongconv_cuda.so";

    /**
     * The outcome of loading: {@code location} is the loaded file (now deleted), the resource when packaged but
     * not loadable, or null when not packaged; {@code abiVersion} is -1 unless the library answered;
     * {@code problem} is null when it is loaded at the right ABI, else one line saying why not.
     */
    public record Status(String location, int abiVersion, String problem) {
        /** True when the library loaded and speaks the ABI these bindings were generated for. */
        public boolean loaded() {
            return problem == null;
        }
    }

    /** Loads a library file and asks its ABI version; the seam tests replace to fake a library. */
    interface Loader {
        int loadAndReadAbi(Path file);
    }

    private KernelLibrary() {}

    private static final class Holder {
        static final Status STATUS = loadReal();
    }

    /** The kernels library's status, loading it on first use; never throws. */
    public static Status status() {
        return Holder.STATUS;
    }

    /** Whether the library is on the class or module path (the platform artifact, built with nvcc). */
    public static boolean packaged() {
        return locate() != null;
    }

    /**
     * The library for this JVM's platform: from the {@link NativeKernels} provider of that platform, else the
     * resource on the class path (a library placed there by hand, as the GPU bundle's rebuild does); null if neither.
     */
    static URL locate() {
        try {
            String platform = NativeKernels.currentPlatform();
            for (NativeKernels k : ServiceLoader.load(NativeKernels.class, KernelLibrary.class.getClassLoader())) {
                if (!k.platform().equals(platform)) continue;
                URL u = k.library();
                if (u != null) return u;
            }
        } catch (LinkageError e) {
            // kernels-cuda's service type is not visible to this class loader: only a library on the class path can be found
        }
        return KernelLibrary.class.getClassLoader().getResource(RESOURCE);
    }

    /** This JVM's platform in the classifiers' spelling, for messages. */
    private static String platform() {
        try {
            return NativeKernels.currentPlatform();
        } catch (LinkageError e) {
            return "linux-x86_64";
        }
    }

    private static InputStream openLibrary() {
        URL u = locate();
        if (u == null) return null;
        try {
            return u.openStream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Status loadReal() {
        if (!Cudart.loaded()) return new Status(packaged() ? "classpath:" + RESOURCE : null, -1, "kernels library not loaded: libcudart not found");
        try {
            return load(KernelLibrary::openLibrary, file -> {
                System.load(file.toAbsolutePath().toString());
                return kernels_h.longconv_abi_version();
            }, KernelLibrary::generatedAbiVersion);
        } catch (RuntimeException | LinkageError e) {
            return new Status("classpath:" + RESOURCE, -1, "kernels library failed to load: " + e);
        }
    }

    /** Read only once the library has loaded: kernels_h is not to be touched before. */
    private static int generatedAbiVersion() {
        return kernels_h.LONGCONV_CUDA_ABI_VERSION();
    }

    /** Extracts, loads and checks; {@code expectedAbi} is asked only after the library has loaded. */
    static Status load(Supplier<InputStream> resource, Loader loader, Supplier<Integer> expectedAbi) {
        Path tmp = null;
        try (InputStream in = resource.get()) {
            if (in == null) {
                return new Status(null, -1, "kernels library not packaged (add dev.longconv:longconv-kernels-cuda with classifier "
                        + platform() + ", built with nvcc)");
            }
            // the loader needs a file; a fresh temp file per process avoids racing other processes over a shared path
            tmp = Files.createTempFile("liblongconv_cuda", ".so");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            int abi = loader.loadAndReadAbi(tmp);
            return new Status(tmp.toString(), abi, abiProblem(abi, expectedAbi.get()));
        } catch (IOException e) {
            return new Status("classpath:" + RESOURCE, -1, "kernels library could not be extracted: " + e);
        } catch (LinkageError | RuntimeException e) {
            return new Status(tmp == null ? "classpath:" + RESOURCE : tmp.toString(), -1, "kernels library failed to load: " + e.getMessage());
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** Null when the versions agree, else the one-line reason. */
    static String abiProblem(int found, int expected) {
        return found == expected ? null
                : "kernels library has ABI " + found + ", these bindings need " + expected + " (rebuild kernels-cuda and native-bindings together)";
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            p.toFile().deleteOnExit(); // a temp file we could not remove now is removed at exit
        }
    }
}
