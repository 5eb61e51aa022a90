package dev.longconv.kernels.cuda;

import java.net.URL;

/**
 * A platform's build of longconv's CUDA kernels, provided as a service by a classifier artifact of
 * longconv-kernels-cuda (for Linux on x86-64: {@code longconv-kernels-cuda-VERSION-linux-x86_64.jar}). The
 * bindings module {@code uses} this service, so on the module path the platform module is resolved by service
 * binding with no {@code --add-modules}; on the class path it is found through {@code META-INF/services}.
 */
public interface NativeKernels {
    /** Class-path location of the library in every platform artifact, below a folder named after the platform. */
    String RESOURCE_FORMAT = "dev/longconv/native/%s/liblongconv_cuda.so";

    /** The platform this build is for, as {@code os-arch} in the classifier's spelling: {@code linux-x86_64}. */
    String platform();

    /**
     * Where the library is, or null when this artifact was built without nvcc (a developer build; a release build
     * fails instead). Resolved through the provider's class loader, so a library placed ahead of the jar on the
     * class path (the GPU bundle's rebuild) is the one found.
     */
    URL library();

    /** The platform of this JVM in the classifiers' spelling ({@code linux-x86_64}, {@code linux-aarch64}, ...). */
    static String currentPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(java.util.Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("windows") ? "windows" : os.startsWith("mac") ? "osx" : os.replace(' ', '_');
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
    }
}
