package dev.longconv.backend.cuda;

import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.cuda.Kernels;
import dev.longconv.ops.ConvProblem;

/**
 * Decides how a cuda long convolution runs, from the problem's sizes alone: the fused single-pass kernel or the
 * cuFFT pipeline, and the FFT size. A static function of (path, mode, table, sizes), so tests without a GPU check
 * where CUFFT, FUSED and AUTO end up. Host code only: it asks the kernels library, never the GPU.
 */
final class CudaPathChooser {
    private CudaPathChooser() {}

    /** The decision: the FFT size, and whether the fused kernel runs at it. */
    record Choice(int fftSize, boolean fused) {}

    /** The points a causal (L + Lk - 1) or toeplitz (2L - 1) convolution needs to be free of wrap-around. */
    static long need(ConvProblem p) {
        return p.kind() == ConvProblem.Kind.CAUSAL ? (long) p.length() + p.taps() - 1 : 2L * p.length() - 1;
    }

    static Choice choose(ConvProblem p, ConvPath path, FusedMode mode, FusedTable table) {
        long need = need(p);
        int fusedN = fusedSize(p.op(), path, mode, table, need, p.length(), p.taps(), p.layout());
        return fusedN > 0 ? new Choice(fusedN, true) : new Choice(CufftSizes.nextFastEven(need), false);
    }

    /** The fused kernel's FFT size for {@code need} points when {@code path} (AUTO: under {@code mode}) picks it, else 0 (cuFFT). */
    static int fusedSize(String op, ConvPath path, FusedMode mode, FusedTable table, long need, int length, int taps, Layout layout) {
        return switch (path) {
            case CUFFT -> 0;
            case FUSED -> requireFusedSize(op, need, length, taps, layout);
            case AUTO -> {
                int n = fusedFftSize(need, layout);
                boolean use = n > 0 && switch (mode) {
                    case ON -> true;
                    case OFF -> false;
                    case AUTO -> table.isFaster(n, layout);
                };
                yield use ? n : 0;
            }
        };
    }

    /**
     * The power-of-two FFT size the fused kernel would transform {@code need} points at, or 0 where it takes none
     * (the kernels library answers, without a GPU; IllegalStateException when it is not loaded).
     */
    static int fusedFftSize(long need, Layout layout) {
        if (need > Kernels.FUSED_MAX_N) return 0;
        int n = need <= 2 ? 2 : Integer.highestOneBit((int) need - 1) << 1;
        return Kernels.fusedConvSupported(n, CudaContext.code(layout)) ? n : 0;
    }

    /** {@link #fusedFftSize}, or the LongConvException for a FUSED request it cannot serve. */
    static int requireFusedSize(String op, long need, int length, int taps, Layout layout) {
        int n = fusedFftSize(need, layout);
        if (n == 0) {
            String sum = op.equals(ConvProblem.Kind.TOEPLITZ.op()) ? "2L - 1" : "L + Lk - 1";
            throw new LongConvException(op, "path",
                    "FUSED only where " + sum + " <= " + Kernels.FUSED_MAX_N + " (the fused kernel's largest FFT size; use CUFFT or AUTO)",
                    sum + " = " + need + " (L=" + length + ", Lk=" + taps + ", " + layout + ")");
        }
        return n;
    }
}
