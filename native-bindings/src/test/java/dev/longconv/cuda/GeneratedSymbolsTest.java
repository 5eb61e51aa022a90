package dev.longconv.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every function a symbols file binds resolves, through the generated class, in the library this machine loads:
 * a wrong versioned name (cudaGetDeviceProperties_v2 is CUDA 12's, CUDA 13 exports the plain name) fails here
 * rather than on a GPU. Needs the libraries, not a GPU; skipped for a library that is not installed.
 */
class GeneratedSymbolsTest {

    private static List<String> functions(String lib) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("jextract", lib + ".symbols"))) {
            if (line.startsWith("--include-function ")) out.add(line.substring("--include-function ".length()).strip());
        }
        assertFalse(out.isEmpty(), lib + ".symbols lists no function");
        return out;
    }

    /** Calls {@code <fn>$address()} on the generated header class, which looks the symbol up. */
    private static void assertAllResolve(String lib) throws Exception {
        Class<?> header = Class.forName("dev.longconv.cuda.gen." + lib + "." + lib + "_h");
        List<String> missing = new ArrayList<>();
        for (String fn : functions(lib)) {
            try {
                MemorySegment addr = (MemorySegment) header.getMethod(fn + "$address").invoke(null);
                assertTrue(addr.address() != 0, fn);
            } catch (InvocationTargetException e) {
                missing.add(fn + " (" + e.getCause() + ")");
            }
        }
        assertEquals(List.of(), missing, lib + " functions the loaded library does not export");
    }

    @Test
    void cudartFunctionsResolve() throws Exception {
        assumeTrue(Cudart.loaded(), () -> "no libcudart: " + Cudart.searched());
        assertAllResolve("cudart");
    }

    @Test
    void cufftFunctionsResolve() throws Exception {
        assumeTrue(Cuda.CUFFT.library().isPresent(), Cuda.CUFFT::searched);
        assertAllResolve("cufft");
    }

    @Test
    void cublasFunctionsResolve() throws Exception {
        assumeTrue(Cuda.CUBLAS.library().isPresent(), Cuda.CUBLAS::searched);
        assertAllResolve("cublas");
    }

    @Test
    void kernelsFunctionsResolve() throws Exception {
        assumeTrue(KernelLibrary.status().loaded(), () -> "kernels library: " + KernelLibrary.status().problem());
        assertAllResolve("kernels");
    }
}
