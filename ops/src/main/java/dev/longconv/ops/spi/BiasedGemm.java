package dev.longconv.ops.spi;

import dev.longconv.Tensor;

/**
 * A backend that adds a Linear layer's bias inside its float32 GEMM: c = op(a) op(b) + bias, the bias added to each tile
 * of c in registers before the tile's last store, instead of in a pass of its own over c. The vector backend offers
 * it; a layer asks with {@code instanceof} and otherwise runs {@link dev.longconv.ops.Backend#gemmInto} and its own
 * bias pass. The two give the same bits: one float addition per element after the product.
 */
public interface BiasedGemm {
    /**
     * {@link dev.longconv.ops.Backend#gemmInto} on float32 tensors, then bias[j] added to column j of every row; bias
     * holds at least N floats (null: none) and is only read.
     */
    void gemmInto(Tensor a, Tensor b, boolean transA, boolean transB, float[] bias, Tensor c);

    /**
     * c = A op(b) + bias with A given as m rows of k floats back to back in an array from a[aOff], read where they
     * are: a layer that computes A itself (a norm before a Linear layer) writes it there, and the GEMM takes it without
     * the copy into its packing buffer that a tensor operand costs. Same bits as {@link #gemmInto} on a tensor holding
     * those values. Runs on the calling thread.
     */
    void gemmRowsInto(float[] a, int aOff, int m, int k, Tensor b, boolean transB, float[] bias, Tensor c);
}
