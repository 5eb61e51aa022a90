package dev.longconv.backend;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.ChannelKernel;
import dev.longconv.ops.Check;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Seq;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;

/**
 * A float32 long convolution on the vector backend, W channels at a time (one per lane). Output t
 * is element first + t of the full linear convolution of x with the kernel: first = 0 for
 * causal-conv, L - 1 for toeplitz-conv. The kernel is prepared once: its spectra at the smallest
 * fast FFT size that keeps the wanted outputs free of wrap-around, or its packed taps when the
 * direct sum costs less.
 */
final class LaneConvPlan implements ConvPlan {
    private final String op;
    private final Layout layout;
    private final int channels, length, taps, first, fftSize;
    private final LaneFft fft;
    /** Per block of W channels: the kernel spectrum (FFT path) or the packed taps (direct path). */
    private final float[][] kRe, kIm, kTaps;
    private final ThreadLocal<float[][]> scratch;
    /** Per thread, for the gated form: x lanes (for skip), a gate's lanes, skip lanes. */
    private final ThreadLocal<float[][]> gateScratch;

    /** How a plan convolves: by the cost model, or forced (benchmarks measure the crossover with the forced forms). */
    enum Path { AUTO, DIRECT, FFT }

    private LaneConvPlan(String op, Tensor k, int length, int taps, int first, Layout layout, Path path) {
        this.op = op;
        this.layout = layout;
        this.length = length;
        this.taps = taps;
        this.first = first;
        ChannelKernel ck = ChannelKernel.of(k, layout);
        this.channels = ck.channels();
        int w = Lanes.W, blocks = (channels + w - 1) / w;
        // Outputs [first, first + L) are alias-free when N >= L + taps - 1 - first and N >= first + L.
        int n = LaneFft.sizeFor(Math.max(length + taps - 1 - first, first + length));
        boolean direct = path == Path.AUTO ? directIsCheaper(first + length, taps, n) : path == Path.DIRECT;
        this.fftSize = direct ? 0 : n;
        this.fft = direct ? null : LaneFft.of(n);
        this.kRe = direct ? null : new float[blocks][];
        this.kIm = direct ? null : new float[blocks][];
        this.kTaps = direct ? new float[blocks][] : null;
        float[] buf = new float[(direct ? taps : n) * w];
        float[] fs = direct ? null : new float[fft.scratchFloats()];
        for (int bl = 0; bl < blocks; bl++) {
            LaneIO.gatherKernel(ck, bl * w, taps, buf, direct ? taps : n);
            if (direct) {
                kTaps[bl] = buf.clone();
            } else {
                kRe[bl] = new float[fft.spectrumFloats()];
                kIm[bl] = new float[fft.spectrumFloats()];
                fft.convolutionSpectrum(buf, 0, kRe[bl], kIm[bl], fs);
            }
        }
        int span = first + length;
        this.gateScratch = ThreadLocal.withInitial(
                () -> new float[][] {new float[length * w], new float[length * w], new float[w]});
        this.scratch = ThreadLocal.withInitial(() -> direct
                ? new float[][] {new float[span * w], new float[span * w]}
                : new float[][] {new float[span * w], new float[fft.scratchFloats()]});
    }

    /**
     * Direct when L * taps <= C * N log2 N. C is measured, not derived: ConvPathBench (B=1, D=64, float32,
     * one thread) forces both paths. On the AVX2 machine with the Stockham-only FFT the crossover was near
     * 40 taps at L=1024 and 48 at L=8192 (C = 3.6). On the AVX-512 machine with the four-step FFT
     * (2026-12-01, `ConvPathBench -p taps=32,48,64,96,128 -wi 3 -i 5`) direct still won at 48 taps for
     * L=1024 (278 vs 327 us) and tied at 48-64 taps for L=8192, FFT won from 64 and 96: C = 4.5 puts the
     * switch near 50 and 62 taps. The flop count alone (C of about 2.6) switches to the FFT too early.
     */
    static final double DIRECT_COST_RATIO = 4.5;

    static boolean directIsCheaper(int outputs, int taps, int n) {
        return (double) outputs * taps <= DIRECT_COST_RATIO * n * (Math.log(n) / Math.log(2));
    }

    /** causal-conv of kernel k ([D, Lk] or [Lk, D]) for inputs of length L; taps at lags >= L are dropped, as they reach no output. */
    static LaneConvPlan causal(Tensor k, int length, Layout layout) {
        return causal(k, length, layout, Path.AUTO);
    }

    static LaneConvPlan causal(Tensor k, int length, Layout layout, Path path) {
        int lk = ChannelKernel.of(k, layout).taps();
        return new LaneConvPlan("causal-conv", k, length, Math.min(lk, length), 0, layout, path);
    }

    /** toeplitz-conv of kernel k ([D, 2L-1] or [2L-1, D]) for inputs of length L. */
    static LaneConvPlan toeplitz(Tensor k, int length, Layout layout) {
        return new LaneConvPlan("toeplitz-conv", k, length, 2 * length - 1, length - 1, layout, Path.AUTO);
    }

    /** The FFT size used, or 0 for the direct path. */
    int fftSize() {
        return fftSize;
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        check(x);
        Plans.checkOutput(op, x, y);
        Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
        int blocks = (channels + Lanes.W - 1) / Lanes.W;
        Parallel.forEach(in.batch() * blocks, task -> run(in, out, task / blocks, task % blocks));
    }

    /** Gates fused into the pass: pre multiplies the gathered input, post and skip the convolved output before the scatter. */
    @Override
    public void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        if (layout != this.layout) throw new LongConvException(op, "layout", this.layout + " (as planned)", layout.toString());
        check(x);
        Plans.checkOutput(op, x, y);
        Check.gates(op, x, pre, post, skip, layout);
        Seq in = Seq.of(x, layout), out = Seq.of(y, layout);
        Seq ps = pre == null ? null : Seq.of(pre, layout), qs = post == null ? null : Seq.of(post, layout);
        int blocks = (channels + Lanes.W - 1) / Lanes.W;
        Parallel.forEach(in.batch() * blocks, task -> runGated(in, out, ps, qs, skip, task / blocks, task % blocks));
    }

    private void runGated(Seq in, Seq out, Seq pre, Seq post, Tensor skip, int b, int block) {
        float[][] s = scratch.get(), g = gateScratch.get();
        int d0 = block * Lanes.W, n = length * Lanes.W;
        float[] xl = g[0], gl = g[1], sk = g[2];
        LaneIO.gather(in, b, d0, s[0], fft == null ? first + length : length);
        System.arraycopy(s[0], 0, xl, 0, n);
        if (pre != null) {
            LaneIO.gather(pre, b, d0, gl, length);
            LaneKernels.multiply(s[0], gl, n);
        }
        float[] res;
        if (fft == null) {
            LaneKernels.causalDirect(s[0], kTaps[block], taps, s[1], first + length);
            res = s[1];
        } else {
            fft.convolve(s[0], 0, length, kRe[block], kIm[block], s[0], 0, first + length, s[1]);
            res = s[0];
        }
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


    private void run(Seq in, Seq out, int b, int block) {
        float[][] s = scratch.get();
        int d0 = block * Lanes.W;
        if (fft == null) {
            LaneIO.gather(in, b, d0, s[0], first + length);
            LaneKernels.causalDirect(s[0], kTaps[block], taps, s[1], first + length);
            LaneIO.scatter(s[1], first, out, b, d0);
        } else {
            // Only the L inputs are gathered: convolve reads the padding as zeros without it being written.
            LaneIO.gather(in, b, d0, s[0], length);
            fft.convolve(s[0], 0, length, kRe[block], kIm[block], s[0], 0, first + length, s[1]);
            LaneIO.scatter(s[0], first, out, b, d0);
        }
    }

    private void check(Tensor x) {
        if (x == null) throw new LongConvException(op, "x", expectedX(), "null");
        if (!x.isAlive()) throw new LongConvException(op, "x", "a live tensor", "a closed one");
        if (x.rank() != 3 || x.dtype() != DType.FLOAT32 || !x.device().equals(dev.longconv.Device.CPU)) {
            throw new LongConvException(op, "x", expectedX(), x.toString());
        }
        Seq s = Seq.of(x, layout);
        if (s.channels() != channels || s.length() != length) throw new LongConvException(op, "x", expectedX(), x.toString());
    }

    /** Built only on failure: a message per call would be most of a warm call's heap allocation. */
    private String expectedX() {
        String names = layout == Layout.BDL ? "[B, D, L]" : "[B, L, D]";
        return names + " with D=" + channels + ", L=" + length + " (" + layout + ", as planned), dtype float32";
    }
}
