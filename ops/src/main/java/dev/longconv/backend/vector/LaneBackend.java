package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.Grads;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Plans;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.SkiGrid;
import dev.longconv.simd.FftSizes;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The float32 half of the vector backend ({@link VectorBackend} routes float64 to the scalar backend): vector
 * kernels, W channels at a time (one per lane), on the shared thread pool; long convolutions through
 * {@link VectorPlanner}. rfft, irfft and causal-spectrum of sizes whose half is not 2^a 3^b 5^c go to the
 * scalar backend too (the lane FFT takes only those sizes), and so do long convolutions with fewer channels than lanes
 * whose lane buffers would be large ({@link VectorPlanner#lanesTooSparse}).
 */
final class LaneBackend implements Backend {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final int W = Lanes.W;
    /** For FFT sizes the lane FFT does not take, and for long convolutions with sparse lanes. */
    private final ScalarBackend scalar;

    LaneBackend(ScalarBackend scalar) {
        this.scalar = scalar;
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        ConvProblem p = ConvProblem.causal(s.channels(), s.length(), s.taps(), layout, DType.FLOAT32);
        if (VectorPlanner.lanesTooSparse(p)) return scalar.causalConv(x, k, layout);
        return VectorPlanner.plan(p, k, VectorBackend.Path.AUTO, singleUse(s, k)).apply(x);
    }

    @Override
    public void causalConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        Check.SeqDims s = Check.causalConv(x, k, layout);
        Plans.checkIntoOutput(Check.CAUSAL_CONV, x, k, y);
        ConvProblem p = ConvProblem.causal(s.channels(), s.length(), s.taps(), layout, DType.FLOAT32);
        if (VectorPlanner.lanesTooSparse(p)) scalar.causalConvInto(x, k, layout, y);
        else VectorPlanner.plan(p, k, VectorBackend.Path.AUTO, singleUse(s, k)).applyInto(x, y);
    }

    @Override
    public ConvPlan plan(ConvProblem problem, Tensor k) {
        problem.checkKernel(k);
        if (VectorPlanner.lanesTooSparse(problem)) return scalar.plan(problem, k);
        return VectorPlanner.plan(problem, k, VectorBackend.Path.AUTO);
    }

    @Override
    public Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        ConvProblem p = ConvProblem.toeplitz(s.channels(), s.length(), layout, DType.FLOAT32);
        if (VectorPlanner.lanesTooSparse(p)) return scalar.toeplitzConv(x, k, layout);
        return VectorPlanner.plan(p, k, VectorBackend.Path.AUTO, singleUse(s, k)).apply(x);
    }

    @Override
    public void toeplitzConvInto(Tensor x, Tensor k, Layout layout, Tensor y) {
        Check.SeqDims s = Check.toeplitzConv(x, k, layout);
        Plans.checkIntoOutput(Check.TOEPLITZ_CONV, x, k, y);
        ConvProblem p = ConvProblem.toeplitz(s.channels(), s.length(), layout, DType.FLOAT32);
        if (VectorPlanner.lanesTooSparse(p)) scalar.toeplitzConvInto(x, k, layout, y);
        else VectorPlanner.plan(p, k, VectorBackend.Path.AUTO, singleUse(s, k)).applyInto(x, y);
    }

    /**
     * Whether an op's plan serves one batch row only (each block's spectrum is then used once, so it is made in the
     * block's task and not kept) and its kernel may be read from the pool's threads.
     */
    private static boolean singleUse(Check.SeqDims s, Tensor k) {
        return s.batch() == 1 && Parallel.anyThread(k);
    }

    @Override
    public Tensor shortConv(Tensor x, Tensor wt, Tensor bias, ShortConvMode mode, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, wt, bias, mode, layout);
        LaneIO.requireSteps(Check.SHORT_CONV, "x", (long) s.length() + s.taps());
        int len = s.length(), width = s.taps(), blocks = (s.channels() + W - 1) / W;
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        ChannelKernel ck = ChannelKernel.of(wt, layout);
        float[][] packed = new float[blocks][], biases = new float[blocks][];
        for (int bl = 0; bl < blocks; bl++) {
            packed[bl] = new float[width * W];
            LaneIO.gatherKernel(ck, bl * W, width, packed[bl], width);
            if (bias != null) LaneIO.gatherVector(bias, bl * W, biases[bl] = new float[W]);
        }
        return perBlock(x, layout, s, (in, out, b, bl, buf) -> {
            LaneIO.gather(in, b, bl * W, buf[0], len);
            LaneKernels.shortConv(buf[0], len, packed[bl], width, shift, biases[bl], buf[1]);
            LaneIO.scatter(buf[1], 0, out, b, bl * W);
        }, len, 2.0 * len * width);
    }

    /**
     * float32: dx is a short-conv of gy with the taps reversed and the shift mirrored (W-1-shift); dw and
     * dbias are lane-parallel correlations. Work is split by channel block (each block loops over the batch)
     * so the weight gradients need no reduction across threads.
     */
    @Override
    public Grads shortConvBackward(Tensor x, Tensor wt, Tensor bias, ShortConvMode mode, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.shortConv(x, wt, bias, mode, layout);
        Check.gradient(Check.SHORT_CONV, gy, x);
        LaneIO.requireSteps(Check.SHORT_CONV, "x", (long) s.length() + s.taps());
        int len = s.length(), width = s.taps(), blocks = (s.channels() + W - 1) / W;
        int shift = mode == ShortConvMode.CAUSAL ? width - 1 : (width - 1) / 2;
        ChannelKernel ck = ChannelKernel.of(wt, layout);
        float[][] flipped = new float[blocks][width * W], dw = new float[blocks][width * W], db = new float[blocks][W];
        float[] zero = new float[W];
        for (int bl = 0; bl < blocks; bl++) {
            float[] packed = new float[width * W];
            LaneIO.gatherKernel(ck, bl * W, width, packed, width);
            for (int j = 0; j < width; j++) System.arraycopy(packed, (width - 1 - j) * W, flipped[bl], j * W, W);
        }
        Tensor dx = Tensor.zeros(DType.FLOAT32, x.shape());
        try {
            Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout), os = Seq.of(dx, layout);
            Parallel.forEach(blocks, 4.0 * s.batch() * len * width * W, Parallel.anyThread(x, gy, null, null, null), bl -> {
                float[][] buf = buffers(len * W);
                for (int b = 0; b < s.batch(); b++) {
                    LaneIO.gather(xs, b, bl * W, buf[0], len);
                    LaneIO.gather(gs, b, bl * W, buf[1], len);
                    LaneKernels.shortConv(buf[1], len, flipped[bl], width, width - 1 - shift, zero, buf[2]);
                    LaneIO.scatter(buf[2], 0, os, b, bl * W);
                    LaneKernels.shortConvWeightGrad(buf[0], buf[1], len, width, shift, dw[bl], bias == null ? null : db[bl]);
                }
            });
            return new Grads(dx, ChannelKernel.tensor(lanesToChannels(dw, s.channels(), width), width, DType.FLOAT32, layout),
                    bias == null ? null : ChannelKernel.channelVector(lanesToChannels(db, s.channels(), 1), DType.FLOAT32));
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
    }

    /**
     * float32: dx = W T^T W^T gy is the forward ski with kr reversed (so large r goes through the FFT too);
     * dkr[i - j + r - 1] = sum gv[i] u[j] with u = W^T x and gv = W^T gy, per channel block over the batch.
     */
    @Override
    public Grads skiBackward(Tensor x, Tensor kr, Tensor gy, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        Check.gradient(Check.SKI, gy, x);
        LaneIO.requireSteps(Check.SKI, "x", 2L * s.length() + 2L * s.taps());
        int len = s.length(), n = s.taps(), r = (n + 1) / 2, blocks = (s.channels() + W - 1) / W;
        Tensor dx;
        try (Tensor rev = reversedKernel(kr, layout, s.channels(), n)) {
            dx = ski(gy, rev, layout);
        }
        try {
            SkiGrid grid = SkiGrid.of(len, r);
            float[] frac = new float[len];
            for (int t = 0; t < len; t++) frac[t] = (float) grid.frac()[t];
            float[][] dk = new float[blocks][n * W];
            Seq xs = Seq.of(x, layout), gs = Seq.of(gy, layout);
            Parallel.forEach(blocks, (8.0 * len + 2.0 * r * r) * s.batch() * W, Parallel.anyThread(x, gy, null, null, null), bl -> {
                float[][] buf = buffers(Math.max(len, r) * W);
                for (int b = 0; b < s.batch(); b++) {
                    LaneIO.gather(xs, b, bl * W, buf[0], len);
                    LaneIO.gather(gs, b, bl * W, buf[1], len);
                    LaneKernels.skiProject(buf[0], len, grid.seg(), frac, r, buf[2]);
                    LaneKernels.skiProject(buf[1], len, grid.seg(), frac, r, buf[3]);
                    LaneKernels.skiKernelGrad(buf[3], buf[2], r, dk[bl]);
                }
            });
            return new Grads(dx, ChannelKernel.tensor(lanesToChannels(dk, s.channels(), n), n, DType.FLOAT32, layout), null);
        } catch (RuntimeException | Error e) {
            dx.close();
            throw e;
        }
    }

    /** kr with its lags reversed (T transposed), float32, in the layout's kernel orientation. */
    private static Tensor reversedKernel(Tensor kr, Layout layout, int d, int n) {
        ChannelKernel ck = ChannelKernel.of(kr, layout);
        Tensor rev = Tensor.zeros(DType.FLOAT32, layout.kernelShape(d, n));
        ChannelKernel rv = ChannelKernel.of(rev, layout);
        double[] row = new double[n];
        for (int c = 0; c < d; c++) {
            ck.read(c, row);
            for (int j = 0; j < n; j++) rev.setAt(c * rv.strideD() + (long) j * rv.strideN(), row[n - 1 - j]);
        }
        return rev;
    }

    /** Lane-packed per-block values [block][j * W + lane] as [channel][j]. */
    private static double[][] lanesToChannels(float[][] packed, int channels, int count) {
        double[][] out = new double[channels][count];
        for (int c = 0; c < channels; c++) for (int j = 0; j < count; j++) out[c][j] = packed[c / W][j * W + c % W];
        return out;
    }

    @Override
    public Tensor ski(Tensor x, Tensor kr, Layout layout) {
        Check.SeqDims s = Check.ski(x, kr, layout);
        LaneIO.requireSteps(Check.SKI, "x", 2L * s.length() + 2L * s.taps());
        int len = s.length(), r = (s.taps() + 1) / 2, blocks = (s.channels() + W - 1) / W;
        SkiGrid grid = SkiGrid.of(len, r);
        float[] frac = new float[len];
        for (int t = 0; t < len; t++) frac[t] = (float) grid.frac()[t];
        ChannelKernel ck = ChannelKernel.of(kr, layout);
        float[][] packed = new float[blocks][];
        for (int bl = 0; bl < blocks; bl++) LaneIO.gatherKernel(ck, bl * W, s.taps(), packed[bl] = new float[s.taps() * W], s.taps());
        if (r >= SKI_FFT_MIN_R) return skiByFft(x, layout, s, grid, frac, packed, r);
        int span = Math.max(len, 2 * r); // buf[2] holds u and v
        return perBlock(x, layout, s, (in, out, b, bl, buf) -> {
            LaneIO.gather(in, b, bl * W, buf[0], len);
            LaneKernels.ski(buf[0], len, grid.seg(), frac, packed[bl], r, buf[2], buf[3], buf[1]);
            LaneIO.scatter(buf[1], 0, out, b, bl * W);
        }, span, 8.0 * len + 2.0 * r * r);
    }

    /**
     * From this many inducing points on, ski applies T by FFT: v[i] = (kr * u)[i + r - 1], a linear
     * convolution read where no circular wrap reaches for any size >= 2r-1. Direct T costs 2r^2 flops per lane,
     * the FFT route about 5 n log2(n) + 3n with n ~ 2r: equal near r = 32, so the switch sits above that.
     */
    static final int SKI_FFT_MIN_R = 64;

    private Tensor skiByFft(Tensor x, Layout layout, Check.SeqDims s, SkiGrid grid, float[] frac, float[][] packed, int r) {
        int len = s.length(), taps = 2 * r - 1;
        LaneFft fft = LaneFft.of(LaneFft.sizeFor(taps));
        int n = fft.size();
        float[][] kRe = new float[packed.length][fft.spectrumFloats()], kIm = new float[packed.length][fft.spectrumFloats()];
        float[] padded = new float[n * W], scratch = new float[fft.scratchFloats()];
        for (int bl = 0; bl < packed.length; bl++) {
            Arrays.fill(padded, 0f);
            System.arraycopy(packed[bl], 0, padded, 0, taps * W);
            fft.convolutionSpectrum(padded, 0, kRe[bl], kIm[bl], scratch);
        }
        // buf[0]: x; buf[1]: y; buf[2]: u, then its convolution with kr (lags up to 2r-2 are all ski reads);
        // buf[3]: FFT scratch.
        int span = Math.max(len, Math.max(n, fft.scratchFloats() / W));
        return perBlock(x, layout, s, (in, out, b, bl, buf) -> {
            LaneIO.gather(in, b, bl * W, buf[0], len);
            LaneKernels.skiProject(buf[0], len, grid.seg(), frac, r, buf[2]);
            fft.convolve(buf[2], 0, r, kRe[bl], kIm[bl], buf[2], 0, taps, buf[3]);
            LaneKernels.skiExpand(buf[2], (r - 1) * W, len, grid.seg(), frac, buf[1]);
            LaneIO.scatter(buf[1], 0, out, b, bl * W);
        }, span, 8.0 * len + 5.0 * n * (Math.log(n) / Math.log(2)));
    }

    @Override
    public Tensor causalSpectrum(Tensor re, int n) {
        int d = Check.causalSpectrum(re, n);
        // Fewer channels than lanes leave most of every lane transform idle: `longconv demo` measured D = 2 at 5-6x the
        // scalar backend's time (N = 256 and 2048), so such spectra take the scalar path, as sparse convolutions do.
        if (d < W || !FftSizes.isFast(n / 2)) return scalar.causalSpectrum(re, n);
        LaneIO.requireSteps(Check.CAUSAL_SPECTRUM, "n", n);
        int bins = n / 2 + 1;
        LaneFft fft = LaneFft.of(n);
        return overRowBlocks(re, new long[] {d, bins, 2}, d, (src, dst, bl, lanes) -> {
            float[] sr = new float[fft.spectrumFloats()], si = new float[fft.spectrumFloats()], h = new float[n * W];
            float[] scratch = new float[fft.scratchFloats()];
            for (int l = 0; l < lanes; l++) {
                for (int f = 0; f < bins; f++) sr[f * W + l] = src.getAtIndex(F, (long) (bl * W + l) * bins + f);
            }
            fft.inverse(sr, si, h, 0, scratch);
            // Fold the negative-time half onto the positive: the causal sequence with this real spectrum.
            for (int t = 1; t < n / 2; t++) FloatVector.fromArray(SPECIES, h, t * W).mul(2f).intoArray(h, t * W);
            Arrays.fill(h, (n / 2 + 1) * W, n * W, 0f);
            fft.forward(h, 0, sr, si, scratch);
            writeBins(dst, sr, si, bl, lanes, bins);
        });
    }

    @Override
    public Tensor rfft(Tensor x, int n) {
        Check.rfft(x, n);
        if (n % 2 != 0 || !FftSizes.isFast(n / 2)) return scalar.rfft(x, n);
        LaneIO.requireSteps(Check.RFFT, "n", n);
        int m = Math.toIntExact(x.dim(-1)), bins = n / 2 + 1, copy = Math.min(m, n);
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length - 1] = bins;
        outShape[shape.length] = 2;
        long rows = x.numel() / m;
        LaneFft fft = LaneFft.of(n);
        return overRowBlocks(x, outShape, rows, (src, dst, bl, lanes) -> {
            float[] buf = new float[n * W], sr = new float[fft.spectrumFloats()], si = new float[fft.spectrumFloats()];
            float[] scratch = new float[fft.scratchFloats()];
            for (int l = 0; l < lanes; l++) {
                long r0 = ((long) bl * W + l) * m;
                for (int t = 0; t < copy; t++) buf[t * W + l] = src.getAtIndex(F, r0 + t);
            }
            fft.forward(buf, 0, sr, si, scratch);
            writeBins(dst, sr, si, bl, lanes, bins);
        });
    }

    @Override
    public Tensor irfft(Tensor x, int n) {
        Check.irfft(x, n);
        if (n % 2 != 0 || !FftSizes.isFast(n / 2)) return scalar.irfft(x, n);
        LaneIO.requireSteps(Check.IRFFT, "n", n);
        int m = Math.toIntExact(x.dim(-2)), bins = n / 2 + 1, copy = Math.min(m, bins);
        long[] shape = x.shape();
        long[] outShape = Arrays.copyOf(shape, shape.length - 1);
        outShape[outShape.length - 1] = n;
        long rows = x.numel() / (2L * m);
        LaneFft fft = LaneFft.of(n);
        return overRowBlocks(x, outShape, rows, (src, dst, bl, lanes) -> {
            float[] buf = new float[n * W], sr = new float[fft.spectrumFloats()], si = new float[fft.spectrumFloats()];
            float[] scratch = new float[fft.scratchFloats()];
            for (int l = 0; l < lanes; l++) {
                long r0 = ((long) bl * W + l) * m * 2;
                for (int f = 0; f < copy; f++) {
                    sr[f * W + l] = src.getAtIndex(F, r0 + 2L * f);
                    si[f * W + l] = src.getAtIndex(F, r0 + 2L * f + 1);
                }
            }
            fft.inverse(sr, si, buf, 0, scratch);
            for (int l = 0; l < lanes; l++) {
                long o = ((long) bl * W + l) * n;
                for (int t = 0; t < n; t++) dst.setAtIndex(F, o + t, buf[t * W + l]);
            }
        });
    }

    @Override
    public Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        return VectorGemm.multiply(a, b, transA, transB, g);
    }

    /** float32 gemm over a caller-owned c (see {@link VectorBackend#gemmInto}). */
    @Override
    public void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, Tensor c) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        VectorGemm.into(a, b, transA, transB, g, c);
    }

    /** gemmInto plus a bias per column (see {@link VectorBackend#gemmInto(Tensor, Tensor, boolean, boolean, float[], Tensor)}). */
    void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, float[] bias, Tensor c) {
        Check.GemmDims g = Check.gemm(a, b, transA, transB);
        if (a.dtype() != DType.FLOAT32) throw new LongConvException(Check.GEMM, "a", "float32 (the bias is added in the float32 kernel)", a.dtype().toString());
        VectorGemm.into(a, b, transA, transB, g, bias, c);
    }

    /** See {@link VectorBackend#gemmRowsInto}. */
    void gemmRowsInto(float[] a, int aOff, int m, int k, Tensor b, boolean transB, float[] bias, Tensor c) {
        VectorGemm.rowsInto(a, aOff, m, k, b, transB, bias, c);
    }

    // ---------------------------------------------------------------- plumbing

    /** Work on W rows of a float32 input at a time, rows in C order of its contiguous copy. */
    private interface RowBlock {
        void run(MemorySegment src, MemorySegment dst, int block, int lanes);
    }

    /** A new float32 tensor of outShape filled by body over blocks of W input rows, on the pool. */
    private static Tensor overRowBlocks(Tensor x, long[] outShape, long rows, RowBlock body) {
        Tensor out = Tensor.zeros(DType.FLOAT32, outShape);
        try (Tensor xc = x.contiguous()) {
            MemorySegment src = xc.segment(), dst = out.segment();
            int blocks = Math.toIntExact((rows + W - 1) / W);
            Parallel.forEach(blocks, 1e9, Parallel.anyThread(xc), bl -> body.run(src, dst, bl, (int) Math.min(W, rows - (long) bl * W)));
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** Bins of W lanes into rows [block*W + l] of a [rows, bins, 2] float32 segment. */
    private static void writeBins(MemorySegment dst, float[] sr, float[] si, int block, int lanes, int bins) {
        for (int l = 0; l < lanes; l++) {
            long o = ((long) block * W + l) * bins * 2;
            for (int f = 0; f < bins; f++) {
                dst.setAtIndex(F, o + 2L * f, sr[f * W + l]);
                dst.setAtIndex(F, o + 2L * f + 1, si[f * W + l]);
            }
        }
    }

    private interface BlockOp {
        void run(Seq in, Seq out, int b, int block, float[][] buf);
    }

    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[4][0]);

    /** This thread's four lane buffers, grown to at least {@code floats} each and then reused. */
    private static float[][] buffers(int floats) {
        float[][] b = BUFFERS.get();
        if (b[0].length < floats) for (int i = 0; i < 4; i++) b[i] = new float[floats];
        return b;
    }

    /**
     * Runs op on every (batch row, channel block) with four lane buffers of {@code span} elements; {@code flopsPerLane}
     * estimates one task's work per lane (for the choice between the pool and the caller's thread).
     */
    private Tensor perBlock(Tensor x, Layout layout, Check.SeqDims s, BlockOp op, int span, double flopsPerLane) {
        Tensor y = Tensor.zeros(DType.FLOAT32, x.shape());
        try {
            Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
            int blocks = (s.channels() + W - 1) / W;
            Parallel.forEach(s.batch() * blocks, flopsPerLane * W, Parallel.anyThread(x),
                    task -> op.run(in, out, task / blocks, task % blocks, buffers(span * W)));
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }
}
