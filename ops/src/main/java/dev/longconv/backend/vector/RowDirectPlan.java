package dev.longconv.backend.vector;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Plans;
import dev.longconv.ops.spi.Seq;
import dev.longconv.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The direct sum for rows along time (BDL): each (batch row, channel) convolved along time,
 * W outputs per vector, with the taps broadcast. Rows are copied in and out whole, so no W x W tile transposes and no
 * partly filled channel blocks: at serving shapes ([1, 20, 256], 8 taps) the lane plan spent most of its time in the
 * gather and scatter, and `ServingBench.causalConvPlanInto` compares the two. Used where {@link VectorPlanner} picks
 * the direct sum for such a layout; output t is element first + t of the full linear convolution, as in
 * {@link LanePlan}.
 */
final class RowDirectPlan implements ConvPlan {
    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final int W = Lanes.W;
    /** Outputs per register block: four vectors' accumulators hide the FMA latency. */
    private static final int BLOCK = 4 * W;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Per thread, grown to the largest plan seen: the padded input row, the raw x row (for skip), a gate row, the output row. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][0]);

    private final ConvProblem problem;
    private final int channels, length, taps, first, rowsOut;
    /** Per channel, taps in order (tap j multiplies x[t + first - j]). */
    private final float[][] kRows;

    RowDirectPlan(ConvProblem problem, Tensor k) {
        this.problem = problem;
        this.channels = problem.channels();
        this.length = problem.length();
        this.taps = problem.effectiveTaps();
        this.first = problem.firstOutput();
        this.rowsOut = (length + BLOCK - 1) / BLOCK * BLOCK;
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
        MemorySegment seg = ck.tensor().storageSegment();
        int stored = Math.min(taps, ck.taps());
        this.kRows = new float[channels][taps];
        for (int d = 0; d < channels; d++) {
            long base = ck.tensor().offset() + d * ck.strideD();
            for (int j = 0; j < stored; j++) kRows[d][j] = seg.get(F, (base + j * ck.strideN()) * 4);
        }
    }

    /** Whether {@code problem}'s layout keeps rows along time (BDL; a view with another time stride reads element-wise). */
    static boolean fits(ConvProblem problem) {
        return problem.layout() == Layout.BDL;
    }

    @Override
    public ConvProblem problem() {
        return problem;
    }

    @Override
    public Description describe() {
        return new Description("vector", "direct-rows", 0);
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        applyGatedInto(x, null, null, null, y, problem.layout());
    }

    @Override
    public void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        Plans.checkGatedCall(problem.op(), problem.layout(), channels, length, problem.dtype(), x, pre, post, skip, y, layout);
        Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
        Seq ps = pre == null ? null : Seq.of(pre, layout), qs = post == null ? null : Seq.of(post, layout);
        MemorySegment skipSeg = skip == null ? null : skip.storageSegment();
        long skipBase = skip == null ? 0 : skip.offset(), skipStride = skip == null ? 0 : skip.stride(0);
        Parallel.forEach(in.batch() * channels, 2.0 * length * taps, Parallel.anyThread(x, y, pre, post, skip), task -> {
            int b = task / channels, d = task % channels;
            float s = skipSeg == null ? 0f : skipSeg.get(F, (skipBase + d * skipStride) * 4);
            row(in, out, ps, qs, skipSeg != null, s, b, d);
        });
    }

    /**
     * Row (b, d): xp holds taps - 1 zeros, then pre * x, then zeros, so that output t is the dot product of the taps
     * with xp from t + first + taps - 1 backwards. Every input row is read whole before the output row is written,
     * which is what lets y be exactly x, pre or post.
     */
    private void row(Seq in, Seq out, Seq pre, Seq post, boolean hasSkip, float skip, int b, int d) {
        int lead = taps - 1, padded = lead + first + rowsOut + W;
        float[][] s = scratch(padded);
        float[] xp = s[0], xr = s[1], g = s[2], yr = s[3];
        java.util.Arrays.fill(xp, 0, lead, 0f);
        read(in, b, d, xp, lead);
        java.util.Arrays.fill(xp, lead + length, padded, 0f);
        if (hasSkip) System.arraycopy(xp, lead, xr, 0, length);
        if (pre != null) {
            read(pre, b, d, g, 0);
            multiply(xp, lead, g, length);
        }
        convolve(xp, kRows[d], yr);
        if (post != null) {
            read(post, b, d, g, 0);
            multiply(yr, 0, g, length);
        }
        if (hasSkip) {
            FloatVector sv = FloatVector.broadcast(SPECIES, skip);
            int t = 0;
            for (; t + W <= length; t += W) {
                FloatVector.fromArray(SPECIES, xr, t).fma(sv, FloatVector.fromArray(SPECIES, yr, t)).intoArray(yr, t);
            }
            for (; t < length; t++) yr[t] += skip * xr[t];
        }
        write(yr, out, b, d);
    }

    /** yr[t] for t < rowsOut: sum over taps j of k[j] * xp[t + first + taps - 1 - j]; four vectors of outputs at a time. */
    private void convolve(float[] xp, float[] k, float[] yr) {
        int base = first + taps - 1;
        for (int t = 0; t < rowsOut; t += BLOCK) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            int p = base + t;
            for (int j = 0; j < taps; j++, p--) {
                FloatVector kj = FloatVector.broadcast(SPECIES, k[j]);
                a0 = FloatVector.fromArray(SPECIES, xp, p).fma(kj, a0);
                a1 = FloatVector.fromArray(SPECIES, xp, p + W).fma(kj, a1);
                a2 = FloatVector.fromArray(SPECIES, xp, p + 2 * W).fma(kj, a2);
                a3 = FloatVector.fromArray(SPECIES, xp, p + 3 * W).fma(kj, a3);
            }
            a0.intoArray(yr, t);
            a1.intoArray(yr, t + W);
            a2.intoArray(yr, t + 2 * W);
            a3.intoArray(yr, t + 3 * W);
        }
    }

    /** Row (b, d) of s into dst[at..]: one bulk copy when the row is contiguous in time, else element by element. */
    private void read(Seq s, int b, int d, float[] dst, int at) {
        MemorySegment seg = s.tensor().storageSegment();
        long p = s.tensor().offset() + b * s.strideB() + d * s.strideD();
        if (s.strideL() == 1) {
            MemorySegment.copy(seg, F, p * 4, dst, at, length);
        } else {
            for (int t = 0; t < length; t++, p += s.strideL()) dst[at + t] = seg.get(F, p * 4);
        }
    }

    private void write(float[] src, Seq s, int b, int d) {
        MemorySegment seg = s.tensor().storageSegment();
        long p = s.tensor().offset() + b * s.strideB() + d * s.strideD();
        if (s.strideL() == 1) {
            MemorySegment.copy(src, 0, seg, F, p * 4, length);
        } else {
            for (int t = 0; t < length; t++, p += s.strideL()) seg.set(F, p * 4, src[t]);
        }
    }

    private static void multiply(float[] a, int from, float[] g, int n) {
        int i = 0;
        for (; i + W <= n; i += W) {
            FloatVector.fromArray(SPECIES, a, from + i).mul(FloatVector.fromArray(SPECIES, g, i)).intoArray(a, from + i);
        }
        for (; i < n; i++) a[from + i] *= g[i];
    }

    private float[][] scratch(int padded) {
        float[][] s = SCRATCH.get();
        if (s[0].length < padded) s[0] = new float[padded];
        if (s[1].length < length) s[1] = new float[length];
        if (s[2].length < length) s[2] = new float[length];
        if (s[3].length < rowsOut) s[3] = new float[rowsOut];
        return s;
    }
}
