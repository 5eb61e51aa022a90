package dev.longconv.backend.vector;

import dev.longconv.Tensor;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;

import java.util.Arrays;

/** The direct-sum path of a {@link LanePlan}: each channel block's taps packed lane-major once. */
final class LaneDirectPlan extends LanePlan {
    /** Per block of W channels: the taps, [tap][lane]. */
    private final float[][] kTaps;

    LaneDirectPlan(ConvProblem problem, Tensor k) {
        super(problem);
        int w = Lanes.W, blocks = (channels + w - 1) / w;
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
        this.kTaps = new float[blocks][];
        for (int bl = 0; bl < blocks; bl++) {
            kTaps[bl] = new float[taps * w];
            LaneIO.gatherKernel(ck, bl * w, taps, kTaps[bl], taps);
            if (bl > 0 && Arrays.equals(kTaps[bl], kTaps[bl - 1])) kTaps[bl] = kTaps[bl - 1]; // one copy of a shared kernel
        }
    }

    @Override
    public Description describe() {
        return new Description("vector", "direct", 0);
    }

    @Override
    int scratchFloats(int buffer) {
        return (first + length) * Lanes.W;
    }

    @Override
    double flopsPerTask() {
        return 2.0 * (first + length) * taps * Lanes.W;
    }

    @Override
    int gatherCount() {
        return first + length;
    }

    @Override
    float[] convolve(float[][] s, int block, boolean measured) {
        LaneKernels.causalDirect(s[0], kTaps[block], taps, s[1], first + length);
        return s[1];
    }
}
