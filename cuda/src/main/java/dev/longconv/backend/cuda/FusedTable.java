package dev.longconv.backend.cuda;

import dev.longconv.Layout;

import java.util.Set;

/**
 * Where {@link ConvPath#AUTO} (under {@link FusedMode#AUTO}) runs the fused kernel instead of the cuFFT pipeline:
 * the (layout, FFT size) pairs at which the fused kernel was measured faster.
 *
 * <p><b>Unmeasured:</b> the fused kernel has never run on a GPU (it was written and checked on a host emulator), so
 * {@link #MEASURED} is empty and AUTO means cuFFT everywhere. To fill it, run {@code bench/gpu/run-gpu.sh} on the
 * GPUs the library targets (A100 and H100/H200) and add an entry such as {@code new Key(Layout.BDL, 4096)} only
 * where GpuConvBench's {@code speedup_vs_cufft} is above 1 for every batch it timed (16 and 64) on each of them,
 * citing the run in bench/gpu/NOTES.md. Entries are records, so an entry and a lookup cannot disagree on a format.
 *
 * @param faster the pairs measured faster
 */
record FusedTable(Set<Key> faster) {
    /** One measured pair: the layout and the fused kernel's power-of-two FFT size. */
    record Key(Layout layout, int n) {}

    /** The measured table the backend uses. Empty until a GPU run fills it (see the class comment). */
    static final FusedTable MEASURED = new FusedTable(Set.of());

    FusedTable {
        faster = Set.copyOf(faster);
    }

    /** Whether the fused kernel was measured faster than cuFFT at FFT size {@code n} in {@code layout}. */
    boolean isFaster(int n, Layout layout) {
        return faster.contains(new Key(layout, n));
    }
}
