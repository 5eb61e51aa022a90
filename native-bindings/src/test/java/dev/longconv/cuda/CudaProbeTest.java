package dev.longconv.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaProbeTest {

    @Test
    void statusNeverThrowsAndIsConsistent() {
        CudaProbe.CudaStatus s = CudaProbe.status();
        assertNotNull(s.reason());
        assertFalse(s.reason().isBlank());
        assertEquals(s.deviceCount(), s.devices().size());
        if (s.available()) {
            assertTrue(s.deviceCount() > 0);
            assertEquals(CudaProbe.ABI_VERSION, s.kernelsAbiVersion());
        } else {
            assertTrue(s.reason().contains("GPU") || s.reason().contains("libcudart") || s.reason().contains("kernels")
                    || s.reason().contains("device"), s.reason());
        }
        assertEquals(s, CudaProbe.status(), "computed once");
    }

    @Test
    void gpuIsUsableWhenPresent() {
        CudaProbe.CudaStatus s = CudaProbe.status();
        assumeTrue(s.available(), () -> "no usable GPU here: " + s.reason());
        for (CudaProbe.CudaDeviceInfo d : s.devices()) {
            assertTrue(d.ccMajor() >= 5, d.toString());
            assertTrue(d.totalMemoryBytes() > 0, d.toString());
        }
    }

    @Test
    void kernelsLibraryIsPackagedWhenBuiltWithNvcc() {
        boolean packaged = CudaProbe.class.getClassLoader().getResource(CudaProbe.KERNELS_RESOURCE) != null;
        assumeTrue(packaged, "built without nvcc: no kernels library in the kernels-cuda jar");
        CudaProbe.CudaStatus s = CudaProbe.status();
        assumeTrue(s.cudartPath() != null, () -> "libcudart not loadable here, so the kernels library cannot load: " + s.reason());
        assertEquals(CudaProbe.ABI_VERSION, s.kernelsAbiVersion(), "kernels library loaded and reports its ABI: " + s);
    }

    @Test
    void searchFallsThroughEmptyDirectoriesAndReportsWhereItLooked(@TempDir Path empty) {
        StringBuilder searched = new StringBuilder();
        var found = CudaLibraries.load(List.of("libdoes-not-exist.so.99"), List.of(empty), List.of(empty), searched);
        assertTrue(found.isEmpty());
        assertTrue(searched.toString().contains(empty.toString()), searched.toString());
        assertTrue(searched.toString().contains("system loader"), searched.toString());
    }

    @Test
    void propertyDirectoryComesFirst() {
        String old = System.getProperty(CudaLibraries.LIBDIR_PROPERTY);
        try {
            System.setProperty(CudaLibraries.LIBDIR_PROPERTY, "/opt/somewhere");
            assertEquals(Path.of("/opt/somewhere"), CudaLibraries.directories().get(0));
            assertTrue(CudaLibraries.directories().contains(Path.of("/usr/local/cuda/lib64")));
        } finally {
            if (old == null) System.clearProperty(CudaLibraries.LIBDIR_PROPERTY);
            else System.setProperty(CudaLibraries.LIBDIR_PROPERTY, old);
        }
    }
}
