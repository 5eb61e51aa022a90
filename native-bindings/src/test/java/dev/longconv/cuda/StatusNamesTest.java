package dev.longconv.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuFFT and cuBLAS status codes become CudaExceptions that name the call and the code. */
class StatusNamesTest {

    @Test
    void cufftCodesAreNamedByTheirEnumerator() {
        CudaException.checkCufft("cufftExecR2C", 0);
        CudaException e = assertThrows(CudaException.class, () -> CudaException.checkCufft("cufftExecR2C", 5));
        assertEquals("cufftExecR2C", e.call());
        assertEquals(5, e.code());
        // with cuFFT loaded the name comes from the generated enum constants, without it a placeholder
        String expected = Cuda.CUFFT.library().isPresent() ? "CUFFT_INTERNAL_ERROR" : "cufftResult 5";
        assertEquals(expected, e.errorName());
        assertTrue(e.getMessage().startsWith("cufftExecR2C returned " + expected + " (5): "), e.getMessage());
    }

    @Test
    void cublasCodesAreNamedByCublas() {
        CudaException.checkCublas("cublasSgemm_v2", 0);
        CudaException e = assertThrows(CudaException.class, () -> CudaException.checkCublas("cublasSgemm_v2", 7));
        assertEquals(7, e.code());
        if (Cuda.CUBLAS.library().isPresent()) {
            assertEquals("CUBLAS_STATUS_INVALID_VALUE", e.errorName());
        } else {
            assertEquals("cublasStatus 7", e.errorName());
            assertEquals("(libcublas not loaded, no description)", e.errorString());
        }
    }

    @Test
    void fftTypeSizesFollowTheHalfSpectrum() {
        // R2C of n reals gives n/2+1 complex values; C2R the reverse; C2C n complex both ways
        for (int n : new int[] {1, 2, 7, 8, 97, 1000}) {
            int h = n / 2 + 1;
            assertEquals(4L * n, FftPlanCache.Type.R2C.inputBytes(n));
            assertEquals(8L * h, FftPlanCache.Type.R2C.outputBytes(n));
            assertEquals(8L * h, FftPlanCache.Type.C2R.inputBytes(n));
            assertEquals(4L * n, FftPlanCache.Type.C2R.outputBytes(n));
            assertEquals(8L * n, FftPlanCache.Type.C2C.inputBytes(n));
            assertEquals(8L * n, FftPlanCache.Type.C2C.outputBytes(n));
            assertEquals(8L * n, FftPlanCache.Type.D2Z.inputBytes(n));
            assertEquals(16L * h, FftPlanCache.Type.D2Z.outputBytes(n));
            assertEquals(16L * h, FftPlanCache.Type.Z2D.inputBytes(n));
            assertEquals(8L * n, FftPlanCache.Type.Z2D.outputBytes(n));
        }
    }

    @Test
    void gemmShapesAreCheckedAgainstBufferSizes() {
        BlasHandle.Op n = BlasHandle.Op.N, t = BlasHandle.Op.T;
        // A 3x4 (lda 3), B 4x5 (ldb 4), C 3x5 (ldc 3), float32: exactly enough
        BlasHandle.checkShapes("sgemm", 4, n, n, 3, 5, 4, 4 * 12, 3, 0, 4 * 20, 4, 0, 4 * 15, 3, 0, 1);
        var e = assertThrows(IllegalArgumentException.class,
                () -> BlasHandle.checkShapes("sgemm", 4, n, n, 3, 5, 4, 4 * 12 - 1, 3, 0, 4 * 20, 4, 0, 4 * 15, 3, 0, 1));
        assertEquals("BlasHandle.sgemm: A must hold >= 48 bytes, got 47", e.getMessage());
        // op(A) = A^T with A stored 4x3: lda must cover 4 rows
        e = assertThrows(IllegalArgumentException.class,
                () -> BlasHandle.checkShapes("sgemm", 4, t, n, 3, 5, 4, 4 * 12, 3, 0, 4 * 20, 4, 0, 4 * 15, 3, 0, 1));
        assertEquals("BlasHandle.sgemm: ldA must be >= 4, got 3", e.getMessage());
        // batched: the last matrix ends at (batch-1)*stride + ld*(cols-1) + rows elements
        BlasHandle.checkShapes("dgemm", 8, n, n, 2, 2, 2, 8 * (2 * 4 + 4), 2, 4, 8 * 12, 2, 4, 8 * 12, 2, 4, 3);
        e = assertThrows(IllegalArgumentException.class,
                () -> BlasHandle.checkShapes("dgemm", 8, n, n, 2, 2, 2, 8 * 11, 2, 4, 8 * 12, 2, 4, 8 * 12, 2, 4, 3));
        assertEquals("BlasHandle.dgemm: A must hold >= 96 bytes, got 88", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BlasHandle.checkShapes("sgemm", 4, n, n, -1, 2, 2, 0, 1, 0, 0, 2, 0, 0, 1, 0, 1));
        assertEquals("BlasHandle.sgemm: m, n, k must be >= 0, got -1, 2, 2", e.getMessage());
    }
}
