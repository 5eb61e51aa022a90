package dev.longconv.backend.cuda;

import dev.longconv.Layout;

import java.util.Set;

/**
 * Where {@link CudaBackend.ConvPath#AUTO} (under {@link CudaBackend.FusedMode#AUTO}) runs the fused kernel instead
 * of the cuFFT pipeline: the (layout, FFT size) pairs at which the fused kernel was measured faster.
 *
 * <p><b>Unmeasured:</b> the fused kernel has never run on a GPU (it was written and checked on a host emulator), so
 * the table is empty and AUTO means cuFFT everywhere. To fill it, run {@code bench/gpu/run-gpu.sh} on the GPUs the
 * library targets (A100 and H100/H200) and add a pair here only where GpuConvBench's {@code speedup_vs_cufft} is
 * above 1 for every batch it timed (16 and 64) on each of them, citing the run in bench/gpu/NOTES.md.
 */
final class FusedTable {
    private FusedTable() {}

    /** Measured pairs, as "BDL:4096". Empty until a GPU run fills it (see the class comment). */
    private static final Set<String> FASTER = Set.of();

    /** Whether the fused kernel was measured faster than cuFFT at FFT size {@code n} in {@code layout}. */
    static boolean faster(int n, Layout layout) {
        return FASTER.contains(layout + ":" + n);
    }
}
