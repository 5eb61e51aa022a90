package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Check;

import java.util.Arrays;

/**
 * A long convolution to plan, described by sizes only (after FFTW's problem): which op, how many channels,
 * the input length, the kernel's tap count, the layout and the dtype. A backend's planner turns a problem
 * into a {@link ConvPlan} (choosing a path and an FFT size from the sizes alone) and then prepares the
 * kernel's tensor for it.
 *
 * @param kind     causal-conv (taps {@code Lk >= 1}, may exceed L) or toeplitz-conv (taps {@code 2L - 1})
 * @param channels D, the number of per-channel kernels
 * @param length   L, the input length the plan serves
 * @param taps     the kernel's tap count
 * @param layout   BDL or BLD, for the input and the kernel
 * @param dtype    the dtype of the kernel and of every input
 */
public record ConvProblem(Kind kind, int channels, int length, int taps, Layout layout, DType dtype) {
    /** The two long convolutions a plan can hold. */
    public enum Kind {
        /** y[t] = sum over s &lt;= min(t, Lk-1) of k[s] x[t-s]. */
        CAUSAL(Check.CAUSAL_CONV),
        /** y[t] = sum over s &lt; L of k[t-s+L-1] x[s]: lags -(L-1)..(L-1). */
        TOEPLITZ(Check.TOEPLITZ_CONV);

        private final String op;

        Kind(String op) {
            this.op = op;
        }

        /** The op's name in messages and on the command line. */
        public String op() {
            return op;
        }
    }

    /** Validates the sizes; every violation is a {@link LongConvException} naming the op. */
    public ConvProblem {
        if (kind == null) throw new LongConvException("conv-plan", "kind", "causal or toeplitz", "null");
        String op = kind.op();
        if (layout == null) throw new LongConvException(op, "layout", "BDL or BLD", "null");
        if (dtype == null) throw new LongConvException(op, "dtype", "float32 or float64", "null");
        if (channels < 0) throw new LongConvException(op, "channels", "D >= 0", "D=" + channels);
        if (length < 1) throw new LongConvException(op, "length", "L >= 1", "L=" + length);
        if (kind == Kind.CAUSAL && taps < 1) throw new LongConvException(op, "k", "Lk >= 1 taps", "Lk=" + taps);
        if (kind == Kind.TOEPLITZ && taps != 2L * length - 1) {
            throw new LongConvException(op, "k", "2L-1=" + (2L * length - 1) + " lags", taps + " lags");
        }
    }

    /** causal-conv of a [D, Lk] kernel over inputs of length L. */
    public static ConvProblem causal(int channels, int length, int taps, Layout layout, DType dtype) {
        return new ConvProblem(Kind.CAUSAL, channels, length, taps, layout, dtype);
    }

    /** toeplitz-conv of a [D, 2L-1] kernel over inputs of length L. */
    public static ConvProblem toeplitz(int channels, int length, Layout layout, DType dtype) {
        return new ConvProblem(Kind.TOEPLITZ, channels, length, 2 * length - 1, layout, dtype);
    }

    /**
     * The problem of kernel {@code k} (its shape and dtype) for inputs of length {@code length}: checks k as the
     * op would (rank 2, [D, taps] in BDL or [taps, D] in BLD, a live host tensor unless a device backend asks).
     */
    public static ConvProblem of(Kind kind, Tensor k, int length, Layout layout) {
        if (kind == null) throw new LongConvException("conv-plan", "kind", "causal or toeplitz", "null");
        if (length < 1) throw new LongConvException(kind.op(), "length", "L >= 1", "L=" + length);
        Check.KernelDims kd = Check.kernel(kind.op(), "k", k, layout,
                kind == Kind.TOEPLITZ ? "2L-1=" + (2L * length - 1) : "Lk>=1", kind == Kind.TOEPLITZ ? 2 * length - 1 : -1);
        return new ConvProblem(kind, kd.channels(), length, kd.taps(), layout, k.dtype());
    }

    /** Checks that {@code k} is this problem's kernel (shape in its layout, dtype); planners call it before preparing k. */
    public void checkKernel(Tensor k) {
        ConvProblem actual = of(kind, k, length, layout);
        if (!actual.equals(this)) {
            throw new LongConvException(op(), "k", dtype + Arrays.toString(kernelShape()) + " (" + layout + ", as the problem says)",
                    k.dtype() + Arrays.toString(k.shape()));
        }
    }

    /** The op's name ("causal-conv", "toeplitz-conv"). */
    public String op() {
        return kind.op();
    }

    /**
     * The index of output 0 in the full linear convolution of x with the kernel: 0 for causal-conv, L - 1 for
     * toeplitz-conv (whose kernel starts at lag -(L-1)).
     */
    public int firstOutput() {
        return kind == Kind.CAUSAL ? 0 : length - 1;
    }

    /** Taps that can reach an output: causal taps at lags >= L never do, so they cost nothing. */
    public int effectiveTaps() {
        return kind == Kind.CAUSAL ? Math.min(taps, length) : taps;
    }

    /**
     * The smallest circular-convolution size whose outputs [first, first + L) are free of wrap-around:
     * {@code max(L + taps - 1 - first, first + L)} over the effective taps.
     */
    public long aliasFreeSize() {
        int first = firstOutput();
        return Math.max((long) length + effectiveTaps() - 1 - first, (long) first + length);
    }

    /** The shape an input of {@code batch} rows has: [B, D, L] or [B, L, D]. */
    public long[] inputShape(long batch) {
        return layout.seqShape(batch, channels, length);
    }

    /** The kernel's shape: [D, taps] or [taps, D]. */
    public long[] kernelShape() {
        return layout.kernelShape(channels, taps);
    }
}
