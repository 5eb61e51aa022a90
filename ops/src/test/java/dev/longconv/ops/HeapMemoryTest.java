package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.Simd;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.longconv.testing.HeapTensors.onHeap;

/**
 * Tensors over heap memory ({@code Tensor.wrap} of a heap segment) through every op of every backend, against the
 * float64 reference. The vector backend's lane loops take native segments only (see {@code NativeSegments}), so heap
 * tensors go through its element-wise gathers and scatters and its GEMM through native copies: this checks those
 * paths give the same answers. Lengths and channel counts reach the whole-vector and tile-transpose paths and their
 * tails at every width (16 lanes and up to three tiles), both layouts and dtypes. Seeded; failures name the case.
 */
class HeapMemoryTest {
    static final long SEED = Long.getLong("longconv.test.seed", 20261207L);

    @Test
    void opsOverHeapMemoryMatchTheReference() {
        int w = Simd.status().available() ? Lanes.W : 8;
        SplittableRandom rng = new SplittableRandom(SEED);
        for (Backend be : BackendTest.backends()) {
            for (int len : new int[] {1, w - 1, 3 * w + 5, 97}) {
                for (int channels : new int[] {w, 2 * w + 3}) {
                    for (DType dt : DType.values()) {
                        if (!BackendTest.runs(be, dt)) continue;
                        for (Layout lay : Layout.values()) {
                            long seed = rng.nextLong();
                            String what = BackendTest.label(be) + " seed=" + seed + " " + dt + " " + lay + " D=" + channels + " L=" + len + " (heap)";
                            check(be, lay, dt, seed, channels, len, what);
                        }
                    }
                }
            }
        }
    }

    private static void check(Backend be, Layout lay, DType dt, long seed, int channels, int len, String what) {
        try (Tensor xn = Tensor.random(dt, seed, lay.seqShape(2, channels, len));
             Tensor kn = Tensor.random(dt, seed ^ 1, lay.kernelShape(channels, len));
             Tensor tn = Tensor.random(dt, seed ^ 2, lay.kernelShape(channels, 2 * len - 1));
             Tensor wn = Tensor.random(dt, seed ^ 3, lay.kernelShape(channels, 3));
             Tensor bn = Tensor.random(dt, seed ^ 4, channels);
             Tensor rn = Tensor.random(dt, seed ^ 5, lay.kernelShape(channels, 9))) {
            Tensor x = onHeap(xn), k = onHeap(kn), t = onHeap(tn), sw = onHeap(wn), bias = onHeap(bn), kr = onHeap(rn);
            close(be.causalConv(x, k, lay), Reference.causalConv(xn, kn, lay), dt, "causal-conv " + what);
            close(be.toeplitzConv(x, t, lay), Reference.toeplitzConv(xn, tn, lay), dt, "toeplitz-conv " + what);
            close(be.shortConv(x, sw, bias, ShortConvMode.CAUSAL, lay), Reference.shortConv(xn, wn, bn, ShortConvMode.CAUSAL, lay), dt, "short-conv " + what);
            close(be.ski(x, kr, lay), Reference.ski(xn, rn, lay), dt, "ski " + what);
            try (Tensor bdl = Tensor.random(dt, seed ^ 8, 2, channels, len); Tensor spec = Tensor.random(dt, seed ^ 9, 2, channels, len / 2 + 1, 2)) {
                close(be.rfft(onHeap(bdl), len + 3), Reference.rfft(bdl, len + 3), dt, "rfft " + what);
                close(be.irfft(onHeap(spec), len), Reference.irfft(spec, len), dt, "irfft " + what);
            }
            // into a heap y, and in place over a heap x
            try (Tensor expected = Reference.causalConv(xn, kn, lay)) {
                Tensor y = onHeap(xn), inPlace = onHeap(xn);
                be.causalConvInto(x, k, lay, y);
                close(y, expected.copy(), dt, "causal-conv into a heap y " + what);
                be.causalConvInto(inPlace, k, lay, inPlace);
                close(inPlace, expected.copy(), dt, "causal-conv in place on the heap " + what);
            }
        }
        int m = len + 2, n = channels, kk = 1 + (int) Math.floorMod(seed, 40L);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                try (Tensor an = Tensor.random(dt, seed ^ 6, ta ? kk : m, ta ? m : kk); Tensor bn = Tensor.random(dt, seed ^ 7, tb ? n : kk, tb ? kk : n)) {
                    String g = "gemm ta=" + ta + " tb=" + tb + " " + what;
                    close(be.gemm(onHeap(an), onHeap(bn), ta, tb), Reference.gemm(an, bn, ta, tb), dt, g);
                    try (Tensor expected = Reference.gemm(an, bn, ta, tb)) {
                        Tensor c;
                        try (Tensor z = Tensor.zeros(dt, expected.shape())) {
                            c = onHeap(z); // filled with NaN below and overwritten: any element left unwritten would show
                        }
                        for (long i = 0; i < c.numel(); i++) c.setFlat(i, Double.NaN);
                        be.gemmInto(an, onHeap(bn), ta, tb, c);
                        close(c, expected.copy(), dt, "into a heap c, " + g);
                    }
                }
            }
        }
    }

    private static void close(Tensor actual, Tensor expected, DType dt, String what) {
        try (actual; expected) {
            Compare.assertClose(actual, expected, dt, what);
        }
    }
}
