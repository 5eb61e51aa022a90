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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** cuBLAS GEMMs against a float64 triple loop; skipped without a GPU. */
class BlasHandleGpuTest {
    private static final long SEED = Long.getLong("longconv.test.seed", System.nanoTime());
    private static final int[][] SHAPES = {{1, 1, 1}, {7, 5, 3}, {97, 31, 64}, {128, 257, 129}}; // m, n, k

    @BeforeEach
    void needGpuAndCublas() {
        GpuTestSupport.assumeGpu();
        assumeTrue(Cuda.CUBLAS.library().isPresent(), Cuda.CUBLAS.searched());
    }

    /** Row-major C = alpha A B + beta C0 in float64, from the definition. */
    private static double[] gemmRef(int m, int n, int k, double alpha, double[] a, double[] b, double beta, double[] c0) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = alpha * s + beta * c0[i * n + j];
            }
        }
        return c;
    }

    private static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    @Test
    void sgemmRowMajorMatchesTheHostLoop() {
        Random r = new Random(SEED);
        try (CudaStream s = CudaStream.create(); BlasHandle h = BlasHandle.create(s, BlasHandle.MathMode.PEDANTIC)) {
            for (int[] sh : SHAPES) {
                int m = sh[0], n = sh[1], k = sh[2];
                float[] a = randomFloats(r, m * k), b = randomFloats(r, k * n), c = randomFloats(r, m * n);
                try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = upload(c)) {
                    h.sgemmRowMajor(m, n, k, 1.5f, da, db, 0.5f, dc);
                    s.synchronize();
                    double err = relL2(gemmRef(m, n, k, 1.5, widen(a), widen(b), 0.5, widen(c)), downloadFloats(dc, m * n));
                    assertTrue(err < 1e-5, "sgemm rel L2 " + err + " m,n,k=" + m + "," + n + "," + k + " seed=" + SEED);
                }
            }
        }
    }

    @Test
    void columnMajorSgemmWithTransposedA() {
        Random r = new Random(SEED);
        int m = 13, n = 11, k = 17;
        // A stored column-major as k x m (lda k), used transposed; B column-major k x n (ldb k); C column-major m x n
        float[] at = randomFloats(r, k * m), b = randomFloats(r, k * n);
        double[] want = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double) at[i * k + p] * b[j * k + p];
                want[j * m + i] = sum;
            }
        }
        try (CudaStream s = CudaStream.create(); BlasHandle h = BlasHandle.create(s, BlasHandle.MathMode.PEDANTIC);
             DeviceBuffer da = upload(at); DeviceBuffer db = upload(b); DeviceBuffer dc = DeviceBuffer.allocate(4L * m * n)) {
            h.sgemm(BlasHandle.Op.T, BlasHandle.Op.N, m, n, k, 1f, da, k, db, k, 0f, dc, m);
            s.synchronize();
            double err = relL2(want, downloadFloats(dc, m * n));
            assertTrue(err < 1e-5, "sgemm(T, N) rel L2 " + err + " seed=" + SEED);
        }
    }

    @Test
    void stridedBatchedRowMajor() {
        Random r = new Random(SEED);
        int batch = 3, m = 9, n = 7, k = 5;
        float[] a = randomFloats(r, batch * m * k), b = randomFloats(r, batch * k * n), c = new float[batch * m * n];
        try (CudaStream s = CudaStream.create(); BlasHandle h = BlasHandle.create(s, BlasHandle.MathMode.PEDANTIC);
             DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = upload(c)) {
            h.sgemmStridedBatchedRowMajor(batch, m, n, k, 1f, da, db, 0f, dc);
            s.synchronize();
            float[] got = downloadFloats(dc, batch * m * n);
            for (int i = 0; i < batch; i++) {
                double[] ai = widen(java.util.Arrays.copyOfRange(a, i * m * k, (i + 1) * m * k));
                double[] bi = widen(java.util.Arrays.copyOfRange(b, i * k * n, (i + 1) * k * n));
                double[] want = gemmRef(m, n, k, 1, ai, bi, 0, new double[m * n]);
                double err = relL2(want, java.util.Arrays.copyOfRange(got, i * m * n, (i + 1) * m * n));
                assertTrue(err < 1e-5, "batch " + i + " rel L2 " + err + " seed=" + SEED);
            }
        }
    }

    @Test
    void dgemmRowMajorMatchesTheHostLoop() {
        Random r = new Random(SEED);
        try (CudaStream s = CudaStream.create(); BlasHandle h = BlasHandle.create(s, BlasHandle.MathMode.DEFAULT)) {
            for (int[] sh : SHAPES) {
                int m = sh[0], n = sh[1], k = sh[2];
                double[] a = randomDoubles(r, m * k), b = randomDoubles(r, k * n), c = randomDoubles(r, m * n);
                try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dc = upload(c)) {
                    h.dgemmRowMajor(m, n, k, -0.75, da, db, 2.0, dc);
                    s.synchronize();
                    double err = relL2(gemmRef(m, n, k, -0.75, a, b, 2.0, c), downloadDoubles(dc, m * n));
                    assertTrue(err < 1e-13, "dgemm rel L2 " + err + " m,n,k=" + m + "," + n + "," + k + " seed=" + SEED);
                }
            }
        }
    }
}
