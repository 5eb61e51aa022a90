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
    /** Per block of W channels: the kernel's guarded spectrum. */
    private final GuardedSpectrum[] spectra;

    LaneFftPlan(ConvProblem problem, Tensor k, int n) {
        super(problem);
        int w = Lanes.W, blocks = (channels + w - 1) / w;
        this.fft = LaneFft.of(n);
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
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
    float[] convolve(float[][] s, int block) {
        return spectra[block].convolve(s[0], length, first + length, s[1], s[1], s[5], s[6], s[7]);
    }
}
