package dev.longconv.ops.spi;

import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Argument validation shared by the reference and every backend, so that all of them reject the same
 * inputs with the same one-line message (op, argument, expected, actual).
 */
public final class Check {
    public static final String CAUSAL_CONV = "causal-conv";
    public static final String TOEPLITZ_CONV = "toeplitz-conv";
    public static final String SHORT_CONV = "short-conv";
    public static final String SKI = "ski";
    public static final String CAUSAL_SPECTRUM = "causal-spectrum";
    public static final String RFFT = "rfft";
    public static final String IRFFT = "irfft";
    public static final String GEMM = "gemm";

    /** Sizes of a sequence op: batch, channels, length, and the kernel's second size (Lk, 2L-1, W or 2r-1). */
    public record SeqDims(int batch, int channels, int length, int taps) {}

    /** Sizes of a per-channel kernel: D channels of {@code taps} taps. */
    public record KernelDims(int channels, int taps) {}

    /** Sizes of gemm: C [m, n] = op(A) [m, k] . op(B) [k, n]. */
    public record GemmDims(int m, int n, int k) {}

    private Check() {}

    /**
     * Bound by {@link #onDevices} while a backend that runs on CUDA devices validates: tensors may then live
     * on any device, provided every argument shares x's. Elsewhere every tensor must be on the CPU, so the
     * host backends and the reference reject device tensors with the op's name instead of failing inside.
     */
    private static final ScopedValue<Boolean> DEVICES = ScopedValue.newInstance();

    /** Runs {@code check} accepting tensors on any one device (for the cuda backend). */
    public static <T> T onDevices(Supplier<T> check) {
        return ScopedValue.where(DEVICES, Boolean.TRUE).call(check::get);
    }

    public static SeqDims causalConv(Tensor x, Tensor k, Layout layout) {
        SeqDims s = sequence(CAUSAL_CONV, x, layout);
        int lk = kernel(CAUSAL_CONV, "k", k, x, layout, s.channels(), "Lk>=1", -1);
        return new SeqDims(s.batch(), s.channels(), s.length(), lk);
    }

    public static SeqDims gatedCausalConv(Tensor x, Tensor k, Tensor pre, Tensor post, Tensor skip, Layout layout) {
        SeqDims s = causalConv(x, k, layout);
        gates(CAUSAL_CONV, x, pre, post, skip, layout);
        return s;
    }

    /** pregate and postgate shaped like x, skip [D]; each may be null. */
    public static void gates(String op, Tensor x, Tensor pre, Tensor post, Tensor skip, Layout layout) {
        if (pre != null) sameAsX(op, "pregate", pre, x);
        if (post != null) sameAsX(op, "postgate", post, x);
        if (skip != null) {
            common(op, "skip", skip, x);
            int d = Seq.of(x, layout).channels();
            if (skip.rank() != 1 || skip.dim(0) != d) throw new LongConvException(op, "skip", "shape [D=" + d + "]", shape(skip));
        }
    }

    private static void sameAsX(String op, String arg, Tensor t, Tensor x) {
        common(op, arg, t, x);
        if (!t.sameShape(x)) throw new LongConvException(op, arg, "shape " + Arrays.toString(x.shape()) + " (as x)", shape(t));
    }

    public static SeqDims toeplitzConv(Tensor x, Tensor k, Layout layout) {
        SeqDims s = sequence(TOEPLITZ_CONV, x, layout);
        int n = 2 * s.length() - 1;
        kernel(TOEPLITZ_CONV, "k", k, x, layout, s.channels(), "2L-1=" + n, n);
        return new SeqDims(s.batch(), s.channels(), s.length(), n);
    }

    public static SeqDims shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        SeqDims s = sequence(SHORT_CONV, x, layout);
        int width = kernel(SHORT_CONV, "w", w, x, layout, s.channels(), "W>=1", -1);
        if (mode == ShortConvMode.SAME && width % 2 == 0) {
            throw new LongConvException(SHORT_CONV, "w", "an odd width W in mode same", "W=" + width);
        }
        if (bias != null) {
            common(SHORT_CONV, "bias", bias, x);
            if (bias.rank() != 1 || bias.dim(0) != s.channels()) {
                throw new LongConvException(SHORT_CONV, "bias", "shape [D=" + s.channels() + "]", shape(bias));
            }
        }
        return new SeqDims(s.batch(), s.channels(), s.length(), width);
    }

    public static SeqDims ski(Tensor x, Tensor kr, Layout layout) {
        SeqDims s = sequence(SKI, x, layout);
        int n = kernel(SKI, "kr", kr, x, layout, s.channels(), "2r-1 (odd, >=3)", -1);
        if (n < 3 || n % 2 == 0) {
            throw new LongConvException(SKI, "kr", "2r-1 lags with r>=2 (an odd count >= 3)", n + " lags in " + shape(kr));
        }
        return new SeqDims(s.batch(), s.channels(), s.length(), n);
    }

    /** Returns the number of channels D. */
    public static int causalSpectrum(Tensor re, int n) {
        cpu(CAUSAL_SPECTRUM, "re", re);
        if (n < 2 || n % 2 != 0) throw new LongConvException(CAUSAL_SPECTRUM, "n", "an even N >= 2", "N=" + n);
        int bins = n / 2 + 1;
        if (re.rank() != 2 || re.dim(1) != bins || re.dim(0) > Integer.MAX_VALUE) {
            throw new LongConvException(CAUSAL_SPECTRUM, "re", "shape [D, N/2+1=" + bins + "]", shape(re));
        }
        return Math.toIntExact(re.dim(0));
    }

    public static void rfft(Tensor x, int n) {
        cpu(RFFT, "x", x);
        if (x.rank() < 1) throw new LongConvException(RFFT, "x", "rank >= 1 ([..., L])", shape(x));
        if (n < 1) throw new LongConvException(RFFT, "n", "N >= 1", "N=" + n);
        if (x.dim(-1) < 1) throw new LongConvException(RFFT, "x", "a last dimension >= 1", shape(x));
        intDims(RFFT, "x", x);
    }

    public static void irfft(Tensor x, int n) {
        cpu(IRFFT, "x", x);
        if (x.rank() < 2 || x.dim(-1) != 2 || x.dim(-2) < 1) {
            throw new LongConvException(IRFFT, "x", "shape [..., bins>=1, 2] (re, im as the last axis)", shape(x));
        }
        if (n < 1) throw new LongConvException(IRFFT, "n", "N >= 1", "N=" + n);
        intDims(IRFFT, "x", x);
    }

    public static GemmDims gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        cpu(GEMM, "a", a);
        if (a.rank() != 2) throw new LongConvException(GEMM, "a", transA ? "shape [K, M]" : "shape [M, K]", shape(a));
        common(GEMM, "b", b, a);
        if (b.rank() != 2) throw new LongConvException(GEMM, "b", transB ? "shape [N, K]" : "shape [K, N]", shape(b));
        intDims(GEMM, "a", a);
        intDims(GEMM, "b", b);
        int m = Math.toIntExact(a.dim(transA ? 1 : 0)), k = Math.toIntExact(a.dim(transA ? 0 : 1));
        int kb = Math.toIntExact(b.dim(transB ? 1 : 0)), n = Math.toIntExact(b.dim(transB ? 0 : 1));
        if (k != kb) {
            String exp = transB ? "shape [N, K=" + k + "]" : "shape [K=" + k + ", N]";
            throw new LongConvException(GEMM, "b", exp + " to match a " + shape(a), shape(b));
        }
        return new GemmDims(m, n, k);
    }

    /** The output of gemmInto: a live, writable host tensor [M, N] of a's dtype, sharing no memory with a or b. */
    public static void gemmOutput(Tensor c, GemmDims g, Tensor a, Tensor b) {
        common(GEMM, "c", c, a);
        String want = "a writable " + a.dtype() + " [M=" + g.m() + ", N=" + g.n() + "]";
        if (c.rank() != 2 || c.dim(0) != g.m() || c.dim(1) != g.n() || c.storageSegment().isReadOnly()) {
            throw new LongConvException(GEMM, "c", want, shape(c));
        }
        if (Aliasing.overlaps(c, a) || Aliasing.overlaps(c, b)) {
            throw new LongConvException(GEMM, "c", "memory apart from a and b (gemm reads them while it writes c)", "a view overlapping " + (Aliasing.overlaps(c, a) ? "a" : "b"));
        }
    }

    /** The upstream gradient of a sequence op: x's shape and dtype. */
    public static void gradient(String op, Tensor gy, Tensor x) {
        sameAsX(op, "gy", gy, x);
    }

    /**
     * A per-channel kernel on its own (for plans, which see the kernel before any input): a live tensor (on the
     * host unless a device backend validates), rank 2 in the layout's orientation, {@code taps} taps ({@code taps
     * < 0} accepts any count >= 1; {@code tapsName} names the count in the message).
     */
    public static KernelDims kernel(String op, String arg, Tensor k, Layout layout, String tapsName, int taps) {
        cpu(op, arg, k);
        if (layout == null) throw new LongConvException(op, "layout", "BDL or BLD", "null");
        String exp = (layout == Layout.BDL ? "shape [D, " + tapsName + "]" : "shape [" + tapsName + ", D]") + " (" + layout + ")";
        if (k.rank() != 2) throw new LongConvException(op, arg, exp, shape(k));
        intDims(op, arg, k);
        ChannelKernel ck = ChannelKernel.of(k, layout);
        if (ck.taps() < 1 || (taps >= 0 && ck.taps() != taps)) throw new LongConvException(op, arg, exp, shape(k));
        return new KernelDims(ck.channels(), ck.taps());
    }

    // ---------------------------------------------------------------- pieces

    private static SeqDims sequence(String op, Tensor x, Layout layout) {
        cpu(op, "x", x);
        String names = layout == Layout.BDL ? "[B, D, L]" : "[B, L, D]";
        if (x.rank() != 3) throw new LongConvException(op, "x", "rank 3 " + names + " (" + layout + ")", shape(x));
        intDims(op, "x", x);
        Seq s = Seq.of(x, layout);
        if (s.length() < 1) throw new LongConvException(op, "x", names + " with L >= 1", shape(x));
        return new SeqDims(s.batch(), s.channels(), s.length(), 0);
    }

    /** Checks a per-channel kernel; returns its tap count. {@code taps < 0} accepts any count >= 1. */
    private static int kernel(String op, String arg, Tensor k, Tensor x, Layout layout, int d, String tapsName, int taps) {
        common(op, arg, k, x);
        String exp = (layout == Layout.BDL ? "shape [D=" + d + ", " + tapsName + "]" : "shape [" + tapsName + ", D=" + d + "]")
                + " (" + layout + ")";
        if (k.rank() != 2) throw new LongConvException(op, arg, exp, shape(k));
        ChannelKernel ck = ChannelKernel.of(k, layout);
        if (ck.channels() != d || ck.taps() < 1 || (taps >= 0 && ck.taps() != taps)) {
            throw new LongConvException(op, arg, exp, shape(k));
        }
        return ck.taps();
    }

    /** Every dimension below 2^31 (ops index along one dimension with ints; whole tensors may be larger). */
    public static void intDims(String op, String arg, Tensor t) {
        for (int i = 0; i < t.rank(); i++) {
            if (t.dim(i) > Integer.MAX_VALUE) throw new LongConvException(op, arg, "dimensions below 2^31", shape(t));
        }
    }

    private static void common(String op, String arg, Tensor t, Tensor x) {
        if (t == null) throw new LongConvException(op, arg, "a tensor", "null");
        cpu(op, arg, t);
        if (!t.device().equals(x.device())) throw new LongConvException(op, arg, "device " + x.device() + " (same as x)", t.device().toString());
        if (t.dtype() != x.dtype()) throw new LongConvException(op, arg, "dtype " + x.dtype() + " (same as x)", t.dtype().toString());
    }

    private static void cpu(String op, String arg, Tensor t) {
        if (t == null) throw new LongConvException(op, arg, "a tensor", "null");
        if (!t.isAlive()) throw new LongConvException(op, arg, "a live tensor", "a closed one");
        if (!t.device().equals(Device.CPU) && !DEVICES.orElse(Boolean.FALSE)) {
            throw new LongConvException(op, arg, "device cpu (this backend runs on the host)", t.device().toString());
        }
    }

    static String shape(Tensor t) {
        return t.dtype() + Arrays.toString(t.shape());
    }
}
