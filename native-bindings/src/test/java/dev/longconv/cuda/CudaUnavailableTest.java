package dev.longconv.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What a machine without a usable GPU sees: a reason, no throw, and clear errors from every entry point. */
class CudaUnavailableTest {

    @Test
    void availabilityNeverThrowsAndTheReasonIsOneLine() {
        boolean available = Cuda.available();
        String reason = Cuda.unavailableReason();
        assertEquals(available, Cuda.available(), "stable");
        if (available) {
            assertEquals("", reason);
        } else {
            assertFalse(reason.isBlank());
            assertFalse(reason.contains("\n") || reason.contains("\r"), reason);
        }
    }

    @Test
    void everyEntryPointSaysWhyItCannotRun() {
        assumeFalse(Cuda.available(), "CUDA is available here");
        String reason = Cuda.unavailableReason();
        expectUnavailable("DeviceBuffer.allocate", () -> DeviceBuffer.allocate(16), reason);
        expectUnavailable("CudaStream.create", CudaStream::create, reason);
        expectUnavailable("CudaEvent.create", CudaEvent::create, reason);
        expectUnavailable("MemInfo.current", MemInfo::current, reason);
        expectUnavailable("Cuda.currentDevice", Cuda::currentDevice, reason);
        expectUnavailable("Cuda.synchronize", Cuda::synchronize, reason);
        expectUnavailable("FftPlanCache", () -> new FftPlanCache(null).close(), reason);
        expectUnavailable("BlasHandle.create", () -> BlasHandle.create(null, BlasHandle.MathMode.DEFAULT), reason);
        assertTrue(Cuda.devices().isEmpty());
    }

    private static void expectUnavailable(String op, Executable call, String reason) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call, op);
        assertEquals(op + ": CUDA is not available: " + reason, e.getMessage());
    }

    @Test
    void badSizeIsRejectedBeforeAnyNativeCall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(0));
        assertEquals("DeviceBuffer.allocate: bytes must be > 0, got 0", e.getMessage());
    }

    /** Lets a test ask whether a class was loaded (so also whether it was initialised) by this loader. */
    private static final class ChildFirstLoader extends URLClassLoader {
        ChildFirstLoader(URL[] urls) {
            super("isolated-longconv-cuda", urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    /**
     * In a class loader where libcudart cannot be used, the probe must report why without loading any generated
     * class. The JDK lets one class loader hold a native library; this JVM's application loader already holds
     * libcudart (when the machine has one), so a second loader is refused it: a real "library not usable" case
     * on every machine, and the kind an application server with two deployments meets.
     */
    @Test
    void generatedClassesAreNotTouchedWhenCudartIsUnusable() throws Exception {
        Cuda.available(); // the application loader takes libcudart first, if there is one
        Path classes = Path.of(Cuda.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> generated = generatedClassNames(classes);
        assertTrue(generated.size() >= 8, generated.toString());
        try (ChildFirstLoader loader = new ChildFirstLoader(new URL[] {classes.toUri().toURL()})) {
            Class<?> cuda = Class.forName(Cuda.class.getName(), true, loader);
            assertTrue(cuda.getClassLoader() == loader, "isolated copy");
            Method available = cuda.getMethod("available"), reasonOf = cuda.getMethod("unavailableReason");
            assertEquals(false, available.invoke(null));
            String reason = (String) reasonOf.invoke(null);
            System.out.println("isolated loader: " + reason);
            assertTrue(reason.startsWith("libcudart not found (searched: "), reason);
            assertTrue(reason.contains("/usr/local/cuda/lib64"), reason);
            Class<?> buffer = Class.forName(DeviceBuffer.class.getName(), true, loader);
            var e = assertThrows(java.lang.reflect.InvocationTargetException.class, () -> buffer.getMethod("allocate", long.class).invoke(null, 64L));
            assertTrue(e.getCause() instanceof IllegalStateException, e.getCause().toString());
            List<String> touched = new ArrayList<>();
            for (String g : generated) if (loader.loaded(g)) touched.add(g);
            assertEquals(List.of(), touched, "generated classes loaded without a usable libcudart");
            assertTrue(loader.loaded(CudaProbe.class.getName()), "the probe itself did run in the isolated loader");
        }
    }

    private static List<String> generatedClassNames(Path classes) throws IOException, URISyntaxException {
        Path gen = classes.resolve("dev/longconv/cuda/gen");
        try (Stream<Path> s = Files.walk(gen)) {
            return s.filter(p -> p.toString().endsWith(".class") && !p.getFileName().toString().equals("package-info.class"))
                    .map(p -> classes.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "")).sorted().toList();
        }
    }
}
