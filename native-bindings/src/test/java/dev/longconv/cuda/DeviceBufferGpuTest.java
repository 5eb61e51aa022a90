package dev.longconv.cuda;

import dev.longconv.cuda.gen.kernels.kernels_h;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.longconv.cuda.GpuTestSupport.downloadFloats;
import static dev.longconv.cuda.GpuTestSupport.randomFloats;
import static dev.longconv.cuda.GpuTestSupport.relL2;
import static dev.longconv.cuda.GpuTestSupport.upload;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device memory, streams, events and the kernels library on a real GPU; skipped without one. */
class DeviceBufferGpuTest {
    private static final long SEED = Long.getLong("longconv.test.seed", System.nanoTime());

    @BeforeEach
    void needGpu() {
        GpuTestSupport.assumeGpu();
    }

    @Test
    void devicesAreDescribed() {
        assertFalse(Cuda.devices().isEmpty());
        for (DeviceInfo d : Cuda.devices()) {
            assertFalse(d.name().isBlank(), d.toString());
            assertTrue(d.ccMajor() >= 5 && d.ccMinor() >= 0, d.toString());
            assertTrue(d.totalMemoryBytes() > 0, d.toString());
        }
        MemInfo m = MemInfo.current();
        long total = Cuda.devices().get(Cuda.currentDevice()).totalMemoryBytes();
        assertTrue(m.freeBytes() > 0 && m.freeBytes() <= m.totalBytes(), m.toString());
        assertTrue(Math.abs(m.totalBytes() - total) <= total / 100, m + " vs cudaDeviceProp.totalGlobalMem " + total);
    }

    @Test
    void synchronousRoundTripIsExact() {
        Random r = new Random(SEED);
        for (int n : new int[] {1, 7, 1009, (1 << 20) + 3}) {
            float[] x = randomFloats(r, n);
            try (DeviceBuffer d = upload(x)) {
                assertEquals(4L * n, d.size());
                assertArrayEquals(x, downloadFloats(d, n), "n=" + n + " seed=" + SEED);
            }
        }
    }

    @Test
    void asyncRoundTripAtOffsetsOnAStream() {
        Random r = new Random(SEED);
        int n = 4099, off = 13;
        float[] x = randomFloats(r, n);
        try (Arena a = Arena.ofConfined(); CudaStream s = CudaStream.createNonBlocking(); DeviceBuffer d = DeviceBuffer.allocate(4L * (n + off))) {
            MemorySegment src = a.allocateFrom(JAVA_FLOAT, x), dst = a.allocate(JAVA_FLOAT, n);
            d.memsetAsync(0, 0, d.size(), s);
            d.copyFromAsync(src, 4L * off, s);
            d.copyToAsync(dst, 4L * off, s);
            s.synchronize();
            assertArrayEquals(x, dst.toArray(JAVA_FLOAT), "seed=" + SEED);
            MemorySegment head = a.allocate(JAVA_FLOAT, off);
            d.copyTo(head);
            assertArrayEquals(new float[off], head.toArray(JAVA_FLOAT), "the bytes before the offset stay zero");
        }
    }

    @Test
    void memsetAndDeviceToDeviceCopy() {
        try (Arena a = Arena.ofConfined(); CudaStream s = CudaStream.create(); DeviceBuffer d = DeviceBuffer.allocate(1000);
             DeviceBuffer e = DeviceBuffer.allocate(1000)) {
            d.memset(0x3f);
            e.memset(0);
            e.copyFromAsync(d, 100, 200, 300, s);
            e.memsetAsync(0x7a, 900, 100, s);
            s.synchronize();
            MemorySegment h = a.allocate(1000);
            e.copyTo(h);
            for (int i = 0; i < 1000; i++) {
                int want = i >= 200 && i < 500 ? 0x3f : i >= 900 ? 0x7a : 0;
                assertEquals(want, h.get(JAVA_BYTE, i) & 0xff, "byte " + i);
            }
        }
    }

    @Test
    void outOfRangeCopiesAreRefusedBeforeTheCall() {
        try (Arena a = Arena.ofConfined(); DeviceBuffer d = DeviceBuffer.allocate(64)) {
            var e = assertThrows(IllegalArgumentException.class, () -> d.copyFrom(a.allocate(65)));
            assertEquals("DeviceBuffer.copyFrom: offset + bytes must be <= 64 with both >= 0, got offset 0 and bytes 65", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> d.copyTo(a.allocate(8), 60));
            assertThrows(IllegalArgumentException.class, () -> d.copyFrom(MemorySegment.ofArray(new float[4])));
            assertThrows(IllegalArgumentException.class, () -> d.pointer(65));
            d.close();
            d.close();
            assertThrows(IllegalStateException.class, () -> d.copyFrom(a.allocate(8)));
        }
    }

    @Test
    void thousandAllocationsLeakNothing() {
        try (DeviceBuffer warm = DeviceBuffer.allocate(1 << 20)) {
            warm.memset(0); // the context and allocator are set up before the first measurement
        }
        MemInfo before = MemInfo.current();
        for (int i = 0; i < 1000; i++) {
            try (DeviceBuffer d = DeviceBuffer.allocate((1 << 20) + 4096L * (i % 7))) {
                if (i % 100 == 0) d.memset(i & 0xff);
            }
        }
        MemInfo after = MemInfo.current();
        // a leak of every buffer would be ~1 GB; allow the allocator a few MiB of bookkeeping
        long lost = before.freeBytes() - after.freeBytes();
        assertTrue(lost < 16L << 20, "free memory dropped by " + lost + " bytes over 1000 alloc/free: " + before + " -> " + after);
    }

    @Test
    void allocationBeyondFreeMemoryFailsAndTheRuntimeStaysUsable() {
        MemInfo m = MemInfo.current();
        CudaException e = assertThrows(CudaException.class, () -> DeviceBuffer.allocate(m.totalBytes() + (1L << 30)).close());
        assertEquals("cudaErrorMemoryAllocation", e.errorName());
        assertTrue(e.call().startsWith("cudaMalloc"), e.call());
        assertTrue(e.getMessage().contains("out of memory"), e.getMessage());
        assertNull(Cuda.takeLastError(), "the failed allocation left no sticky error");
        Random r = new Random(SEED);
        float[] x = randomFloats(r, 257);
        try (DeviceBuffer d = upload(x)) {
            assertArrayEquals(x, downloadFloats(d, x.length), "seed=" + SEED);
        }
    }

    @Test
    void eventsTimeWorkOnAStream() {
        try (CudaStream s = CudaStream.create(); CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create();
             DeviceBuffer d = DeviceBuffer.allocate(256L << 20)) {
            start.record(s);
            for (int i = 0; i < 4; i++) d.memsetAsync(i, 0, d.size(), s);
            end.record(s);
            float ms = end.elapsedMillisSince(start);
            assertTrue(ms > 0 && ms < 10_000, "elapsed " + ms + " ms");
        }
    }

    @Test
    void kernelsLibraryScalesOnTheDevice() {
        Random r = new Random(SEED);
        float alpha = -1.75f;
        for (int n : new int[] {1, 31, 1009, 1 << 16}) {
            float[] x = randomFloats(r, n);
            double[] want = new double[n];
            for (int i = 0; i < n; i++) want[i] = (double) alpha * x[i];
            try (CudaStream s = CudaStream.create(); DeviceBuffer dx = upload(x); DeviceBuffer dy = DeviceBuffer.allocate(4L * n)) {
                CudaException.check("longconv_scale_f32", kernels_h.longconv_scale_f32(dx.pointer(), dy.pointer(), n, alpha, s.handle()));
                s.synchronize();
                double err = relL2(want, downloadFloats(dy, n));
                assertTrue(err < 1e-7, "rel L2 " + err + " at n=" + n + " seed=" + SEED);
            }
        }
    }
}
