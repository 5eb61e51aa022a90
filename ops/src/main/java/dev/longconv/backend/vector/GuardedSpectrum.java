package dev.longconv.backend.vector;

import dev.longconv.simd.LaneFft;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;

import java.util.Arrays;

/**
 * One channel block's kernel prepared for FFT convolution at size n, guarded by {@link LaneRange}: the spectrum of
 * the (normalized, where needed) taps, the factors that undo the normalization, and the taps as given for the direct
 * sum of inputs holding a non-finite value. Immutable; shared by threads (except one built on a thread's reused
 * buffers for a single use, see {@link LaneFftPlan}).
 */
final class GuardedSpectrum {
    private static final int W = Lanes.W;

    private final LaneFft fft;
    private final float[] re, im;
    /** The taps as given, [tap][lane], from tap {@code from}, {@code count} of them. */
    private final float[] taps;
    private final int from, count;
    private final double kMax;
    /** Per lane, the inverse of the kernel's normalization; null when it needed none. */
    private final float[] kInverse;

    /**
     * The spectrum of taps [from, from + count) of the lane-packed {@code taps} (kept, not copied) at {@code fft}'s size;
     * {@code padded} (n W floats) and {@code scratch} are work buffers.
     */
    GuardedSpectrum(LaneFft fft, float[] taps, int from, int count, float[] padded, float[] scratch) {
        this(fft, taps, from, count, padded, scratch, new float[fft.spectrumFloats()], new float[fft.spectrumFloats()]);
    }

    /**
     * As above, with the spectrum written into {@code re} and {@code im} (at least {@link LaneFft#spectrumFloats} each),
     * which it keeps: for a block convolved once, right after, from buffers its thread reuses.
     */
    GuardedSpectrum(LaneFft fft, float[] taps, int from, int count, float[] padded, float[] scratch, float[] re, float[] im) {
        this(fft, taps, from, count, pad(fft, taps, from, count, padded), null, scratch, re, im);
    }

    /**
     * For a block convolved once: the taps gathered straight into {@code padded} (n W floats, zero after the count
     * taps), kept as the taps, with their lane maxima {@code tapsMax} measured by the gather ({@link LaneIO#gatherKernel}):
     * no copy of the taps into a zeroed buffer and no pass to measure them. The spectrum goes to {@code re} and {@code im}.
     */
    static GuardedSpectrum ofPadded(LaneFft fft, float[] padded, int count, float[] tapsMax, float[] scratch, float[] re, float[] im) {
        return new GuardedSpectrum(fft, padded, 0, count, padded, tapsMax, scratch, re, im);
    }

    /** padded = taps [from, from + count) then zeros, n W floats. */
    private static float[] pad(LaneFft fft, float[] taps, int from, int count, float[] padded) {
        Arrays.fill(padded, 0, fft.size() * W, 0f);
        System.arraycopy(taps, from * W, padded, 0, count * W);
        return padded;
    }

    /** padded holds the taps and zeros; tapsMax their lane maxima, or null to measure them here. */
    private GuardedSpectrum(LaneFft fft, float[] taps, int from, int count, float[] padded, float[] tapsMax, float[] scratch, float[] re, float[] im) {
        this.fft = fft;
        this.from = from;
        this.count = count;
        int n = fft.size();
        float[] laneMax = tapsMax != null ? tapsMax : LaneRange.laneMax(padded, count), scale = LaneRange.kernelScale(laneMax, n);
        if (scale != null) {
            // the taps as given stay for the direct sum: a copy where they are the buffer about to be scaled
            if (taps == padded) taps = Arrays.copyOf(padded, count * W);
            LaneKernels.scaleLanes(padded, count, scale);
            kInverse = new float[W];
            for (int l = 0; l < W; l++) kInverse[l] = 1 / scale[l];
        } else {
            kInverse = null;
        }
        this.taps = taps;
        this.kMax = LaneRange.kernelMax(laneMax, scale); // of the taps as transformed (scaled where they are)
        this.re = re;
        this.im = im;
        fft.convolutionSpectrum(padded, 0, re, im, scratch);
    }

    LaneFft fft() {
        return fft;
    }

    /**
     * Outputs t < outCount of the linear convolution of the {@code inputs} lanes in {@code x} (zero beyond; x must hold
     * outCount steps of room) with these taps, as the definition gives them whatever x's range. Returns the buffer
     * holding them: x itself, or {@code direct} when a non-finite input sent the block to the direct sum.
     * {@code scratch} is the FFT's; {@code m}, {@code factor}, {@code inverse} are W floats each, m already holding the
     * inputs' lane maxima where {@code measured} (from {@link LaneIO#gather}).
     */
    float[] convolve(float[] x, int inputs, int outCount, float[] scratch, float[] direct, float[] m, float[] factor, float[] inverse, boolean measured) {
        switch (LaneRange.choose(x, inputs, kMax, fft.size(), m, factor, inverse, measured)) {
            case DIRECT -> {
                Arrays.fill(x, inputs * W, outCount * W, 0f);
                LaneKernels.causalDirect(x, taps, from, count, direct, outCount);
                return direct;
            }
            case SCALED -> {
                LaneKernels.scaleLanes(x, inputs, factor);
                if (kInverse != null) LaneKernels.multiply(inverse, kInverse, W);
                fft.convolve(x, 0, inputs, re, im, x, 0, outCount, scratch);
                LaneKernels.scaleLanes(x, outCount, inverse);
            }
            case PLAIN -> {
                fft.convolve(x, 0, inputs, re, im, x, 0, outCount, scratch);
                if (kInverse != null) LaneKernels.scaleLanes(x, outCount, kInverse);
            }
        }
        return x;
    }
}
