package dev.longconv.cuda;

import dev.longconv.cuda.gen.cublas.cublas_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A cuBLAS handle bound to one stream: every GEMM it issues is queued there. cuBLAS is column-major; the
 * {@code *RowMajor} methods take row-major contiguous matrices and compute {@code C = alpha A B + beta C}
 * through the identity {@code C^T = B^T A^T}: a row-major matrix read as column-major is its transpose, so
 * they call the column-major GEMM with A and B swapped and m and n swapped, and copy nothing.
 *
 * <p>Every matrix argument is checked against its buffer's size from its leading dimension and shape, so a
 * GEMM never reads or writes outside the buffers. Scalars are passed by host pointer (cuBLAS's default
 * pointer mode), which cuBLAS reads before the call returns. Use from one thread at a time.
 */
public final class BlasHandle implements AutoCloseable {
    /** cuBLAS math modes: whether float32 GEMMs may use TF32 tensor cores. */
    public enum MathMode {
        /** CUBLAS_DEFAULT_MATH: float32 arithmetic (TF32 only when NVIDIA_TF32_OVERRIDE asks for it). */
        DEFAULT,
        /** CUBLAS_PEDANTIC_MATH: the prescribed precision in every step, never reduced. */
        PEDANTIC,
        /** CUBLAS_TF32_TENSOR_OP_MATH: float32 GEMMs on TF32 tensor cores (10-bit mantissa inputs). */
        TF32
    }

    /** Whether an operand is used as stored or transposed. */
    public enum Op { N, T }

    private final MemorySegment handle;
    private final CudaStream stream;
    private boolean closed;

    private BlasHandle(MemorySegment handle, CudaStream stream) {
        this.handle = handle;
        this.stream = stream;
    }

    /** A handle issuing work on {@code stream} in {@code mode}. IllegalStateException without CUDA or cuBLAS. */
    public static BlasHandle create(CudaStream stream, MathMode mode) {
        Cuda.CUBLAS.require("BlasHandle.create");
        Objects.requireNonNull(stream, "BlasHandle.create: stream must not be null");
        Objects.requireNonNull(mode, "BlasHandle.create: mode must not be null");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            CudaException.checkCublas("cublasCreate_v2", cublas_h.cublasCreate_v2(p));
            MemorySegment h = p.get(ADDRESS, 0);
            try {
                CudaException.checkCublas("cublasSetStream_v2", cublas_h.cublasSetStream_v2(h, stream.handle()));
                int m = switch (mode) {
                    case DEFAULT -> cublas_h.CUBLAS_DEFAULT_MATH();
                    case PEDANTIC -> cublas_h.CUBLAS_PEDANTIC_MATH();
                    case TF32 -> cublas_h.CUBLAS_TF32_TENSOR_OP_MATH();
                };
                CudaException.checkCublas("cublasSetMathMode", cublas_h.cublasSetMathMode(h, m));
            } catch (RuntimeException e) {
                cublas_h.cublasDestroy_v2(h);
                throw e;
            }
            return new BlasHandle(h, stream);
        }
    }

    /** The stream every call of this handle is queued on. */
    public CudaStream stream() {
        return stream;
    }

    /** Column-major {@code C[m,n] = alpha op(A) op(B) + beta C} in float32, as cublasSgemm. */
    public void sgemm(Op opA, Op opB, int m, int n, int k, float alpha, DeviceBuffer a, int lda, DeviceBuffer b, int ldb,
                      float beta, DeviceBuffer c, int ldc) {
        checkGemm("sgemm", 4, opA, opB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1);
        try (Arena arena = Arena.ofConfined()) {
            CudaException.checkCublas("cublasSgemm_v2", cublas_h.cublasSgemm_v2(handle, op(opA), op(opB), m, n, k,
                    arena.allocateFrom(JAVA_FLOAT, alpha), a.pointer(), lda, b.pointer(), ldb, arena.allocateFrom(JAVA_FLOAT, beta), c.pointer(), ldc));
        }
    }

    /**
     * As {@link #sgemm(Op, Op, int, int, int, float, DeviceBuffer, int, DeviceBuffer, int, float, DeviceBuffer, int)} with each
     * matrix starting at a byte offset into its buffer (tensor views), checked against what is left of the buffer.
     */
    public void sgemm(Op opA, Op opB, int m, int n, int k, float alpha, DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset,
                      int ldb, float beta, DeviceBuffer c, long cOffset, int ldc) {
        if (closed) throw new IllegalStateException("BlasHandle.sgemm: the handle is closed");
        checkShapes("sgemm", 4, opA, opB, m, n, k, rest("A", a, aOffset), lda, 0, rest("B", b, bOffset), ldb, 0, rest("C", c, cOffset), ldc, 0, 1);
        try (Arena arena = Arena.ofConfined()) {
            CudaException.checkCublas("cublasSgemm_v2", cublas_h.cublasSgemm_v2(handle, op(opA), op(opB), m, n, k,
                    arena.allocateFrom(JAVA_FLOAT, alpha), a.pointer(aOffset), lda, b.pointer(bOffset), ldb, arena.allocateFrom(JAVA_FLOAT, beta),
                    c.pointer(cOffset), ldc));
        }
    }

    private static long rest(String name, DeviceBuffer buf, long offset) {
        if (offset < 0 || offset > buf.size()) {
            throw new IllegalArgumentException("BlasHandle.sgemm: offset of " + name + " must be in [0, " + buf.size() + "], got " + offset);
        }
        return buf.size() - offset;
    }

    /** Row-major contiguous {@code C[m,n] = alpha A[m,k] B[k,n] + beta C} in float32. */
    public void sgemmRowMajor(int m, int n, int k, float alpha, DeviceBuffer a, DeviceBuffer b, float beta, DeviceBuffer c) {
        sgemm(Op.N, Op.N, n, m, k, alpha, b, Math.max(1, n), a, Math.max(1, k), beta, c, Math.max(1, n));
    }

    /**
     * Column-major batched {@code C_i = alpha op(A_i) op(B_i) + beta C_i} for {@code i < batch}, matrix i of each
     * operand starting {@code i * stride} floats in, as cublasSgemmStridedBatched.
     */
    public void sgemmStridedBatched(Op opA, Op opB, int m, int n, int k, float alpha, DeviceBuffer a, int lda, long strideA,
                                    DeviceBuffer b, int ldb, long strideB, float beta, DeviceBuffer c, int ldc, long strideC, int batch) {
        checkGemm("sgemmStridedBatched", 4, opA, opB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch);
        try (Arena arena = Arena.ofConfined()) {
            CudaException.checkCublas("cublasSgemmStridedBatched", cublas_h.cublasSgemmStridedBatched(handle, op(opA), op(opB), m, n, k,
                    arena.allocateFrom(JAVA_FLOAT, alpha), a.pointer(), lda, strideA, b.pointer(), ldb, strideB,
                    arena.allocateFrom(JAVA_FLOAT, beta), c.pointer(), ldc, strideC, batch));
        }
    }

    /** Row-major contiguous batches {@code C[i] (m x n) = alpha A[i] (m x k) B[i] (k x n) + beta C[i]}, packed back to back. */
    public void sgemmStridedBatchedRowMajor(int batch, int m, int n, int k, float alpha, DeviceBuffer a, DeviceBuffer b, float beta,
                                            DeviceBuffer c) {
        sgemmStridedBatched(Op.N, Op.N, n, m, k, alpha, b, Math.max(1, n), (long) k * n, a, Math.max(1, k), (long) m * k, beta, c,
                Math.max(1, n), (long) m * n, batch);
    }

    /** Column-major {@code C[m,n] = alpha op(A) op(B) + beta C} in float64, as cublasDgemm. */
    public void dgemm(Op opA, Op opB, int m, int n, int k, double alpha, DeviceBuffer a, int lda, DeviceBuffer b, int ldb,
                      double beta, DeviceBuffer c, int ldc) {
        checkGemm("dgemm", 8, opA, opB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1);
        try (Arena arena = Arena.ofConfined()) {
            CudaException.checkCublas("cublasDgemm_v2", cublas_h.cublasDgemm_v2(handle, op(opA), op(opB), m, n, k,
                    arena.allocateFrom(JAVA_DOUBLE, alpha), a.pointer(), lda, b.pointer(), ldb, arena.allocateFrom(JAVA_DOUBLE, beta), c.pointer(),
                    ldc));
        }
    }

    /** Row-major contiguous {@code C[m,n] = alpha A[m,k] B[k,n] + beta C} in float64. */
    public void dgemmRowMajor(int m, int n, int k, double alpha, DeviceBuffer a, DeviceBuffer b, double beta, DeviceBuffer c) {
        dgemm(Op.N, Op.N, n, m, k, alpha, b, Math.max(1, n), a, Math.max(1, k), beta, c, Math.max(1, n));
    }

    private int op(Op o) {
        return o == Op.N ? cublas_h.CUBLAS_OP_N() : cublas_h.CUBLAS_OP_T();
    }

    private void checkGemm(String fn, int elem, Op opA, Op opB, int m, int n, int k, DeviceBuffer a, int lda, long strideA,
                           DeviceBuffer b, int ldb, long strideB, DeviceBuffer c, int ldc, long strideC, int batch) {
        if (closed) throw new IllegalStateException("BlasHandle." + fn + ": the handle is closed");
        checkShapes(fn, elem, opA, opB, m, n, k, a.size(), lda, strideA, b.size(), ldb, strideB, c.size(), ldc, strideC, batch);
    }

    /** Argument checks of a (batched) GEMM against the operands' buffer sizes in bytes. */
    static void checkShapes(String fn, int elem, Op opA, Op opB, int m, int n, int k, long aBytes, int lda, long strideA,
                            long bBytes, int ldb, long strideB, long cBytes, int ldc, long strideC, int batch) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("BlasHandle." + fn + ": m, n, k must be >= 0, got " + m + ", " + n + ", " + k);
        }
        if (batch < 1) throw new IllegalArgumentException("BlasHandle." + fn + ": batch must be >= 1, got " + batch);
        checkOperand(fn, "A", elem, opA == Op.N ? m : k, opA == Op.N ? k : m, aBytes, lda, strideA, batch);
        checkOperand(fn, "B", elem, opB == Op.N ? k : n, opB == Op.N ? n : k, bBytes, ldb, strideB, batch);
        checkOperand(fn, "C", elem, m, n, cBytes, ldc, strideC, batch);
    }

    /** A column-major {@code rows x cols} matrix with leading dimension {@code ld}, {@code batch} of them {@code stride} apart. */
    private static void checkOperand(String fn, String name, int elem, int rows, int cols, long bytes, int ld, long stride, int batch) {
        if (ld < Math.max(1, rows)) {
            throw new IllegalArgumentException("BlasHandle." + fn + ": ld" + name + " must be >= " + Math.max(1, rows) + ", got " + ld);
        }
        if (stride < 0) throw new IllegalArgumentException("BlasHandle." + fn + ": stride" + name + " must be >= 0, got " + stride);
        long one = rows == 0 || cols == 0 ? 0 : (long) ld * (cols - 1) + rows;
        long need = (one == 0 ? 0 : (batch - 1) * stride + one) * elem;
        if (bytes < need) {
            throw new IllegalArgumentException("BlasHandle." + fn + ": " + name + " must hold >= " + need + " bytes, got " + bytes);
        }
    }

    /** Destroys the handle; later calls are no-ops. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CudaException.checkCublas("cublasDestroy_v2", cublas_h.cublasDestroy_v2(handle));
    }
}
