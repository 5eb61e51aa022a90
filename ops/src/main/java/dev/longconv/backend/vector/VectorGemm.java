package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Check;
import dev.longconv.simd.LaneGemm;

import java.lang.foreign.MemorySegment;

/**
 * Float32 C = op(A) op(B) through {@link LaneGemm} (packed panels, cache blocking, register-tiled FMA
 * micro-kernel). This class only turns the tensors into strided views (a transpose or a strided slice is a
 * change of strides, never a copy) and splits C across the {@link Parallel} pool: by blocks of rows when
 * there are enough rows for every thread, else by columns. Each part packs its own panels into its thread's
 * reused workspace, so a warm call allocates only the result tensor and a few small task objects.
 */
final class VectorGemm {
    /**
     * Below this many multiply-adds (m n k) one thread does the whole product: waking a pool thread and joining
     * it costs tens of microseconds, which a 128^3 product (about 45 us on one Zen 3 core) cannot win back.
     * GemmBench at 128^3 was no faster on two threads than on one.
     */
    static final long PARALLEL_MIN_MACS = 128L * 128 * 128;

    private static final LaneGemm GEMM = LaneGemm.forLanes();

    private VectorGemm() {}

    static Tensor multiply(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g) {
        int m = g.m(), n = g.n(), k = g.k();
        Tensor out = Tensor.zeros(DType.FLOAT32, m, n);
        try {
            MemorySegment as = a.storageSegment(), bs = b.storageSegment(), cs = out.segment();
            // op(A)(i, p) = a[offset + i * aRow + p * aCol]; a transposed operand just swaps its strides
            long aRow = a.stride(transA ? 1 : 0), aCol = a.stride(transA ? 0 : 1);
            long bRow = b.stride(transB ? 1 : 0), bCol = b.stride(transB ? 0 : 1);
            long aOff = a.offset(), bOff = b.offset();
            int threads = Parallel.size();
            if (threads == 1 || (long) m * n * k < PARALLEL_MIN_MACS) {
                GEMM.multiply(m, n, k, as, aOff, aRow, aCol, bs, bOff, bRow, bCol, cs, 0, n);
                return out;
            }
            int mr = GEMM.tile().rows(), nr = GEMM.tile().columns();
            if (m >= threads * 4 * mr) {
                // rows: blocks of mc (each part then packs B once, as one thread would), or fewer rows so every thread has work
                int rows = Math.min(GEMM.rowBlock(), roundUp(ceilDiv(m, threads), mr));
                Parallel.forEach(ceilDiv(m, rows), t -> {
                    int i0 = t * rows, mi = Math.min(rows, m - i0);
                    GEMM.multiply(mi, n, k, as, aOff + i0 * aRow, aRow, aCol, bs, bOff, bRow, bCol, cs, (long) i0 * n, n);
                });
            } else {
                int cols = roundUp(ceilDiv(n, threads), nr);
                Parallel.forEach(ceilDiv(n, cols), t -> {
                    int j0 = t * cols, nj = Math.min(cols, n - j0);
                    GEMM.multiply(m, nj, k, as, aOff, aRow, aCol, bs, bOff + j0 * bCol, bRow, bCol, cs, j0, n);
                });
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int to) {
        return ceilDiv(x, to) * to;
    }
}
