package dev.longconv.simd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The lane kernels that move data rather than compute it, at this JVM's lane width (the build also runs 128 bits). */
class LaneKernelsTest {
    @BeforeAll
    static void needsVectorApi() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
    }

    @Test
    void transposeTileTransposesInPlaceAndLeavesTheRestAlone() {
        int w = Lanes.W, off = 5;
        long seed = 20261201L;
        float[] a = new float[off + w * w + 3];
        Random rnd = new Random(seed);
        for (int i = 0; i < a.length; i++) a[i] = rnd.nextInt();
        float[] before = a.clone();
        LaneKernels.transposeTile(a, off);
        for (int r = 0; r < w; r++) {
            for (int c = 0; c < w; c++) {
                assertEquals(before[off + c * w + r], a[off + r * w + c], 0f, "W=" + w + " element (" + r + ", " + c + ") seed=" + seed);
            }
        }
        for (int i = 0; i < off; i++) assertEquals(before[i], a[i], 0f, "before the tile, index " + i);
        for (int i = off + w * w; i < a.length; i++) assertEquals(before[i], a[i], 0f, "after the tile, index " + i);
        LaneKernels.transposeTile(a, off);
        for (int i = 0; i < a.length; i++) assertEquals(before[i], a[i], 0f, "transposed twice, index " + i);
    }

    @Test
    void allFiniteFindsANanOrAnInfinityAtEveryPositionAndLength() {
        int w = Lanes.W;
        for (int n : new int[] {0, 1, w - 1, w, w + 1, 3 * w + 5}) {
            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) x[i] = (i % 3 - 1) * 1e30f;
            x[n] = Float.NaN; // past n: never read
            x[n + 1] = Float.POSITIVE_INFINITY;
            assertTrue(LaneKernels.allFinite(x, n), "W=" + w + " n=" + n + " finite values");
            for (int at = 0; at < n; at++) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float keep = x[at];
                    x[at] = bad;
                    assertFalse(LaneKernels.allFinite(x, n), "W=" + w + " n=" + n + " " + bad + " at " + at);
                    x[at] = keep;
                }
            }
        }
    }

    @Test
    void transposeMatchesTheDefinitionWithTailsAndAnOffset() {
        long seed = 20261207L;
        Random rnd = new Random(seed);
        int w = Lanes.W;
        for (int[] rc : new int[][] {{1, 1}, {w, w}, {2 * w + 3, w - 1}, {w + 1, 3 * w + 2}, {5, 7}}) {
            int rows = rc[0], cols = rc[1], off = 3;
            float[] src = new float[off + rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = rnd.nextFloat();
            float[] dst = new float[rows * cols + 4];
            java.util.Arrays.fill(dst, -1f);
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment seg = arena.allocate((long) src.length * Float.BYTES);
                java.lang.foreign.MemorySegment.copy(src, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, src.length);
                LaneGemm.transpose(seg, off, rows, cols, dst);
            }
            for (int r = 0; r < rows; r++) {
                for (int q = 0; q < cols; q++) {
                    assertEquals(src[off + r * cols + q], dst[q * rows + r], 0f, "W=" + w + " [" + rows + ", " + cols + "] element (" + r + ", " + q + ") seed=" + seed);
                }
            }
            for (int i = rows * cols; i < dst.length; i++) assertEquals(-1f, dst[i], 0f, "past the transpose, index " + i);
        }
    }

    /** A range of columns writes the rows of the transpose it names and nothing else; ranges that cover it give the whole. */
    @Test
    void transposeOfAColumnRangeWritesThoseRowsAlone() {
        long seed = 20261209L;
        Random rnd = new Random(seed);
        int w = Lanes.W;
        for (int[] rc : new int[][] {{1, 1}, {w, 2 * w}, {2 * w + 3, 3 * w + 1}, {w + 1, 2 * w - 1}, {5, 7}}) {
            int rows = rc[0], cols = rc[1], off = 2;
            float[] src = new float[off + rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = rnd.nextFloat();
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment seg = arena.allocate((long) src.length * Float.BYTES);
                java.lang.foreign.MemorySegment.copy(src, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, src.length);
                // every range: a tile-aligned start, a tail, a single column, an empty one
                int[][] ranges = {{0, cols}, {0, Math.min(w, cols)}, {Math.min(w, cols), cols}, {cols - 1, cols}, {cols / 2, cols / 2}, {1, cols}};
                for (int[] range : ranges) {
                    int first = range[0], end = range[1];
                    float[] dst = new float[rows * cols + 3];
                    java.util.Arrays.fill(dst, -1f);
                    LaneGemm.transpose(seg, off, rows, cols, dst, first, end);
                    String what = "W=" + w + " [" + rows + ", " + cols + "] columns [" + first + ", " + end + ") seed=" + seed;
                    for (int q = 0; q < cols; q++) {
                        for (int r = 0; r < rows; r++) {
                            float want = q >= first && q < end ? src[off + r * cols + q] : -1f;
                            assertEquals(want, dst[q * rows + r], 0f, what + " element (" + r + ", " + q + ")");
                        }
                    }
                    for (int i = rows * cols; i < dst.length; i++) assertEquals(-1f, dst[i], 0f, what + " past the transpose, index " + i);
                }
                org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                        () -> LaneGemm.transpose(seg, off, rows, cols, new float[rows * cols], 0, cols + 1));
                org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                        () -> LaneGemm.transpose(seg, off, rows, cols, new float[rows * cols], 1, 0));
            }
        }
    }

    @Test
    void allFiniteOverARangeReadsThatRangeAlone() {
        int w = Lanes.W;
        for (int from : new int[] {0, 1, w - 1, w + 3}) {
            for (int n : new int[] {0, 1, w - 1, w, w + 1, 3 * w + 5}) {
                int end = from + n;
                float[] x = new float[end + 2];
                java.util.Arrays.fill(x, 0, from, Float.NaN); // before the range: never read
                for (int i = from; i < end; i++) x[i] = (i % 3 - 1) * 1e30f;
                x[end] = Float.NaN;
                x[end + 1] = Float.NEGATIVE_INFINITY;
                String what = "W=" + w + " [" + from + ", " + end + ")";
                assertTrue(LaneKernels.allFinite(x, from, end), what + " finite values");
                for (int at = from; at < end; at++) {
                    float keep = x[at];
                    x[at] = Float.POSITIVE_INFINITY;
                    assertFalse(LaneKernels.allFinite(x, from, end), what + " infinity at " + at);
                    x[at] = Float.NaN;
                    assertFalse(LaneKernels.allFinite(x, from, end), what + " NaN at " + at);
                    x[at] = keep;
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class, () -> LaneKernels.allFinite(new float[4], 2, 5));
    }

    @Test
    void maxAbsGivesEachLanesLargestMagnitudeWithNanWinningOverInfinity() {
        int w = Lanes.W;
        long seed = 20261208L;
        Random rnd = new Random(seed);
        for (int count : new int[] {0, 1, 3, 4, 5, 9}) {
            float[] x = new float[count * w];
            for (int i = 0; i < x.length; i++) x[i] = (rnd.nextFloat() - 0.5f) * (float) Math.pow(2, rnd.nextInt(60) - 30);
            // lane 0 a NaN and an infinity, lane 1 an infinity of each sign, lane 2 zeros of both signs only
            if (count > 0) {
                x[(count - 1) * w] = Float.NaN;
                x[0] = Float.NEGATIVE_INFINITY;
                if (w > 1) x[count / 2 * w + 1] = Float.NEGATIVE_INFINITY;
                if (w > 2) for (int t = 0; t < count; t++) x[t * w + 2] = t % 2 == 0 ? -0f : 0f;
            }
            float[] out = new float[w];
            LaneKernels.maxAbs(x, count, out);
            for (int l = 0; l < w; l++) {
                float want = 0f;
                boolean nan = false;
                for (int t = 0; t < count; t++) {
                    float v = Math.abs(x[t * w + l]);
                    nan |= Float.isNaN(v);
                    want = Math.max(want, v);
                }
                String where = "W=" + w + " count=" + count + " lane " + l + " seed=" + seed;
                if (nan) assertTrue(Float.isNaN(out[l]), where);
                else assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(out[l]), where + ": " + want + " against " + out[l]);
            }
        }
    }
}
