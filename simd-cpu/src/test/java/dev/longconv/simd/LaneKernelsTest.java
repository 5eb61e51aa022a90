package dev.longconv.simd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
