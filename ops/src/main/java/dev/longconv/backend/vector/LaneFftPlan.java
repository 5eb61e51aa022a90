package dev.longconv.backend.vector;

import dev.longconv.Tensor;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.Lanes;

/** The FFT path of a {@link LanePlan}: each channel block's kernel spectrum at size N, computed once. */
final class LaneFftPlan extends LanePlan {
    private final LaneFft fft;
    /** Per block of W channels: the kernel spectrum in the transform's order. */
    private final float[][] kRe, kIm;

    LaneFftPlan(ConvProblem problem, Tensor k, int n) {
        super(problem);
        int w = Lanes.W, blocks = (channels + w - 1) / w;
        this.fft = LaneFft.of(n);
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
        this.kRe = new float[blocks][];
        this.kIm = new float[blocks][];
        float[] buf = new float[n * w], fs = new float[fft.scratchFloats()];
        for (int bl = 0; bl < blocks; bl++) {
            LaneIO.gatherKernel(ck, bl * w, taps, buf, n);
            kRe[bl] = new float[fft.spectrumFloats()];
            kIm[bl] = new float[fft.spectrumFloats()];
            fft.convolutionSpectrum(buf, 0, kRe[bl], kIm[bl], fs);
        }
    }

    @Override
    public Description describe() {
        return new Description("vector", "fft", fft.size());
    }

    @Override
    int scratchFloats(int buffer) {
        return buffer == 0 ? (first + length) * Lanes.W : fft.scratchFloats();
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

    @Override
    float[] convolve(float[][] s, int block) {
        fft.convolve(s[0], 0, length, kRe[block], kIm[block], s[0], 0, first + length, s[1]);
        return s[0];
    }
}
