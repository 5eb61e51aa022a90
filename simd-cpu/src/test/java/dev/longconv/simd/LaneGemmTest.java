package dev.longconv.simd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * LaneGemm against a float64 triple loop, at this JVM's lane width (the build also runs 128 and 256 bits): both
 * register tiles, block sizes small enough that every blocking level (mc, kc, nc, the tile's rows and columns)
 * has full blocks and a tail, and operands laid out row-major, transposed, with padded rows, and with no unit stride.
 */
class LaneGemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final long SEED = 20260118L;

    @BeforeAll
    static void needsVectorApi() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
    }

    /** How a logical [rows, cols] operand sits in memory. */
    enum Layout {
        ROW_MAJOR, TRANSPOSED, PADDED_ROWS, NO_UNIT_STRIDE;

        long rowStride(int rows, int cols) {
            return switch (this) {
                case ROW_MAJOR -> cols;
                case TRANSPOSED -> 1;
                case PADDED_ROWS -> cols + 3;
                case NO_UNIT_STRIDE -> 2L * cols + 1;
            };
        }

        long colStride(int rows, int cols) {
            return switch (this) {
                case ROW_MAJOR, PADDED_ROWS -> 1;
                case TRANSPOSED -> rows + 1; // a transposed view of a [cols, rows + 1] slice
                case NO_UNIT_STRIDE -> 2;
            };
        }
    }

    /** A logical [rows, cols] matrix at offset 7 of its segment, filled through the layout, with its float64 copy. */
    record Operand(MemorySegment seg, long off, long rs, long cs, double[] values) {
        static Operand random(Arena arena, Layout layout, int rows, int cols, SplittableRandom rnd) {
            long rs = layout.rowStride(rows, cols), cs = layout.colStride(rows, cols), off = 7;
            long span = off + (rows - 1L) * rs + (cols - 1L) * cs + 1;
            MemorySegment seg = arena.allocate(4 * Math.max(span, 1));
            for (long i = 0; i < Math.max(span, 1); i++) seg.setAtIndex(F, i, Float.NaN); // gaps must never be read
            double[] v = new double[rows * cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float x = (float) (rnd.nextDouble() * 2 - 1);
                    v[i * cols + j] = x;
                    seg.setAtIndex(F, off + i * rs + j * cs, x);
                }
            }
            return new Operand(seg, off, rs, cs, v);
        }
    }

    private static void check(LaneGemm g, int m, int n, int k, Layout la, Layout lb, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            Operand a = Operand.random(arena, la, m, k, rnd), b = Operand.random(arena, lb, k, n, rnd);
            long ldc = n + 2, cOff = 3;
            MemorySegment c = arena.allocate(4 * (cOff + Math.max(1, m) * ldc));
            for (long i = 0; i < c.byteSize() / 4; i++) c.setAtIndex(F, i, Float.NaN); // C is overwritten, never read first
            g.multiply(m, n, k, a.seg, a.off, a.rs, a.cs, b.seg, b.off, b.rs, b.cs, c, cOff, ldc);
            String what = g.tile() + " m=" + m + " n=" + n + " k=" + k + " A " + la + " B " + lb + " seed=" + seed;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        ref += a.values[i * k + p] * b.values[p * n + j];
                        mag += Math.abs(a.values[i * k + p] * b.values[p * n + j]);
                    }
                    float got = c.getAtIndex(F, cOff + i * ldc + j);
                    assertEquals(ref, got, 1e-6 * mag + 1e-30, what + " at (" + i + ", " + j + ")");
                }
                for (int j = n; j < ldc && i < m - 1; j++) {
                    assertTrue(Float.isNaN(c.getAtIndex(F, cOff + i * ldc + j)), what + ": wrote outside C at row " + i + " column " + j);
                }
            }
            assertTrue(Float.isNaN(c.getAtIndex(F, 0)), what + ": wrote before C");
        }
    }

    @Test
    void everyTileEveryBlockTailEveryLayout() {
        int w = Lanes.W;
        for (LaneGemm.Tile tile : LaneGemm.Tile.values()) {
            int mr = tile.rows(), nr = tile.columns();
            // blocks of two micro-panels (mc, nc) and kc = 5: m, n, k below cross every level with a remainder
            LaneGemm small = LaneGemm.of(tile, 2 * mr, 5, 2 * nr);
            int[][] shapes = {{1, 1, 1}, {1, nr, 1}, {mr, 1, 3}, {mr, nr, 5}, {mr + 1, nr + 1, 6}, {2 * mr + 1, 2 * nr + w + 1, 11},
                    {5 * mr - 1, 3 * nr - 1, 17}, {13, 7, 2}, {31, 37, 23}};
            long seed = SEED;
            for (int[] s : shapes) {
                for (Layout la : Layout.values()) {
                    for (Layout lb : Layout.values()) check(small, s[0], s[1], s[2], la, lb, seed++);
                }
            }
        }
    }

    /**
     * The bias added inside the product has the bits of the product followed by one float addition per element, at
     * every tile and block tail (whole tiles, edge tiles, one kc slice and several, k = 0), with the bias read from an
     * offset into its array; C outside its [m, n] stays untouched.
     */
    @Test
    void biasInsideTheProductEqualsTheProductThenTheBias() {
        LaneGemm.Tile tile = LaneGemm.Tile.values()[0];
        int mr = tile.rows(), nr = tile.columns();
        LaneGemm small = LaneGemm.of(tile, 2 * mr, 5, 2 * nr);
        int[][] shapes = {{1, 1, 1}, {mr, nr, 5}, {mr + 1, nr + 1, 6}, {2 * mr + 1, 2 * nr + Lanes.W + 1, 11}, {31, 37, 23}, {7, 9, 0}};
        long seed = SEED;
        for (LaneGemm g : new LaneGemm[] {small, LaneGemm.forLanes()}) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                SplittableRandom rnd = new SplittableRandom(seed++);
                try (Arena arena = Arena.ofConfined()) {
                    Operand a = Operand.random(arena, Layout.ROW_MAJOR, m, Math.max(k, 1), rnd);
                    Operand b = Operand.random(arena, Layout.TRANSPOSED, Math.max(k, 1), n, rnd);
                    float[] bias = new float[n + 5];
                    for (int j = 0; j < bias.length; j++) bias[j] = (float) (rnd.nextDouble() * 4 - 2);
                    long ldc = n + 2, cOff = 3, size = cOff + m * ldc;
                    MemorySegment plain = arena.allocate(4 * size), fused = arena.allocate(4 * size);
                    for (long i = 0; i < size; i++) {
                        plain.setAtIndex(F, i, Float.NaN);
                        fused.setAtIndex(F, i, Float.NaN);
                    }
                    g.multiply(m, n, k, a.seg, a.off, a.rs, a.cs, b.seg, b.off, b.rs, b.cs, plain, cOff, ldc);
                    g.multiply(m, n, k, a.seg, a.off, a.rs, a.cs, b.seg, b.off, b.rs, b.cs, bias, 4, fused, cOff, ldc);
                    String what = "m=" + m + " n=" + n + " k=" + k + " seed=" + (seed - 1);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ldc; j++) {
                            long at = cOff + i * ldc + j;
                            float want = j < n ? plain.getAtIndex(F, at) + bias[4 + j] : Float.NaN;
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(fused.getAtIndex(F, at)), what + " at (" + i + ", " + j + ")");
                        }
                    }
                    assertTrue(Float.isNaN(fused.getAtIndex(F, 0)), what + ": wrote before C");
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment x = arena.allocate(64);
                small.multiply(1, 4, 1, x, 0, 1, 1, x, 0, 4, 1, new float[5], 2, x, 0, 4);
            }
        });
    }

    /**
     * A taken from the rows of a float array (no packing copy) gives the bits of the same A packed from a segment, with
     * and without a bias, at every blocking tail: a last micro-panel short of the tile's rows (copied with zero rows
     * after it), several mc blocks and kc slices, rows lda > k apart from an offset. The floats between the rows and
     * after the last one are NaN, so reading any of them would show.
     */
    @Test
    void aFromTheRowsOfAnArrayEqualsAPackedFromASegment() {
        LaneGemm.Tile tile = LaneGemm.Tile.values()[0];
        int mr = tile.rows(), nr = tile.columns();
        LaneGemm small = LaneGemm.of(tile, 2 * mr, 5, 2 * nr);
        int[][] shapes = {{1, 1, 1}, {mr, nr, 5}, {mr + 1, nr + 1, 6}, {2 * mr + 1, 2 * nr + Lanes.W + 1, 11}, {31, 37, 23}, {5, 33, 32}, {7, 9, 0}};
        long seed = SEED + 40;
        for (LaneGemm g : new LaneGemm[] {small, LaneGemm.forLanes()}) {
            for (int[] s : shapes) {
                for (boolean withBias : new boolean[] {false, true}) {
                    int m = s[0], n = s[1], k = s[2], lda = k + 3, aOff = 2;
                    SplittableRandom rnd = new SplittableRandom(seed++);
                    try (Arena arena = Arena.ofConfined()) {
                        Operand a = Operand.random(arena, Layout.ROW_MAJOR, m, Math.max(k, 1), rnd);
                        Operand b = Operand.random(arena, Layout.TRANSPOSED, Math.max(k, 1), n, rnd);
                        float[] rows = new float[aOff + m * lda + 1];
                        java.util.Arrays.fill(rows, Float.NaN);
                        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) rows[aOff + i * lda + p] = a.seg.getAtIndex(F, a.off + i * a.rs + p);
                        float[] bias = withBias ? new float[n] : null;
                        if (withBias) for (int j = 0; j < n; j++) bias[j] = (float) (rnd.nextDouble() * 4 - 2);
                        long size = (long) m * n;
                        MemorySegment packed = arena.allocate(4 * size), direct = arena.allocate(4 * size);
                        g.multiply(m, n, k, a.seg, a.off, a.rs, a.cs, b.seg, b.off, b.rs, b.cs, bias, 0, packed, 0, n);
                        g.multiply(m, n, k, rows, aOff, lda, b.seg, b.off, b.rs, b.cs, bias, 0, direct, 0, n);
                        String what = "m=" + m + " n=" + n + " k=" + k + (withBias ? " with bias" : "") + " seed=" + (seed - 1);
                        for (long i = 0; i < size; i++) {
                            assertEquals(Float.floatToRawIntBits(packed.getAtIndex(F, i)), Float.floatToRawIntBits(direct.getAtIndex(F, i)),
                                    what + " at (" + i / n + ", " + i % n + ")");
                        }
                    }
                }
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(256);
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> small.multiply(3, 4, 4, new float[11], 0, 4, x, 0, 4, 1, null, 0, x, 0, 4)); // 3 rows of 4 need 12
            org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> small.multiply(2, 4, 4, new float[16], 0, 3, x, 0, 4, 1, null, 0, x, 0, 4)); // lda < k
        }
    }

    @Test
    void defaultBlocksWithTails() {
        LaneGemm g = LaneGemm.forLanes();
        // k crosses kc = 256, n crosses nc = 256, m is a prime past several tiles
        check(g, 53, 263, 263, Layout.ROW_MAJOR, Layout.ROW_MAJOR, SEED);
        check(g, 53, 263, 263, Layout.TRANSPOSED, Layout.TRANSPOSED, SEED + 1);
        check(g, 53, 263, 263, Layout.PADDED_ROWS, Layout.NO_UNIT_STRIDE, SEED + 2);
    }

    @Test
    void emptyDimensions() {
        LaneGemm g = LaneGemm.forLanes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(64), b = arena.allocate(64), c = arena.allocate(4 * 6);
            for (int i = 0; i < 6; i++) c.setAtIndex(F, i, Float.NaN);
            g.multiply(2, 3, 0, a, 0, 0, 1, b, 0, 3, 1, c, 0, 3); // k = 0: C = 0
            for (int i = 0; i < 6; i++) assertEquals(0f, c.getAtIndex(F, i), "k=0 writes zeros, element " + i);
            g.multiply(0, 3, 4, a, 0, 4, 1, b, 0, 3, 1, c, 0, 3); // m = 0: nothing to do
            g.multiply(2, 0, 4, a, 0, 4, 1, b, 0, 0, 1, c, 0, 0); // n = 0: nothing to do
        }
    }

    @Test
    void refusesHeapSegments() {
        LaneGemm g = LaneGemm.forLanes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(64), b = arena.allocate(64), c = arena.allocate(64), heap = MemorySegment.ofArray(new float[16]);
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> g.multiply(2, 2, 2, a, 0, 2, 1, b, 0, 2, 1, heap, 0, 2));
            assertTrue(e.getMessage().contains("c on the heap"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> g.multiply(2, 2, 2, heap, 0, 2, 1, b, 0, 2, 1, c, 0, 2));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> LaneGemm.transpose(heap, 0, 2, 2, new float[4]));
        }
    }
}
