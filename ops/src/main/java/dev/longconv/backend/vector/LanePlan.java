package dev.longconv.backend.vector;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.Plans;
import dev.longconv.ops.spi.Seq;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;

/**
 * A float32 long convolution on the vector backend, W channels at a time (one per lane), made by
 * {@link VectorPlanner}: the kernel prepared once as packed taps ({@link LaneDirectPlan}) or as spectra
 * ({@link LaneFftPlan}). Output t is element first + t of the full linear convolution of x with the kernel
 * (first = 0 causal, L - 1 toeplitz). This class holds what both paths share: checks, the gather and
 * scatter over (batch row, channel block) tasks on the pool, and the gates fused into them.
 */
abstract sealed class LanePlan implements ConvPlan permits LaneDirectPlan, LaneFftPlan {
    final ConvProblem problem;
    final int channels, length, taps, first;
    /**
     * Per thread, shared by every plan and grown to the largest seen: the path's two buffers, then for the gated form
     * x lanes (for skip), a gate's lanes and skip lanes, then three lane vectors for the FFT's range check. Shared so that a plan made per op call allocates no scratch;
     * a thread runs one plan's task at a time.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[8][0]);

    LanePlan(ConvProblem problem) {
        this.problem = problem;
        this.channels = problem.channels();
        this.length = problem.length();
        this.taps = problem.effectiveTaps();
        this.first = problem.firstOutput();
    }

    /** Floats of this path's two buffers; buffer 0 receives the gathered input. */
    abstract int scratchFloats(int buffer);

    /** This thread's buffers, grown for this plan: [0] and [1] the path's, [2..4] the gated form's, [5..7] W floats for the FFT's range check. */
    private float[][] scratch() {
        float[][] s = SCRATCH.get();
        int w = Lanes.W;
        grow(s, 0, scratchFloats(0));
        grow(s, 1, scratchFloats(1));
        grow(s, 2, length * w);
        grow(s, 3, length * w);
        grow(s, 4, w);
        grow(s, 5, w);
        grow(s, 6, w);
        grow(s, 7, w);
        return s;
    }

    private static void grow(float[][] s, int i, int floats) {
        if (s[i].length < floats) s[i] = new float[floats];
    }

    /** Estimated flops of one (batch row, channel block) task, for the choice between the pool and the caller's thread. */
    abstract double flopsPerTask();

    /** How many time steps of input to gather into buffer 0 (the rest of it reads as zeros). */
    abstract int gatherCount();

    /**
     * Convolves the gathered lanes in {@code s[0]} with channel block {@code block}'s kernel; returns the buffer
     * that holds full-convolution output first + t at lane row first + t. Where {@code measured}, {@link #inputRange}
     * holds the input's range, measured as it was gathered.
     */
    abstract float[] convolve(float[][] s, int block, boolean measured);

    /**
     * Where this path measures the gathered input's range (the FFT's {@link LaneRange}), the W floats its gather fills
     * with each lane's largest |x| ({@link LaneIO#gather}); null for a path that reads no range.
     */
    float[] inputRange(float[][] s) {
        return null;
    }

    @Override
    public ConvProblem problem() {
        return problem;
    }

    private int blocks() {
        return (channels + Lanes.W - 1) / Lanes.W;
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        String op = problem.op();
        Plans.checkInput(op, x, problem.layout(), channels, length, problem.dtype());
        Plans.checkOutput(op, x, y);
        Plans.checkAliasing(op, y, x, null, null, null);
        Seq in = Seq.of(x, problem.layout()), out = Seq.of(y, problem.layout());
        int blocks = blocks();
        Parallel.forEach(in.batch() * blocks, flopsPerTask(), Parallel.anyThread(x, y, null, null, null), task -> run(in, out, task / blocks, task % blocks));
    }

    private void run(Seq in, Seq out, int b, int block) {
        float[][] s = scratch();
        int d0 = block * Lanes.W;
        float[] range = inputRange(s);
        LaneIO.gather(in, b, d0, s[0], gatherCount(), range);
        LaneIO.scatter(convolve(s, block, range != null), first, out, b, d0);
    }

    /** Gates fused into the pass: pre multiplies the gathered input, post and skip the convolved output before the scatter. */
    @Override
    public void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        Plans.checkGatedCall(problem.op(), problem.layout(), channels, length, problem.dtype(), x, pre, post, skip, y, layout);
        Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
        Seq ps = pre == null ? null : Seq.of(pre, layout), qs = post == null ? null : Seq.of(post, layout);
        int blocks = blocks();
        Parallel.forEach(in.batch() * blocks, flopsPerTask(), Parallel.anyThread(x, y, pre, post, skip),
                task -> runGated(in, out, ps, qs, skip, task / blocks, task % blocks));
    }

    private void runGated(Seq in, Seq out, Seq pre, Seq post, Tensor skip, int b, int block) {
        float[][] s = scratch();
        int d0 = block * Lanes.W, n = length * Lanes.W;
        float[] xl = s[2], gl = s[3], sk = s[4];
        LaneIO.gather(in, b, d0, s[0], gatherCount());
        System.arraycopy(s[0], 0, xl, 0, n);
        if (pre != null) {
            LaneIO.gather(pre, b, d0, gl, length);
            LaneKernels.multiply(s[0], gl, n);
        }
        float[] res = convolve(s, block, false); // the pre gate changed the input after its gather
        if (first != 0) System.arraycopy(res, first * Lanes.W, res, 0, n);
        if (post != null) {
            LaneIO.gather(post, b, d0, gl, length);
            LaneKernels.multiply(res, gl, n);
        }
        if (skip != null) {
            LaneIO.gatherVector(skip, d0, sk);
            LaneKernels.addScaled(res, xl, sk, length);
        }
        LaneIO.scatter(res, 0, out, b, d0);
    }
}
