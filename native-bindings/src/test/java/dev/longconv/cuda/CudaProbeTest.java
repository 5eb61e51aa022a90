package dev.longconv.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaProbeTest {

    @Test
    void statusNeverThrowsAndIsConsistent() {
        CudaProbe.CudaStatus s = CudaProbe.status();
        System.out.println("CudaProbe.status() = " + s);
        assertNotNull(s.reason());
        assertFalse(s.reason().isBlank());
        assertEquals(s.deviceCount(), s.devices().size());
        assertSame(s, CudaProbe.status(), "computed once");
        if (s.available()) {
            assertTrue(s.deviceCount() > 0);
            assertEquals(dev.longconv.cuda.gen.kernels.kernels_h.LONGCONV_CUDA_ABI_VERSION(), s.kernelsAbiVersion());
            assertNotNull(s.cudartPath());
        } else {
            // a machine without a GPU says which piece is missing: the library, the driver, a device or the kernels
            String r = s.reason();
            assertTrue(r.startsWith("libcudart not found") || r.contains("driver") || r.contains("device") || r.contains("kernels"), r);
        }
        if (s.cudartPath() == null) {
            assertEquals(0, s.runtimeVersion());
            assertTrue(s.reason().contains("searched:"), s.reason());
        }
    }

    /** With libcudart but without the driver library the reason says so, not the runtime's "driver version is insufficient". */
    @Test
    void noDriverIsNamedAsSuch() {
        CudaProbe.CudaStatus s = CudaProbe.status();
        assumeTrue(s.cudartPath() != null && !CudaProbe.driverFound(),
                () -> "not a machine with libcudart but no NVIDIA driver: " + s.reason());
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", s.reason());
        assertEquals(0, s.deviceCount());
        assertFalse(s.available());
    }

    @Test
    void gpuIsUsableWhenPresent() {
        CudaProbe.CudaStatus s = CudaProbe.status();
        assumeTrue(s.available(), () -> "no usable GPU here: " + s.reason());
        assertTrue(s.deviceCount() > 0);
        assertEquals(dev.longconv.cuda.gen.kernels.kernels_h.LONGCONV_CUDA_ABI_VERSION(), s.kernelsAbiVersion());
        assertTrue(s.driverVersion() >= s.runtimeVersion() / 1000 * 1000, s.toString());
        for (DeviceInfo d : s.devices()) {
            assertTrue(d.ccMajor() >= 5, d.toString());
            assertTrue(d.totalMemoryBytes() > 0, d.toString());
            assertFalse(d.name().isBlank(), d.toString());
        }
    }

    @Test
    void kernelsLibraryIsPackagedAndLoadsAgainstCudart() {
        boolean packaged = KernelLibrary.packaged();
        assumeTrue(packaged, "no kernels library on the class path (the linux-x86_64 artifact of kernels-cuda, built with nvcc)");
        CudaProbe.CudaStatus s = CudaProbe.status();
        assertNotNull(s.kernelsLibrary(), "a packaged library is always reported");
        assumeTrue(s.cudartPath() != null, () -> "libcudart not loadable here, so the kernels library cannot load: " + s.reason());
        assertEquals(dev.longconv.cuda.gen.kernels.kernels_h.LONGCONV_CUDA_ABI_VERSION(), s.kernelsAbiVersion(), () -> "kernels library loaded and reports its ABI: " + s);
        assertTrue(KernelLibrary.status().loaded(), () -> "kernels library problem: " + KernelLibrary.status().problem());
    }

    @Test
    void checkNamesTheErrorThroughTheRuntime() {
        CudaException.check("cudaNothing", 0);
        CudaException e = assertThrows(CudaException.class, () -> CudaException.check("cudaGetDeviceCount", 35));
        assertEquals("cudaGetDeviceCount", e.call());
        assertEquals(35, e.code());
        assertTrue(e.getMessage().startsWith("cudaGetDeviceCount returned " + e.errorName() + " (35): "), e.getMessage());
        if (Cudart.library().isPresent()) {
            assertEquals("cudaErrorInsufficientDriver", e.errorName());
            assertTrue(e.errorString().toLowerCase().contains("driver"), e.errorString());
        } else {
            assertEquals("cudaError 35", e.errorName());
        }
    }
}
