package dev.longconv.ops;

import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Aliasing;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Elementwise;
import dev.longconv.ops.spi.Plans;

/**
 * A long convolution with its kernel prepared once for a {@link ConvProblem} (on the vector backend: the
 * kernel spectra, or the packed taps for the direct path) and applied to any number of inputs of the planned
 * shape. Plans are immutable and safe to use from several threads. A plan may hold native memory (the cuda
 * backend keeps the kernel spectra on the GPU): close it when done.
 *
 * <p>Aliasing: the output y may be exactly x, the pregate or the postgate (the same view of the same memory); every
 * backend then reads what it needs before writing. Any other overlap of y with an input, and any overlap with skip,
 * is refused with a LongConvException.
 */
public interface ConvPlan extends AutoCloseable {
    /**
     * How a plan computes, for logs, benchmarks and tests (after FFTW's plans, which describe themselves).
     *
     * @param backend the backend's name
     * @param path    "fft", "direct" (on channel lanes), "direct-rows" (along time, BDL on the vector backend), "fused" (one GPU launch) or "per-call" (no prepared form: the op runs each apply)
     * @param fftSize the FFT size the plan transforms at, 0 where it does not transform
     */
    record Description(String backend, String path, int fftSize) {
        /** Whether the plan runs the fused single-pass kernel. */
        public boolean fused() {
            return path.equals("fused");
        }

        @Override
        public String toString() {
            return backend + " " + path + (fftSize > 0 ? " N=" + fftSize : "");
        }
    }

    /** The problem this plan was made for. */
    ConvProblem problem();

    /** Which path the plan takes and at which FFT size. */
    Description describe();

    /** y for input x ([B, D, L] or [B, L, D] as planned); a new tensor the caller owns. */
    default Tensor apply(Tensor x) {
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        try {
            applyInto(x, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /** Writes y for input x into {@code y} (same shape and dtype as x, any strides): no allocation per call. */
    void applyInto(Tensor x, Tensor y);

    /**
     * The gated form (see {@link Reference#gatedCausalConv}): y = post * conv(pre * x) + skip * x, with
     * pre and post shaped like x and skip [D]; any may be null. This default composes elementwise steps
     * around {@link #applyInto}; the vector backend fuses them into the convolution's gather and scatter.
     */
    default void applyGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, Layout layout) {
        Check.gates(problem().op(), x, pre, post, skip, layout);
        Plans.checkAliasing(problem().op(), y, x, pre, post, skip);
        // y may be x or post: keep what the epilogue still reads before the convolution overwrites it
        try (Tensor keepX = skip != null && Aliasing.same(y, x) ? x.copy() : null;
             Tensor keepPost = post != null && Aliasing.same(y, post) ? post.copy() : null;
             Tensor xin = pre == null ? null : Elementwise.product(x, pre)) {
            applyInto(xin == null ? x : xin, y);
            Elementwise.gateAndSkip(y, keepPost == null ? post : keepPost, skip, keepX == null ? x : keepX, layout);
        }
    }

    /** Frees what the plan holds (a no-op for plans on the Java heap). Idempotent. */
    @Override
    default void close() {}
}
