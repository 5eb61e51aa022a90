package dev.longconv.backend.cuda;

import dev.longconv.cuda.Kernels;

/**
 * How a long convolution runs on the cuda backend. {@link #FUSED} and {@link #CUFFT} compute the same thing
 * (the composition in longconv_cuda.h); they differ in passes over device memory and in the FFT sizes they take.
 */
public enum ConvPath {
    /** The backend's choice under its {@link FusedMode} (by default the cuFFT pipeline: the fused kernel is unmeasured). */
    AUTO,
    /** pad, cuFFT R2C, spectrum product, cuFFT C2R, epilogue: five passes over device memory, any size. */
    CUFFT,
    /**
     * One launch per call (the FFT in shared memory): x read once, y written once. Power-of-two FFT sizes up to
     * {@link Kernels#FUSED_MAX_N} only, so L + Lk - 1 &lt;= 16384 (causal) or 2L - 1 &lt;= 16384 (toeplitz); a plan
     * asking for it where it does not apply throws.
     */
    FUSED
}
