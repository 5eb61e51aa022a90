package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.spi.Aliasing;
import dev.longconv.ops.spi.Check;
import dev.longconv.ops.spi.Plans;
import dev.longconv.simd.LaneGemm;
import dev.longconv.simd.NativeSegments;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Float32 C = op(A) op(B) through {@link LaneGemm} (packed panels, cache blocking, register-tiled FMA
 * micro-kernel). This class only turns the tensors into strided views (a transpose or a strided slice is a
 * change of strides, never a copy) and splits C across the {@link Parallel} pool: by blocks of rows when
 * there are enough rows for every thread, else by columns. Each part packs its own panels into its thread's
 * reused workspace, so a warm call allocates only the result tensor and a few small task objects ({@link #into}:
 * not even the result).
 */
final class VectorGemm {
    /**
     * Below this many multiply-adds (m n k) one thread does the whole product: a 128^3 product takes about 45 us on
     * one core (90 GFLOP/s), the same order as waking a pool thread and joining it, so splitting it cannot pay.
     * An estimate, not a measured crossover: two-thread GemmBench runs so far had no quiet second core.
     */
    static final long PARALLEL_MIN_MACS = 128L * 128 * 128;

    /**
     * The same bound while a pool worker is watching for the next call ({@link Parallel#workersWatching}): handing it
     * half costs no wake-up then. A layer's small GEMMs come right after other pool work (a TNO's RPE: [2047, 32] x
     * [32, 32], just under 128^3): splitting them took the small TNO forward's best call from 0.61-0.68 to 0.51-0.57
     * ms (both cores, best-of loop, alternating runs), and a 64^3 product from 10.4 to 8.4 us (GemmBench, workers
     * watching). After 2 ms idle, with every worker parked, splitting the [2047, 32] x [32, 32] product made its median
     * call 15% slower (131-138 against 150-163 us), so a cold call stays on one thread.
     */
    static final long WATCHED_MIN_MACS = 64L * 64 * 64;

    private static final LaneGemm GEMM = LaneGemm.forLanes();

    /** Products split across the pool so far, for the tests. */
    static final AtomicLong SPLITS = new AtomicLong();

    private VectorGemm() {}

    /** A new [m, n] float32 tensor holding op(A) op(B). */
    static Tensor multiply(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g) {
        Tensor out = Tensor.zeros(DType.FLOAT32, g.m(), g.n());
        try {
            run(a, b, transA, transB, g, null, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** op(A) op(B) written over c, a float32 [m, n] host tensor with unit column stride whose span does not overlap a's or b's. */
    static void into(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g, Tensor c) {
        into(a, b, transA, transB, g, null, c);
    }

    /** {@link #into} plus bias[j] added to column j of every row (null: none), inside the kernel ({@link LaneGemm}). */
    static void into(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g, float[] bias, Tensor c) {
        checkInto(a, b, g, bias, c);
        run(a, b, transA, transB, g, bias, c);
    }

    /**
     * c = A op(b) + bias with A the m rows of k floats at a[aOff..] back to back, which the kernel reads where they are
     * ({@link LaneGemm}'s array form), on the calling thread; same bits as {@link #into} on a tensor of those values.
     */
    static void rowsInto(float[] a, int aOff, int m, int k, Tensor b, boolean transB, float[] bias, Tensor c) {
        if (a == null || m < 0 || k < 0 || aOff < 0 || (long) aOff + (long) m * k > a.length) {
            throw new LongConvException(Check.GEMM, "a", "m=" + m + " rows of k=" + k + " floats from " + aOff + " in an array",
                    a == null ? "null" : "an array of " + a.length);
        }
        Tensor at = Tensor.wrap(MemorySegment.ofArray(a).asSlice(4L * aOff, 4L * m * k), DType.FLOAT32, m, k);
        Check.GemmDims g = Check.gemm(at, b, false, transB);
        checkInto(at, b, g, bias, c);
        if (!NativeSegments.allNative(b.storageSegment(), c.storageSegment(), null)) {
            run(at, b, false, transB, g, bias, c); // through native copies, as any heap operand
            return;
        }
        long bRow = b.stride(transB ? 1 : 0), bCol = b.stride(transB ? 0 : 1), ldc = m > 1 ? c.stride(0) : g.n();
        GEMM.multiply(m, g.n(), k, a, aOff, k, b.storageSegment(), b.offset(), bRow, bCol, bias, 0, c.storageSegment(), c.offset(), ldc);
    }

    /** c as {@link #into} writes it: a live float32 [m, n] host tensor, unit column stride, apart from a and b; bias of n floats or more. */
    private static void checkInto(Tensor a, Tensor b, Check.GemmDims g, float[] bias, Tensor c) {
        if (bias != null && bias.length < g.n()) {
            throw new LongConvException(Check.GEMM, "bias", "at least N=" + g.n() + " floats", bias.length + " floats");
        }
        if (c == null || !c.isAlive()) throw new LongConvException(Check.GEMM, "c", "a live tensor", c == null ? "null" : "a closed one");
        if (c.dtype() != DType.FLOAT32 || c.rank() != 2 || c.dim(0) != g.m() || c.dim(1) != g.n()) {
            throw new LongConvException(Check.GEMM, "c", "float32[" + g.m() + ", " + g.n() + "] (op(a) rows by op(b) columns)",
                    c.dtype() + java.util.Arrays.toString(c.shape()));
        }
        if (!c.device().equals(Device.CPU)) throw new LongConvException(Check.GEMM, "c", "device cpu (this backend runs on the host)", c.device().toString());
        if (g.n() > 1 && c.stride(1) != 1) {
            throw new LongConvException(Check.GEMM, "c", "unit stride along columns (rows may be strided)", "column stride " + c.stride(1));
        }
        if (Aliasing.overlaps(c, a) || Aliasing.overlaps(c, b)) {
            throw new LongConvException(Check.GEMM, "c", "memory apart from a and b (gemm reads them while it writes c)",
                    "a view overlapping " + (Aliasing.overlaps(c, a) ? "a" : "b"));
        }
    }

    private static void run(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g, float[] bias, Tensor out) {
        if (!NativeSegments.allNative(a.storageSegment(), b.storageSegment(), out.storageSegment())) {
            runOnNativeCopies(a, b, transA, transB, g, bias, out);
            return;
        }
        int m = g.m(), n = g.n(), k = g.k();
        MemorySegment as = a.storageSegment(), bs = b.storageSegment(), cs = out.storageSegment();
        // op(A)(i, p) = a[offset + i * aRow + p * aCol]; a transposed operand just swaps its strides
        long aRow = a.stride(transA ? 1 : 0), aCol = a.stride(transA ? 0 : 1);
        long bRow = b.stride(transB ? 1 : 0), bCol = b.stride(transB ? 0 : 1);
        long aOff = a.offset(), bOff = b.offset(), cOff = out.offset(), ldc = m > 1 ? out.stride(0) : n;
        int threads = Parallel.size();
        long macs = (long) m * n * k;
        boolean worth = macs >= PARALLEL_MIN_MACS || macs >= WATCHED_MIN_MACS && Parallel.workersWatching();
        // inside a pool task (a layer's rows split across threads) the pool is busy: a split here would run its parts
        // inline one after the other, each packing B again
        if (threads == 1 || !worth || Parallel.inTask() || !Parallel.anyThread(a, b, out, null, null)) {
            GEMM.multiply(m, n, k, as, aOff, aRow, aCol, bs, bOff, bRow, bCol, bias, 0, cs, cOff, ldc);
            return;
        }
        SPLITS.incrementAndGet();
        int mr = GEMM.tile().rows(), nr = GEMM.tile().columns();
        if (m >= threads * 4 * mr) {
            // rows: blocks of mc (each part then packs B once, as one thread would), or fewer rows so every thread has work
            int rows = Math.min(GEMM.rowBlock(), roundUp(ceilDiv(m, threads), mr));
            Parallel.forEach(ceilDiv(m, rows), t -> {
                int i0 = t * rows, mi = Math.min(rows, m - i0);
                GEMM.multiply(mi, n, k, as, aOff + i0 * aRow, aRow, aCol, bs, bOff, bRow, bCol, bias, 0, cs, cOff + i0 * ldc, ldc);
            });
        } else {
            int cols = roundUp(ceilDiv(n, threads), nr);
            Parallel.forEach(ceilDiv(n, cols), t -> {
                int j0 = t * cols, nj = Math.min(cols, n - j0);
                GEMM.multiply(m, nj, k, as, aOff, aRow, aCol, bs, bOff + j0 * bCol, bRow, bCol, bias, j0, cs, cOff + j0, ldc);
            });
        }
    }

    /**
     * A product with an operand or result over heap memory ({@code Tensor.wrap} of a heap segment): the kernel runs on
     * native copies ({@link NativeSegments} says why it takes native memory only), and the result is copied back. The
     * copies move O(m k + k n + m n) floats against the product's m n k multiply-adds.
     */
    private static void runOnNativeCopies(Tensor a, Tensor b, boolean transA, boolean transB, Check.GemmDims g, float[] bias, Tensor out) {
        Tensor na = null, nb = null;
        try (Tensor nc = Tensor.zeros(DType.FLOAT32, g.m(), g.n())) {
            na = NativeSegments.isNative(a.storageSegment()) ? a : a.copy();
            nb = NativeSegments.isNative(b.storageSegment()) ? b : b.copy();
            run(na, nb, transA, transB, g, bias, nc);
            Plans.copyInto(Check.GEMM, nc, out);
        } finally {
            if (na != null && na != a) na.close();
            if (nb != null && nb != b) nb.close();
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int to) {
        return ceilDiv(x, to) * to;
    }
}
