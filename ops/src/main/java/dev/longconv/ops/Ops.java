package dev.longconv.ops;

import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;

/**
 * The ops on the process-wide backend ({@link Backends#selected()}). Definitions are in
 * {@link Reference}; results are new tensors the caller owns, with the input's dtype and layout.
 */
public final class Ops {
    private Ops() {}

    private static Backend backend() {
        return Backends.selected();
    }

    public static Tensor causalConv(Tensor x, Tensor k, Layout layout) {
        return backend().causalConv(x, k, layout);
    }

    public static Tensor toeplitzConv(Tensor x, Tensor k, Layout layout) {
        return backend().toeplitzConv(x, k, layout);
    }

    public static Tensor shortConv(Tensor x, Tensor w, Tensor bias, ShortConvMode mode, Layout layout) {
        return backend().shortConv(x, w, bias, mode, layout);
    }

    public static Tensor ski(Tensor x, Tensor kr, Layout layout) {
        return backend().ski(x, kr, layout);
    }

    public static Tensor causalSpectrum(Tensor re, int n) {
        return backend().causalSpectrum(re, n);
    }

    public static Tensor rfft(Tensor x, int n) {
        return backend().rfft(x, n);
    }

    public static Tensor irfft(Tensor x, int n) {
        return backend().irfft(x, n);
    }

    public static Tensor gemm(Tensor a, Tensor b, boolean transA, boolean transB) {
        return backend().gemm(a, b, transA, transB);
    }
}
