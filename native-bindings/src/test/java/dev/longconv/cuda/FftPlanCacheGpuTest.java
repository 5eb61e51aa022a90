package dev.longconv.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.longconv.cuda.GpuTestSupport.downloadDoubles;
import static dev.longconv.cuda.GpuTestSupport.downloadFloats;
import static dev.longconv.cuda.GpuTestSupport.randomDoubles;
import static dev.longconv.cuda.GpuTestSupport.randomFloats;
import static dev.longconv.cuda.GpuTestSupport.relL2;
import static dev.longconv.cuda.GpuTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** cuFFT through the plan cache against a float64 DFT written from its definition; skipped without a GPU. */
class FftPlanCacheGpuTest {
    private static final long SEED = Long.getLong("longconv.test.seed", System.nanoTime());
    private static final int[] SIZES = {1, 2, 7, 97, 1000, 4096};

    @BeforeEach
    void needGpuAndCufft() {
        GpuTestSupport.assumeGpu();
        assumeTrue(Cuda.CUFFT.library().isPresent(), Cuda.CUFFT.searched());
    }

    /** X[k] = sum_t x[t] e^{-2 pi i t k / n} for k <= n/2, interleaved re, im, per batch. */
    private static double[] dftHalf(double[] x, int n, int batch) {
        int h = n / 2 + 1;
        double[] out = new double[2 * h * batch];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < h; k++) {
                double re = 0, im = 0;
                for (int t = 0; t < n; t++) {
                    double ang = -2 * Math.PI * ((long) t * k % n) / n;
                    re += x[b * n + t] * Math.cos(ang);
                    im += x[b * n + t] * Math.sin(ang);
                }
                out[2 * (b * h + k)] = re;
                out[2 * (b * h + k) + 1] = im;
            }
        }
        return out;
    }

    @Test
    void realForwardMatchesTheDftAndInverseRestoresTheInput() {
        Random r = new Random(SEED);
        try (CudaStream s = CudaStream.create(); FftPlanCache cache = new FftPlanCache(s)) {
            for (int n : SIZES) {
                for (int batch : new int[] {1, 3}) {
                    float[] x = randomFloats(r, n * batch);
                    double[] xd = new double[x.length];
                    for (int i = 0; i < x.length; i++) xd[i] = x[i];
                    int h = n / 2 + 1;
                    try (DeviceBuffer dx = upload(x); DeviceBuffer spec = DeviceBuffer.allocate(8L * h * batch);
                         DeviceBuffer back = DeviceBuffer.allocate(4L * n * batch)) {
                        cache.plan(n, batch, FftPlanCache.Type.R2C).execute(dx, spec);
                        s.synchronize();
                        double errF = relL2(dftHalf(xd, n, batch), downloadFloats(spec, 2 * h * batch));
                        assertTrue(errF < 1e-5, "R2C rel L2 " + errF + " n=" + n + " batch=" + batch + " seed=" + SEED);
                        cache.plan(n, batch, FftPlanCache.Type.C2R).execute(spec, back); // overwrites spec, as cuFFT documents
                        s.synchronize();
                        float[] y = downloadFloats(back, n * batch);
                        double[] scaled = new double[y.length];
                        for (int i = 0; i < y.length; i++) scaled[i] = y[i] / (double) n;
                        double errB = relL2(xd, scaled);
                        assertTrue(errB < 1e-5, "C2R(R2C(x))/n rel L2 " + errB + " n=" + n + " batch=" + batch + " seed=" + SEED);
                    }
                }
            }
        }
    }

    @Test
    void doublePrecisionForward() {
        Random r = new Random(SEED);
        try (CudaStream s = CudaStream.create(); FftPlanCache cache = new FftPlanCache(s)) {
            for (int n : SIZES) {
                double[] x = randomDoubles(r, 2 * n);
                int h = n / 2 + 1;
                try (DeviceBuffer dx = upload(x); DeviceBuffer spec = DeviceBuffer.allocate(16L * h * 2)) {
                    cache.plan(n, 2, FftPlanCache.Type.D2Z).execute(dx, spec);
                    s.synchronize();
                    double err = relL2(dftHalf(x, n, 2), downloadDoubles(spec, 4 * h));
                    assertTrue(err < 1e-12, "D2Z rel L2 " + err + " n=" + n + " seed=" + SEED);
                }
            }
        }
    }

    @Test
    void complexForwardAndInverse() {
        Random r = new Random(SEED);
        int n = 97;
        float[] z = randomFloats(r, 2 * n);
        double[] want = new double[2 * n];
        for (int k = 0; k < n; k++) {
            for (int t = 0; t < n; t++) {
                double ang = -2 * Math.PI * ((long) t * k % n) / n, c = Math.cos(ang), sn = Math.sin(ang);
                want[2 * k] += z[2 * t] * c - z[2 * t + 1] * sn;
                want[2 * k + 1] += z[2 * t] * sn + z[2 * t + 1] * c;
            }
        }
        try (CudaStream s = CudaStream.create(); FftPlanCache cache = new FftPlanCache(s); DeviceBuffer dz = upload(z);
             DeviceBuffer out = DeviceBuffer.allocate(8L * n)) {
            FftPlanCache.Plan p = cache.plan(n, 1, FftPlanCache.Type.C2C);
            p.executeC2C(dz, out, false);
            s.synchronize();
            double err = relL2(want, downloadFloats(out, 2 * n));
            assertTrue(err < 1e-5, "C2C rel L2 " + err + " seed=" + SEED);
            p.executeC2C(out, out, true); // in place
            s.synchronize();
            float[] back = downloadFloats(out, 2 * n);
            double[] zd = new double[2 * n], bd = new double[2 * n];
            for (int i = 0; i < 2 * n; i++) {
                zd[i] = z[i];
                bd[i] = back[i] / (double) n;
            }
            assertTrue(relL2(zd, bd) < 1e-5, "C2C inverse rel L2 " + relL2(zd, bd) + " seed=" + SEED);
            assertThrows(IllegalArgumentException.class, () -> p.execute(dz, out));
        }
    }

    @Test
    void plansAreCachedAndShareOneWorkArea() {
        try (CudaStream s = CudaStream.create(); FftPlanCache cache = new FftPlanCache(s)) {
            FftPlanCache.Plan a = cache.plan(1000, 4, FftPlanCache.Type.R2C);
            assertSame(a, cache.plan(1000, 4, FftPlanCache.Type.R2C));
            FftPlanCache.Plan b = cache.plan(4099, 8, FftPlanCache.Type.C2C);
            FftPlanCache.Plan c = cache.plan(1000, 4, FftPlanCache.Type.C2R);
            assertEquals(3, cache.size());
            int dev = Cuda.currentDevice();
            long need = Math.max(a.workSize(), Math.max(b.workSize(), c.workSize()));
            assertEquals(need, cache.workAreaBytes(dev), "one area, sized to the largest plan");
            try (DeviceBuffer small = DeviceBuffer.allocate(16); DeviceBuffer out = DeviceBuffer.allocate(8L * 501 * 4)) {
                var e = assertThrows(IllegalArgumentException.class, () -> a.execute(small, out));
                assertTrue(e.getMessage().contains("in must hold >= 16000 bytes from offset 0") && e.getMessage().contains("got 16 bytes"), e.getMessage());
            }
        }
    }
}
