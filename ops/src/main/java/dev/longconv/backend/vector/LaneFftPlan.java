package dev.longconv.backend.vector;

import dev.longconv.Tensor;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.Lanes;

import java.util.Arrays;

/**
 * The FFT path of a {@link LanePlan}: each channel block's kernel spectrum at size N, computed once. The input's range
 * is checked per block before each transform ({@link LaneRange}): large inputs are scaled, a non-finite input sends
 * the block to the direct sum over the kept taps, so results follow the definition.
 */
final class LaneFftPlan extends LanePlan {
    private final LaneFft fft;
    /** Per block of W channels: the kernel's guarded spectrum; null in a single-use plan. */
    private final GuardedSpectrum[] spectra;
    /** A single-use plan's kernel, read by each block's task; null in a plan made to be kept. */
    private final ChannelKernel kernel;
    /**
     * Per thread, for single-use plans: a block's taps' lane maxima (W floats), its zero-padded taps, and its
     * spectrum's real and imaginary parts, grown to the largest seen (as {@link LanePlan}'s scratch).
     */
    private static final ThreadLocal<float[][]> SINGLE_USE = ThreadLocal.withInitial(() -> new float[4][0]);

    /**
     * A plan for the kernel {@code k} at FFT size n. A plan made to be kept computes every block's spectrum now; a
     * single-use plan ({@code singleUse}: an op's one call over one batch row, k readable from any thread and alive
     * until the call returns) computes each block's spectrum in the block's own task, into its thread's reused
     * buffers, right before convolving with it: no spectra kept (3.5 MB of heap per call for 256 channels at
     * L = 1024) and each spectrum still in cache when it is used.
     */
    LaneFftPlan(ConvProblem problem, Tensor k, int n, boolean singleUse) {
        super(problem);
        int w = Lanes.W, blocks = (channels + w - 1) / w;
        this.fft = LaneFft.of(n);
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
        if (singleUse) {
            this.kernel = ck;
            this.spectra = null;
            return;
        }
        this.kernel = null;
        this.spectra = new GuardedSpectrum[blocks];
        float[][] taps = new float[blocks][];
        int[] source = new int[blocks];
        int unique = 0;
        for (int bl = 0; bl < blocks; bl++) {
            taps[bl] = new float[this.taps * w];
            LaneIO.gatherKernel(ck, bl * w, this.taps, taps[bl], this.taps);
            // a kernel shared by every channel (STU's filters over D channels) gives equal blocks: one spectrum for all
            boolean repeat = bl > 0 && Arrays.equals(taps[bl - 1], taps[bl]);
            source[bl] = repeat ? source[bl - 1] : bl;
            if (!repeat) unique++;
        }
        // The blocks' spectra are independent: they go to the pool in as many runs of consecutive blocks as there are
        // threads, each with its own buffers (the spectra were a fifth of a warm TNO forward's time, all on one core).
        int runs = Math.max(1, Math.min(unique, Parallel.threads()));
        double flopsPerRun = 2.5 * n * (Math.log(n) / Math.log(2)) * w * unique / runs;
        Parallel.forEach(runs, flopsPerRun, run -> {
            float[] padded = new float[n * w], fs = new float[fft.scratchFloats()];
            for (int bl = run * blocks / runs, end = (run + 1) * blocks / runs; bl < end; bl++) {
                if (source[bl] == bl) spectra[bl] = new GuardedSpectrum(fft, taps[bl], 0, this.taps, padded, fs);
            }
        });
        for (int bl = 0; bl < blocks; bl++) if (source[bl] != bl) spectra[bl] = spectra[source[bl]];
    }

    @Override
    public Description describe() {
        return new Description("vector", "fft", fft.size());
    }

    @Override
    int scratchFloats(int buffer) {
        return buffer == 0 ? (first + length) * Lanes.W : Math.max(fft.scratchFloats(), (first + length) * Lanes.W);
    }

    /** A forward and an inverse real FFT (about 5 n log2 n flops together per lane) and the spectrum product. */
    @Override
    double flopsPerTask() {
        int n = fft.size();
        return (5.0 * n * (Math.log(n) / Math.log(2)) + 6.0 * n) * Lanes.W;
    }

    /** Only the L inputs are gathered: convolve reads the padding as zeros without it being written. */
    @Override
    int gatherCount() {
        return length;
    }

    /** The FFT's scratch is buffer 1; a block sent to the direct sum writes there too (the FFT then does not run). */
    @Override
    float[] convolve(float[][] s, int block, boolean measured) {
        GuardedSpectrum g = spectra != null ? spectra[block] : singleUseSpectrum(s[1], block);
        return g.convolve(s[0], length, first + length, s[1], s[1], s[5], s[6], s[7], measured);
    }

    /** The range check's lane maxima (s[5], as {@link #convolve} passes it). */
    @Override
    float[] inputRange(float[][] s) {
        return s[5];
    }

    /** Block {@code block}'s spectrum in this thread's single-use buffers; {@code scratch} is the FFT's (free until the convolve). */
    private GuardedSpectrum singleUseSpectrum(float[] scratch, int block) {
        int w = Lanes.W, n = fft.size();
        float[][] b = SINGLE_USE.get();
        if (b[0].length < w) b[0] = new float[w];
        if (b[1].length < n * w) b[1] = new float[n * w];
        if (b[2].length < fft.spectrumFloats()) b[2] = new float[fft.spectrumFloats()];
        if (b[3].length < fft.spectrumFloats()) b[3] = new float[fft.spectrumFloats()];
        // the taps straight into the zero-padded transform buffer, their range measured on the way (b[0])
        LaneIO.gatherKernel(kernel, block * w, taps, b[1], n, b[0]);
        return GuardedSpectrum.ofPadded(fft, b[1], taps, b[0], scratch, b[2], b[3]);
    }
}
