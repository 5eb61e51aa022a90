package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Float32 GEMM on lanes, C = A B with A [m, k], B [k, n] and C [m, n] given as strided views of memory
 * segments (a transposed operand is a view with its strides swapped, so no transpose is materialised).
 *
 * <p>Structure (after BLIS and OpenBLAS, with the roles of A and B swapped because C is row-major and the
 * vectors run along its rows): for each block of {@code mc} rows and each slice of {@code kc} along k, the
 * A block is packed row-major ({@code mc x kc}, resident in L2/L3); for each block of {@code nc} columns
 * the B block is packed into micro-panels of {@code kc x nr} ({@code kc x nc} resident in L2); then every
 * {@code mr}-row micro-panel of A (L1 resident) meets every micro-panel of B (streamed from L2) in the
 * register-tiled micro-kernel, which keeps the {@code mr x nr} tile of C in vector registers for the whole
 * kc loop: one broadcast of A and {@code nr / W} vector loads of B feed {@code nr / W} FMAs per row.
 *
 * <p>Packing buffers live in a per-thread {@link Workspace}, grown once to the largest block a thread has
 * needed and then reused, so a warm call allocates nothing on the heap.
 */
public final class LaneGemm {
    private static final VectorSpecies<Float> S = Lanes.FLOAT;
    private static final int W = Lanes.W;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Register tile of the micro-kernel: {@code rows} rows of C by {@code vectors} vectors of W lanes.
     * The accumulators take rows x vectors registers, plus {@code vectors} for B and one broadcast.
     */
    public enum Tile {
        /**
         * 12 accumulators + 2 B + 1 broadcast = 15 of the 16 registers of AVX2 (and of 128-bit SSE). Also the AVX-512
         * tile, although AVX-512's 32 registers would hold 6 x 4 vectors: a 6 x 4 kernel was 2-4% faster once compiled
         * by C2 (Zen 5, 512^3 and 2048^3, best calls), but it was too large for C1 ("out of virtual registers in LIR
         * generator"), and when a busy C2 queue had the JIT compile it at tier 2 first, the failed tier 3 compile left
         * it there for good, with every vector boxed: GEMM ran at 2-3 GFLOP/s instead of about 190, in 7 of 16 forks of
         * GemmBench.interleaved2t. A 6 x 4 kernel small enough for C1 (its tile stored through an array, or C loaded
         * before the loop) was slower than this one; so was 4 x 4. {@code CompileTiersTest} keeps the kernels within
         * C1's reach.
         */
        ROWS6_VECS2(6, 2);

        final int rows, vectors;

        Tile(int rows, int vectors) {
            this.rows = rows;
            this.vectors = vectors;
        }

        /** Rows of C per micro-kernel call. */
        public int rows() {
            return rows;
        }

        /** Columns of C per micro-kernel call: vectors x W. */
        public int columns() {
            return vectors * W;
        }
    }

    /**
     * Depth of a packed slice (kc): the A micro-panel (6 x 256 floats, 6 KB) stays in L1 while B micro-panels
     * stream past it, and each pass over the C tile (one load and one store per element) is amortised over 256 FMAs.
     * On the Zen 3 AVX2 machine (512 KB L2), at 512^3..2048^3 and 8192x1024x1024 against OpenBLAS in the same
     * process (the GemmBench shapes), kc = 384 (nc = 192) and kc = 512 (nc = 128) were no faster.
     */
    static final int KC = 256;
    /**
     * Columns of a packed B block (nc): 256 x 256 floats = 256 KB, half the 512 KB L2 of Zen 3 (a quarter of
     * Zen 4's 1 MB), so the block survives while the A micro-panels stream through. On the same shapes, nc = 512,
     * 1024 and 2048 were no faster, and 1024 was 15% slower at 2048^3.
     */
    static final int NC = 256;
    /**
     * Rows of a packed A block (mc): 1024 x 256 floats = 1 MB, held in L3; B is re-packed once per mc rows, which
     * at 1024 is under 1% of the work. Also the unit in which threads share rows. mc = 256, 384 and 512 were slower
     * at 8192x1024x1024 (B packed more often), 2048 no faster.
     */
    static final int MC = 1024;

    // Shuffles and masks of the in-register W x W transpose (as LaneKernels.transposeTile, whose tables are private),
    // one static final per level so C2 sees constants: at level lv (blocks of b = 2^lv lanes) lane c takes lane c - b
    // (RIGHT) or c + b (LEFT), and ODD marks the odd blocks. Levels past log2 W are unused (null).
    private static final VectorShuffle<Float> RIGHT0 = right(0), RIGHT1 = right(1), RIGHT2 = right(2), RIGHT3 = right(3);
    private static final VectorShuffle<Float> LEFT0 = left(0), LEFT1 = left(1), LEFT2 = left(2), LEFT3 = left(3);
    private static final VectorMask<Float> ODD0 = odd(0), ODD1 = odd(1), ODD2 = odd(2), ODD3 = odd(3);

    private static VectorShuffle<Float> right(int lv) {
        int b = 1 << lv;
        return b >= W ? null : VectorShuffle.fromOp(S, c -> ((c / b) & 1) == 1 ? c - b : c);
    }

    private static VectorShuffle<Float> left(int lv) {
        int b = 1 << lv;
        return b >= W ? null : VectorShuffle.fromOp(S, c -> ((c / b) & 1) == 0 ? c + b : c);
    }

    private static VectorMask<Float> odd(int lv) {
        int b = 1 << lv;
        if (b >= W) return null;
        boolean[] bits = new boolean[W];
        for (int c = 0; c < W; c++) bits[c] = ((c / b) & 1) == 1;
        return VectorMask.fromArray(S, bits, 0);
    }

    private static final LaneGemm DEFAULT = new LaneGemm(Tile.ROWS6_VECS2, MC, KC, NC);

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private final Tile tile;
    private final int mr, nr, mc, kc, nc;

    private LaneGemm(Tile tile, int mc, int kc, int nc) {
        if (mc < 1 || kc < 1 || nc < 1) throw new IllegalArgumentException("block sizes must be positive: mc=" + mc + " kc=" + kc + " nc=" + nc);
        this.tile = tile;
        this.mr = tile.rows;
        this.nr = tile.vectors * W;
        // blocks are whole micro-panels
        this.mc = roundUp(mc, mr);
        this.kc = kc;
        this.nc = roundUp(nc, nr);
    }

    /** The kernel tuned for this JVM's lane width. */
    public static LaneGemm forLanes() {
        return DEFAULT;
    }

    /** A kernel with a chosen tile and block sizes (rounded up to whole micro-panels): for tests of every tail. */
    public static LaneGemm of(Tile tile, int mc, int kc, int nc) {
        return new LaneGemm(tile, mc, kc, nc);
    }

    /** The register tile this kernel uses. */
    public Tile tile() {
        return tile;
    }

    /** Rows per block of A: the unit in which callers should split rows across threads. */
    public int rowBlock() {
        return mc;
    }

    /**
     * C = A B, overwriting C. Element (i, p) of A is {@code a[aOff + i * aRow + p * aCol]}, element (p, j) of B is
     * {@code b[bOff + p * bRow + j * bCol]} and element (i, j) of C is {@code c[cOff + i * ldc + j]}; offsets and
     * strides count floats (little-endian). Strides of 1 along a row (or along a column, for transposed views) take
     * the vector packing paths; any other strides work too, element by element. C must not overlap A or B. All three are
     * native segments ({@link NativeSegments}: the loops are compiled for them alone); a heap segment is refused.
     * Callable from several threads at once on disjoint parts of C (each thread packs into its own workspace).
     */
    public void multiply(int m, int n, int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff, long bRow, long bCol,
                         MemorySegment c, long cOff, long ldc) {
        multiply(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, null, 0, c, cOff, ldc);
    }

    /**
     * C = A B + bias, the bias added to every row of C: element j of it is {@code bias[biasOff + j]} (null: none). The
     * micro-kernel adds it to the tile in registers before the tile's last store, instead of a pass of its own over C;
     * the result has the same bits as {@link #multiply} followed by that addition (one float addition per element,
     * after the product's own, as PyTorch's addmm through BLAS).
     */
    public void multiply(int m, int n, int k, MemorySegment a, long aOff, long aRow, long aCol, MemorySegment b, long bOff, long bRow, long bCol,
                         float[] bias, int biasOff, MemorySegment c, long cOff, long ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k);
        if (!NativeSegments.isNative(a)) {
            throw new IllegalArgumentException("gemm operands must be native segments (a heap segment would make every segment loop's type"
                    + " profile polymorphic): a " + kind(a) + ", b " + kind(b) + ", c " + kind(c));
        }
        product(m, n, k, NativeSegments.cast(a), aOff, aRow, aCol, null, 0, 0, b, bOff, bRow, bCol, bias, biasOff, c, cOff, ldc);
    }

    /**
     * C = A B + bias with A in a float array, row-major: element (i, p) is {@code a[aOff + i * lda + p]}, lda >= k. The
     * micro-kernel reads A's rows where they are instead of copying them into its packing buffer (only a last micro-panel
     * of fewer than {@link Tile#rows} rows is copied, with zero rows after it): for a caller that writes A itself,
     * such as a norm before a Linear layer, this saves the copy, which at K = 32 (the small TNO's RPE) was about a tenth
     * of the product. Same bits as {@link #multiply(int, int, int, MemorySegment, long, long, long, MemorySegment, long,
     * long, long, float[], int, MemorySegment, long, long)} on the same values: the kernel and the order of its sums do
     * not depend on where A is read from.
     */
    public void multiply(int m, int n, int k, float[] a, int aOff, int lda, MemorySegment b, long bOff, long bRow, long bCol,
                         float[] bias, int biasOff, MemorySegment c, long cOff, long ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k);
        if (lda < k || aOff < 0 || m > 0 && k > 0 && (long) aOff + (long) (m - 1) * lda + k > a.length) {
            throw new IndexOutOfBoundsException("gemm a: " + m + " rows of " + k + " floats, " + lda + " apart, from " + aOff + " in " + a.length);
        }
        product(m, n, k, null, 0, 0, 0, a, aOff, lda, b, bOff, bRow, bCol, bias, biasOff, c, cOff, ldc);
    }

    /** Both multiply forms: A from the segment {@code as} (packed block by block) or, where that is null, from {@code aa}. */
    private void product(int m, int n, int k, MemorySegment as, long aOff, long aRow, long aCol, float[] aa, int aaOff, int lda,
                         MemorySegment b, long bOff, long bRow, long bCol, float[] bias, int biasOff, MemorySegment c, long cOff, long ldc) {
        if (bias != null && (biasOff < 0 || biasOff > bias.length - n)) {
            throw new IndexOutOfBoundsException("gemm bias: " + n + " floats at " + biasOff + " of " + bias.length);
        }
        if (!NativeSegments.allNative(b, c, null)) {
            throw new IllegalArgumentException("gemm operands must be native segments (a heap segment would make every segment loop's type"
                    + " profile polymorphic): b " + kind(b) + ", c " + kind(c));
        }
        b = NativeSegments.cast(b);
        c = NativeSegments.cast(c);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.setAtIndex(F, cOff + (long) i * ldc + j, bias == null ? 0f : 0f + bias[biasOff + j]);
            return;
        }
        Workspace ws = WORKSPACE.get();
        int mcUsed = Math.min(mc, roundUp(m, mr)), kcUsed = Math.min(kc, k), ncUsed = Math.min(nc, roundUp(n, nr));
        ws.ensure(as != null ? mcUsed * kcUsed : mr * kcUsed, kcUsed * ncUsed, mr * nr);
        float[] ap = ws.a, bp = ws.b, edge = ws.edge;
        for (int ic = 0; ic < m; ic += mc) {
            int mb = Math.min(mc, m - ic), whole = mb - mb % mr; // rows of the block in whole micro-panels
            for (int pc = 0; pc < k; pc += kc) {
                int kb = Math.min(kc, k - pc);
                boolean accumulate = pc > 0;
                float[] sliceBias = pc + kb == k ? bias : null; // after the last slice's product
                if (as != null) {
                    // A block row-major [mb rounded up to mr][kb]: micro-panel r starts at r * kb, row stride kb
                    copy(as, aOff + ic * aRow + pc * aCol, aRow, aCol, mb, kb, ap, 0, kb);
                    java.util.Arrays.fill(ap, mb * kb, roundUp(mb, mr) * kb, 0f);
                } else if (whole < mb) {
                    // the block's last, short micro-panel, with zero rows after it, so the kernel reads only A's rows
                    for (int r = 0; r < mb - whole; r++) System.arraycopy(aa, aaOff + (ic + whole + r) * lda + pc, ap, r * kb, kb);
                    java.util.Arrays.fill(ap, (mb - whole) * kb, mr * kb, 0f);
                }
                for (int jc = 0; jc < n; jc += nc) {
                    int nb = Math.min(nc, n - jc);
                    long bBlock = bOff + pc * bRow + jc * bCol, cBlock = cOff + (long) ic * ldc + jc;
                    packB(b, bBlock, bRow, bCol, kb, nb, bp);
                    for (int ir = 0; ir < mb; ir += mr) {
                        boolean packed = as != null || ir >= whole;
                        float[] panel = packed ? ap : aa;
                        int ao = as != null ? ir * kb : packed ? 0 : aaOff + (ic + ir) * lda + pc, rowStride = packed ? kb : lda;
                        for (int jr = 0; jr < nb; jr += nr) {
                            tile(ir, jr, mb, nb, kb, panel, ao, rowStride, bp, c, cBlock, ldc, accumulate, sliceBias, biasOff + jc, edge);
                        }
                    }
                }
            }
        }
    }

    /**
     * The micro-kernel on the tile at (ir, jr) of the current block, A's micro-panel at ap[ao] with rows lda apart: straight
     * into C when whole, through edge when clipped; plus the bias from bias[blockBias + jr] on, when not null.
     */
    private void tile(int ir, int jr, int mb, int nb, int kb, float[] ap, int ao, int lda, float[] bp, MemorySegment c, long cBlock, long ldc,
                      boolean accumulate, float[] bias, int blockBias, float[] edge) {
        int rows = Math.min(mr, mb - ir), cols = Math.min(nr, nb - jr);
        long cTile = cBlock + ir * ldc + jr;
        if (rows == mr && cols == nr) {
            kernel6x2(kb, ap, ao, lda, bp, jr * kb, c, cTile * Float.BYTES, ldc * Float.BYTES, accumulate, bias, blockBias + jr, null);
        } else {
            kernel6x2(kb, ap, ao, lda, bp, jr * kb, c, 0, 0, false, null, 0, edge);
            mergeEdge(edge, rows, cols, c, cTile, ldc, accumulate, bias, blockBias + jr);
        }
    }

    /**
     * Adds (or writes) the valid rows x cols corner of an edge tile computed into {@code edge} (row stride nr), then the
     * bias from bias[bo] on when not null.
     */
    private void mergeEdge(float[] edge, int rows, int cols, MemorySegment c, long cElem, long ldc, boolean acc, float[] bias, int bo) {
        c = NativeSegments.cast(c);
        for (int r = 0; r < rows; r++) {
            long row = cElem + r * ldc;
            for (int j = 0; j < cols; j++) {
                float v = edge[r * nr + j];
                if (acc) v += c.getAtIndex(F, row + j);
                if (bias != null) v += bias[bo + j];
                c.setAtIndex(F, row + j, v);
            }
        }
    }

    /** B block [kb, nb] into micro-panels of nr columns: panel q at q * kb * nr, row p of it at + p * nr; tail columns zero. */
    private void packB(MemorySegment b, long off, long row, long col, int kb, int nb, float[] bp) {
        b = NativeSegments.cast(b);
        int full = nb - nb % nr;
        if (col == 1 && full > 0) {
            // Row by row: each B row of the block is read front to back (prefetchable) and dealt out to the panels.
            // Panel by panel instead reads one cache line per B row, 8 KB apart for a 2048-wide B: at 256x2048x2048
            // (few rows to amortise the packing over) that order cost a fifth of the time, 0.78 of OpenBLAS against
            // 0.90 (best calls, alternating with OpenBLAS in one process as GemmBench.interleaved1t does).
            for (int p = 0; p < kb; p++) {
                long src = (off + p * row) * Float.BYTES;
                for (int j = 0; j < full; j += nr) {
                    int d = j * kb + p * nr;
                    for (int v = 0; v < nr; v += W) {
                        FloatVector.fromMemorySegment(S, b, src + (long) (j + v) * Float.BYTES, LE).intoArray(bp, d + v);
                    }
                }
            }
            if (full < nb) packPanel(b, off + full, row, col, kb, nb - full, bp, full * kb);
            return;
        }
        for (int j = 0; j < nb; j += nr) packPanel(b, off + j * col, row, col, kb, Math.min(nr, nb - j), bp, j * kb);
    }

    /** One micro-panel: B rows p < kb, columns < cols, at bp[base + p * nr + j]; columns cols..nr zero. */
    private void packPanel(MemorySegment b, long off, long row, long col, int kb, int cols, float[] bp, int base) {
        copy(b, off, row, col, kb, cols, bp, base, nr);
        if (cols < nr) for (int p = 0; p < kb; p++) java.util.Arrays.fill(bp, base + p * nr + cols, base + (p + 1) * nr, 0f);
    }

    /**
     * dst = the transpose of the row-major [rows, cols] float32 matrix at element {@code off} of s: dst[q * rows + r] =
     * s[off + r * cols + q], through W x W tile transposes in registers. {@code s} is a native segment.
     */
    public static void transpose(MemorySegment s, long off, int rows, int cols, float[] dst) {
        transpose(s, off, rows, cols, dst, 0, cols);
    }

    /**
     * The rows [firstCol, endCol) of {@link #transpose}'s result (the source's columns [firstCol, endCol)): dst[q * rows
     * + r] = s[off + r * cols + q] for those q alone, the rest of dst untouched. Threads that each take a range of
     * columns transpose one matrix together: a 512 x 512 weight read from beyond L2 took about 200 µs on one thread.
     */
    public static void transpose(MemorySegment s, long off, int rows, int cols, float[] dst, int firstCol, int endCol) {
        if (!NativeSegments.isNative(s)) throw new IllegalArgumentException("transpose: a native segment expected, got " + kind(s));
        if (off < 0 || rows < 0 || cols < 0 || (long) rows * cols > dst.length || (off + (long) rows * cols) * Float.BYTES > s.byteSize()) {
            throw new IndexOutOfBoundsException("transpose: [" + rows + ", " + cols + "] at " + off + " of " + s.byteSize() + " bytes into " + dst.length + " floats");
        }
        if (firstCol < 0 || endCol < firstCol || endCol > cols) {
            throw new IndexOutOfBoundsException("transpose: columns [" + firstCol + ", " + endCol + ") of " + cols);
        }
        // the logical [cols, rows] matrix dst[q * rows + r] = s[off + r * cols + q], its rows firstCol.. filled row block by row block
        int n = endCol - firstCol;
        if (rows >= W && n >= W) transposeCopy(NativeSegments.cast(s), off + firstCol, cols, n, rows, dst, firstCol * rows, rows, true);
        else copy(s, off + firstCol, 1, cols, n, rows, dst, firstCol * rows, rows);
    }

    /**
     * dst[dOff + r * dLd + q] = s[off + r * rs + q * cs] for r < rows, q < cols. A unit column stride copies rows with
     * vector loads; a unit row stride (a transposed view) goes through W x W tile transposes; anything else element-wise.
     */
    static void copy(MemorySegment s, long off, long rs, long cs, int rows, int cols, float[] dst, int dOff, int dLd) {
        s = NativeSegments.cast(s);
        if (cs == 1 && rs == cols && dLd == cols) {
            // rows back to back on both sides (an A block of a row-major A with k <= kc, as the RPE's K = 32..64 GEMMs
            // read it): one bulk copy instead of a vector loop per row, which at 32 columns spent its time in loop entry
            MemorySegment.copy(s, F, off * Float.BYTES, dst, dOff, rows * cols);
        } else if (cs == 1) {
            for (int r = 0; r < rows; r++) {
                long src = (off + r * rs) * Float.BYTES;
                int d = dOff + r * dLd, q = 0;
                for (; q <= cols - W; q += W) FloatVector.fromMemorySegment(S, s, src + (long) q * Float.BYTES, LE).intoArray(dst, d + q);
                for (; q < cols; q++) dst[d + q] = s.get(F, src + (long) q * Float.BYTES);
            }
        } else if (rs == 1 && rows >= W && cols >= W) {
            transposeCopy(s, off, cs, rows, cols, dst, dOff, dLd, false);
        } else {
            for (int r = 0; r < rows; r++) {
                for (int q = 0; q < cols; q++) dst[dOff + r * dLd + q] = s.getAtIndex(F, off + r * rs + q * cs);
            }
        }
    }

    /**
     * dst[dOff + r * dLd + q] = s[off + q * ld + r]: W x W tiles transposed in registers, tails element-wise. The tiles
     * go down the source's rows (q) for each block of W destination rows when {@code byDestinationRows} (the
     * destination then fills row block by row block), else along each block of W source rows. Packing reads a large
     * operand into a small buffer and wants its source in order: an 8192 x 1024 A taken transposed ran 6% slower the
     * other way. A whole-matrix transpose into a fresh array ({@link #transpose}) wants its destination in order: 512
     * x 512 took 42 µs so, 96 µs along the source's rows (best of a throwaway loop, Zen 5).
     */
    private static void transposeCopy(MemorySegment s, long off, long ld, int rows, int cols, float[] dst, int dOff, int dLd, boolean byDestinationRows) {
        s = NativeSegments.cast(s);
        int rFull = rows - rows % W, qFull = cols - cols % W;
        long ldBytes = ld * Float.BYTES;
        if (byDestinationRows) {
            for (int r0 = 0; r0 < rFull; r0 += W) {
                for (int q0 = 0; q0 < qFull; q0 += W) transposeTile(s, (off + q0 * ld + r0) * Float.BYTES, ldBytes, dst, dOff + r0 * dLd + q0, dLd);
            }
        } else {
            for (int q0 = 0; q0 < qFull; q0 += W) {
                for (int r0 = 0; r0 < rFull; r0 += W) transposeTile(s, (off + q0 * ld + r0) * Float.BYTES, ldBytes, dst, dOff + r0 * dLd + q0, dLd);
            }
        }
        for (int r = rFull; r < rows; r++) {
            for (int q = 0; q < qFull; q++) dst[dOff + r * dLd + q] = s.getAtIndex(F, off + q * ld + r);
        }
        for (int r = 0; r < rows; r++) {
            for (int q = qFull; q < cols; q++) dst[dOff + r * dLd + q] = s.getAtIndex(F, off + q * ld + r);
        }
    }

    /** One W x W tile of {@link #transposeCopy}: source byte src (rows ldBytes apart) to dst[d..] (rows dLd apart). */
    private static void transposeTile(MemorySegment s, long src, long ldBytes, float[] dst, int d, int dLd) {
        if (W == 16) transpose16(s, src, ldBytes, dst, d, dLd);
        else if (W == 8) transpose8(s, src, ldBytes, dst, d, dLd);
        else transpose4(s, src, ldBytes, dst, d, dLd);
    }

    /** W = 4: the tile at source rows q0.., columns r0.. transposed in registers and stored at dst rows r0.., columns q0... */
    private static void transpose4(MemorySegment s, long src, long ldBytes, float[] dst, int d, int dLd) {
        s = NativeSegments.cast(s);
        FloatVector v0 = FloatVector.fromMemorySegment(S, s, src, LE);
        FloatVector v1 = FloatVector.fromMemorySegment(S, s, src + 1 * ldBytes, LE);
        FloatVector v2 = FloatVector.fromMemorySegment(S, s, src + 2 * ldBytes, LE);
        FloatVector v3 = FloatVector.fromMemorySegment(S, s, src + 3 * ldBytes, LE);
        FloatVector t;
        t = v0.blend(v2.rearrange(RIGHT1), ODD1);
        v2 = v0.rearrange(LEFT1).blend(v2, ODD1);
        v0 = t;
        t = v1.blend(v3.rearrange(RIGHT1), ODD1);
        v3 = v1.rearrange(LEFT1).blend(v3, ODD1);
        v1 = t;
        t = v0.blend(v1.rearrange(RIGHT0), ODD0);
        v1 = v0.rearrange(LEFT0).blend(v1, ODD0);
        v0 = t;
        t = v2.blend(v3.rearrange(RIGHT0), ODD0);
        v3 = v2.rearrange(LEFT0).blend(v3, ODD0);
        v2 = t;
        v0.intoArray(dst, d);
        v1.intoArray(dst, d + 1 * dLd);
        v2.intoArray(dst, d + 2 * dLd);
        v3.intoArray(dst, d + 3 * dLd);
    }

    /** W = 8: the tile at source rows q0.., columns r0.. transposed in registers and stored at dst rows r0.., columns q0... */
    private static void transpose8(MemorySegment s, long src, long ldBytes, float[] dst, int d, int dLd) {
        s = NativeSegments.cast(s);
        FloatVector v0 = FloatVector.fromMemorySegment(S, s, src, LE);
        FloatVector v1 = FloatVector.fromMemorySegment(S, s, src + 1 * ldBytes, LE);
        FloatVector v2 = FloatVector.fromMemorySegment(S, s, src + 2 * ldBytes, LE);
        FloatVector v3 = FloatVector.fromMemorySegment(S, s, src + 3 * ldBytes, LE);
        FloatVector v4 = FloatVector.fromMemorySegment(S, s, src + 4 * ldBytes, LE);
        FloatVector v5 = FloatVector.fromMemorySegment(S, s, src + 5 * ldBytes, LE);
        FloatVector v6 = FloatVector.fromMemorySegment(S, s, src + 6 * ldBytes, LE);
        FloatVector v7 = FloatVector.fromMemorySegment(S, s, src + 7 * ldBytes, LE);
        FloatVector t;
        t = v0.blend(v4.rearrange(RIGHT2), ODD2);
        v4 = v0.rearrange(LEFT2).blend(v4, ODD2);
        v0 = t;
        t = v1.blend(v5.rearrange(RIGHT2), ODD2);
        v5 = v1.rearrange(LEFT2).blend(v5, ODD2);
        v1 = t;
        t = v2.blend(v6.rearrange(RIGHT2), ODD2);
        v6 = v2.rearrange(LEFT2).blend(v6, ODD2);
        v2 = t;
        t = v3.blend(v7.rearrange(RIGHT2), ODD2);
        v7 = v3.rearrange(LEFT2).blend(v7, ODD2);
        v3 = t;
        t = v0.blend(v2.rearrange(RIGHT1), ODD1);
        v2 = v0.rearrange(LEFT1).blend(v2, ODD1);
        v0 = t;
        t = v1.blend(v3.rearrange(RIGHT1), ODD1);
        v3 = v1.rearrange(LEFT1).blend(v3, ODD1);
        v1 = t;
        t = v4.blend(v6.rearrange(RIGHT1), ODD1);
        v6 = v4.rearrange(LEFT1).blend(v6, ODD1);
        v4 = t;
        t = v5.blend(v7.rearrange(RIGHT1), ODD1);
        v7 = v5.rearrange(LEFT1).blend(v7, ODD1);
        v5 = t;
        t = v0.blend(v1.rearrange(RIGHT0), ODD0);
        v1 = v0.rearrange(LEFT0).blend(v1, ODD0);
        v0 = t;
        t = v2.blend(v3.rearrange(RIGHT0), ODD0);
        v3 = v2.rearrange(LEFT0).blend(v3, ODD0);
        v2 = t;
        t = v4.blend(v5.rearrange(RIGHT0), ODD0);
        v5 = v4.rearrange(LEFT0).blend(v5, ODD0);
        v4 = t;
        t = v6.blend(v7.rearrange(RIGHT0), ODD0);
        v7 = v6.rearrange(LEFT0).blend(v7, ODD0);
        v6 = t;
        v0.intoArray(dst, d);
        v1.intoArray(dst, d + 1 * dLd);
        v2.intoArray(dst, d + 2 * dLd);
        v3.intoArray(dst, d + 3 * dLd);
        v4.intoArray(dst, d + 4 * dLd);
        v5.intoArray(dst, d + 5 * dLd);
        v6.intoArray(dst, d + 6 * dLd);
        v7.intoArray(dst, d + 7 * dLd);
    }

    /** W = 16: the tile at source rows q0.., columns r0.. transposed in registers and stored at dst rows r0.., columns q0... */
    private static void transpose16(MemorySegment s, long src, long ldBytes, float[] dst, int d, int dLd) {
        s = NativeSegments.cast(s);
        FloatVector v0 = FloatVector.fromMemorySegment(S, s, src, LE);
        FloatVector v1 = FloatVector.fromMemorySegment(S, s, src + 1 * ldBytes, LE);
        FloatVector v2 = FloatVector.fromMemorySegment(S, s, src + 2 * ldBytes, LE);
        FloatVector v3 = FloatVector.fromMemorySegment(S, s, src + 3 * ldBytes, LE);
        FloatVector v4 = FloatVector.fromMemorySegment(S, s, src + 4 * ldBytes, LE);
        FloatVector v5 = FloatVector.fromMemorySegment(S, s, src + 5 * ldBytes, LE);
        FloatVector v6 = FloatVector.fromMemorySegment(S, s, src + 6 * ldBytes, LE);
        FloatVector v7 = FloatVector.fromMemorySegment(S, s, src + 7 * ldBytes, LE);
        FloatVector v8 = FloatVector.fromMemorySegment(S, s, src + 8 * ldBytes, LE);
        FloatVector v9 = FloatVector.fromMemorySegment(S, s, src + 9 * ldBytes, LE);
        FloatVector v10 = FloatVector.fromMemorySegment(S, s, src + 10 * ldBytes, LE);
        FloatVector v11 = FloatVector.fromMemorySegment(S, s, src + 11 * ldBytes, LE);
        FloatVector v12 = FloatVector.fromMemorySegment(S, s, src + 12 * ldBytes, LE);
        FloatVector v13 = FloatVector.fromMemorySegment(S, s, src + 13 * ldBytes, LE);
        FloatVector v14 = FloatVector.fromMemorySegment(S, s, src + 14 * ldBytes, LE);
        FloatVector v15 = FloatVector.fromMemorySegment(S, s, src + 15 * ldBytes, LE);
        FloatVector t;
        t = v0.blend(v8.rearrange(RIGHT3), ODD3);
        v8 = v0.rearrange(LEFT3).blend(v8, ODD3);
        v0 = t;
        t = v1.blend(v9.rearrange(RIGHT3), ODD3);
        v9 = v1.rearrange(LEFT3).blend(v9, ODD3);
        v1 = t;
        t = v2.blend(v10.rearrange(RIGHT3), ODD3);
        v10 = v2.rearrange(LEFT3).blend(v10, ODD3);
        v2 = t;
        t = v3.blend(v11.rearrange(RIGHT3), ODD3);
        v11 = v3.rearrange(LEFT3).blend(v11, ODD3);
        v3 = t;
        t = v4.blend(v12.rearrange(RIGHT3), ODD3);
        v12 = v4.rearrange(LEFT3).blend(v12, ODD3);
        v4 = t;
        t = v5.blend(v13.rearrange(RIGHT3), ODD3);
        v13 = v5.rearrange(LEFT3).blend(v13, ODD3);
        v5 = t;
        t = v6.blend(v14.rearrange(RIGHT3), ODD3);
        v14 = v6.rearrange(LEFT3).blend(v14, ODD3);
        v6 = t;
        t = v7.blend(v15.rearrange(RIGHT3), ODD3);
        v15 = v7.rearrange(LEFT3).blend(v15, ODD3);
        v7 = t;
        t = v0.blend(v4.rearrange(RIGHT2), ODD2);
        v4 = v0.rearrange(LEFT2).blend(v4, ODD2);
        v0 = t;
        t = v1.blend(v5.rearrange(RIGHT2), ODD2);
        v5 = v1.rearrange(LEFT2).blend(v5, ODD2);
        v1 = t;
        t = v2.blend(v6.rearrange(RIGHT2), ODD2);
        v6 = v2.rearrange(LEFT2).blend(v6, ODD2);
        v2 = t;
        t = v3.blend(v7.rearrange(RIGHT2), ODD2);
        v7 = v3.rearrange(LEFT2).blend(v7, ODD2);
        v3 = t;
        t = v8.blend(v12.rearrange(RIGHT2), ODD2);
        v12 = v8.rearrange(LEFT2).blend(v12, ODD2);
        v8 = t;
        t = v9.blend(v13.rearrange(RIGHT2), ODD2);
        v13 = v9.rearrange(LEFT2).blend(v13, ODD2);
        v9 = t;
        t = v10.blend(v14.rearrange(RIGHT2), ODD2);
        v14 = v10.rearrange(LEFT2).blend(v14, ODD2);
        v10 = t;
        t = v11.blend(v15.rearrange(RIGHT2), ODD2);
        v15 = v11.rearrange(LEFT2).blend(v15, ODD2);
        v11 = t;
        t = v0.blend(v2.rearrange(RIGHT1), ODD1);
        v2 = v0.rearrange(LEFT1).blend(v2, ODD1);
        v0 = t;
        t = v1.blend(v3.rearrange(RIGHT1), ODD1);
        v3 = v1.rearrange(LEFT1).blend(v3, ODD1);
        v1 = t;
        t = v4.blend(v6.rearrange(RIGHT1), ODD1);
        v6 = v4.rearrange(LEFT1).blend(v6, ODD1);
        v4 = t;
        t = v5.blend(v7.rearrange(RIGHT1), ODD1);
        v7 = v5.rearrange(LEFT1).blend(v7, ODD1);
        v5 = t;
        t = v8.blend(v10.rearrange(RIGHT1), ODD1);
        v10 = v8.rearrange(LEFT1).blend(v10, ODD1);
        v8 = t;
        t = v9.blend(v11.rearrange(RIGHT1), ODD1);
        v11 = v9.rearrange(LEFT1).blend(v11, ODD1);
        v9 = t;
        t = v12.blend(v14.rearrange(RIGHT1), ODD1);
        v14 = v12.rearrange(LEFT1).blend(v14, ODD1);
        v12 = t;
        t = v13.blend(v15.rearrange(RIGHT1), ODD1);
        v15 = v13.rearrange(LEFT1).blend(v15, ODD1);
        v13 = t;
        t = v0.blend(v1.rearrange(RIGHT0), ODD0);
        v1 = v0.rearrange(LEFT0).blend(v1, ODD0);
        v0 = t;
        t = v2.blend(v3.rearrange(RIGHT0), ODD0);
        v3 = v2.rearrange(LEFT0).blend(v3, ODD0);
        v2 = t;
        t = v4.blend(v5.rearrange(RIGHT0), ODD0);
        v5 = v4.rearrange(LEFT0).blend(v5, ODD0);
        v4 = t;
        t = v6.blend(v7.rearrange(RIGHT0), ODD0);
        v7 = v6.rearrange(LEFT0).blend(v7, ODD0);
        v6 = t;
        t = v8.blend(v9.rearrange(RIGHT0), ODD0);
        v9 = v8.rearrange(LEFT0).blend(v9, ODD0);
        v8 = t;
        t = v10.blend(v11.rearrange(RIGHT0), ODD0);
        v11 = v10.rearrange(LEFT0).blend(v11, ODD0);
        v10 = t;
        t = v12.blend(v13.rearrange(RIGHT0), ODD0);
        v13 = v12.rearrange(LEFT0).blend(v13, ODD0);
        v12 = t;
        t = v14.blend(v15.rearrange(RIGHT0), ODD0);
        v15 = v14.rearrange(LEFT0).blend(v15, ODD0);
        v14 = t;
        v0.intoArray(dst, d);
        v1.intoArray(dst, d + 1 * dLd);
        v2.intoArray(dst, d + 2 * dLd);
        v3.intoArray(dst, d + 3 * dLd);
        v4.intoArray(dst, d + 4 * dLd);
        v5.intoArray(dst, d + 5 * dLd);
        v6.intoArray(dst, d + 6 * dLd);
        v7.intoArray(dst, d + 7 * dLd);
        v8.intoArray(dst, d + 8 * dLd);
        v9.intoArray(dst, d + 9 * dLd);
        v10.intoArray(dst, d + 10 * dLd);
        v11.intoArray(dst, d + 11 * dLd);
        v12.intoArray(dst, d + 12 * dLd);
        v13.intoArray(dst, d + 13 * dLd);
        v14.intoArray(dst, d + 14 * dLd);
        v15.intoArray(dst, d + 15 * dLd);
    }

    /**
     * 6 rows x 2 vectors: C[0..6, 0..2W) (+)= sum over p < kc of A(r, p) B(p, .). A row r at ap[ao + r * lda + p], B
     * row p at bp[bo + p * 2W]. The tile goes to C at byte cb (rows ldcb bytes apart), plus C's values there when acc,
     * plus bias[qo..qo + 2W) on every row when bias is not null; or when edge is not null, to edge (row stride 2W) for
     * the caller to clip.
     */
    private static void kernel6x2(int kc, float[] ap, int ao, int lda, float[] bp, int bo, MemorySegment c, long cb, long ldcb, boolean acc,
                                  float[] bias, int qo, float[] edge) {
        c = NativeSegments.cast(c);
        final int nr = 2 * W;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * nr;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + W);
            FloatVector x = FloatVector.broadcast(S, ap[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[a5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        if (edge != null) {
            c00.intoArray(edge, 0);
            c01.intoArray(edge, W);
            c10.intoArray(edge, nr);
            c11.intoArray(edge, nr + W);
            c20.intoArray(edge, 2 * nr);
            c21.intoArray(edge, 2 * nr + W);
            c30.intoArray(edge, 3 * nr);
            c31.intoArray(edge, 3 * nr + W);
            c40.intoArray(edge, 4 * nr);
            c41.intoArray(edge, 4 * nr + W);
            c50.intoArray(edge, 5 * nr);
            c51.intoArray(edge, 5 * nr + W);
            return;
        }
        final long vb = (long) W * Float.BYTES;
        long r0 = cb, r1 = r0 + ldcb, r2 = r1 + ldcb, r3 = r2 + ldcb, r4 = r3 + ldcb, r5 = r4 + ldcb;
        if (acc) {
            c00 = c00.add(FloatVector.fromMemorySegment(S, c, r0, LE));
            c01 = c01.add(FloatVector.fromMemorySegment(S, c, r0 + vb, LE));
            c10 = c10.add(FloatVector.fromMemorySegment(S, c, r1, LE));
            c11 = c11.add(FloatVector.fromMemorySegment(S, c, r1 + vb, LE));
            c20 = c20.add(FloatVector.fromMemorySegment(S, c, r2, LE));
            c21 = c21.add(FloatVector.fromMemorySegment(S, c, r2 + vb, LE));
            c30 = c30.add(FloatVector.fromMemorySegment(S, c, r3, LE));
            c31 = c31.add(FloatVector.fromMemorySegment(S, c, r3 + vb, LE));
            c40 = c40.add(FloatVector.fromMemorySegment(S, c, r4, LE));
            c41 = c41.add(FloatVector.fromMemorySegment(S, c, r4 + vb, LE));
            c50 = c50.add(FloatVector.fromMemorySegment(S, c, r5, LE));
            c51 = c51.add(FloatVector.fromMemorySegment(S, c, r5 + vb, LE));
        }
        if (bias != null) {
            FloatVector q0 = FloatVector.fromArray(S, bias, qo), q1 = FloatVector.fromArray(S, bias, qo + W);
            // row by row: the same two vectors on every row
            c00 = c00.add(q0); c01 = c01.add(q1);
            c10 = c10.add(q0); c11 = c11.add(q1);
            c20 = c20.add(q0); c21 = c21.add(q1);
            c30 = c30.add(q0); c31 = c31.add(q1);
            c40 = c40.add(q0); c41 = c41.add(q1);
            c50 = c50.add(q0); c51 = c51.add(q1);
        }
        c00.intoMemorySegment(c, r0, LE);
        c01.intoMemorySegment(c, r0 + vb, LE);
        c10.intoMemorySegment(c, r1, LE);
        c11.intoMemorySegment(c, r1 + vb, LE);
        c20.intoMemorySegment(c, r2, LE);
        c21.intoMemorySegment(c, r2 + vb, LE);
        c30.intoMemorySegment(c, r3, LE);
        c31.intoMemorySegment(c, r3 + vb, LE);
        c40.intoMemorySegment(c, r4, LE);
        c41.intoMemorySegment(c, r4 + vb, LE);
        c50.intoMemorySegment(c, r5, LE);
        c51.intoMemorySegment(c, r5 + vb, LE);
    }

    private static String kind(MemorySegment s) {
        return s == null ? "null" : NativeSegments.isNative(s) ? "native" : "on the heap";
    }

    private static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }

    /**
     * One thread's packing buffers. They only grow (to the largest block the thread has packed, bounded by
     * mc x kc and kc x nc), so after the first call of a given size nothing is allocated.
     */
    static final class Workspace {
        float[] a = new float[0], b = new float[0], edge = new float[0];

        void ensure(int aFloats, int bFloats, int edgeFloats) {
            if (a.length < aFloats) a = new float[aFloats];
            if (b.length < bFloats) b = new float[bFloats];
            if (edge.length < edgeFloats) edge = new float[edgeFloats];
        }
    }
}
