package dev.longconv.layers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The body of {@code VectorActivationsTest.mixedCallsSettleToLoopsThatAllocateNothing}, run in a JVM of its own so
 * that the lane loops start with no profile whatever ran before in the test JVM: calls with and without a bias or a
 * gate, and norms with and without a scale, mixed in one thread as a GTU mixes its RPE's biased relu, its gated SiLU
 * and its norm, and the first RPE block's rows ({@code combineRow}). Float rows only: at 128 bits the double loop's sigmoid and elus box whatever the profile ({@code
 * VectorActivations.apply}). Prints the least a quarter second allocated and the count of quarter seconds measured.
 */
final class MixedLaneCalls {
    private MixedLaneCalls() {}

    public static void main(String[] args) {
        long[] r = leastAllocation(Long.parseLong(args[0]));
        System.out.println("least " + r[0] + " windows " + r[1]);
    }

    /**
     * Warms the mix for 2 s, then measures quarter seconds of it until one allocates nothing on this thread or 12 s
     * have passed; returns the least a quarter second allocated and the number of them measured.
     */
    static long[] leastAllocation(long seed) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
        int n = 255 * 96;
        float[] bias32 = new float[32], bias96 = new float[96], bias33 = new float[33], q = new float[255], scale = new float[96];
        java.util.Arrays.fill(q, 0.5f);
        java.util.Arrays.fill(scale, 2f);
        double[] da = new double[96], db = new double[96];
        java.util.Arrays.fill(da, 0.25);
        java.util.Arrays.fill(db, -3.0);
        SplittableRandom rng = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * n + 64), gate = arena.allocate(4L * n + 64), out = arena.allocate(4L * n + 64);
            for (int i = 0; i < n; i++) {
                in.setAtIndex(f32, i, (float) rng.nextDouble(-8, 8));
                gate.setAtIndex(f32, i, (float) rng.nextDouble(-1, 1));
            }
            Runnable round = () -> {
                VectorActivations.applyFloat(Activation.RELU, 255, 32, in, 0, 32, bias32, null, 0, 0, out, 0, 32);
                VectorActivations.applyFloat(Activation.SILU, 128, 96, in, 0, 96, bias96, null, 0, 0, out, 0, 96);
                VectorActivations.applyFloat(Activation.SILU, 128, 96, in, 0, 96, null, gate, 0, 96, out, 0, 96);
                VectorActivations.applyFloat(Activation.NONE, 128, 96, in, 0, 96, bias96, null, 0, 0, out, 0, 96);
                VectorActivations.applyFloat(Activation.RELU, 100, 33, in, 0, 33, bias33, null, 0, 0, out, 5, 40);
                VectorActivations.applyFloat(Activation.ELU, 64, 3, in, 0, 3, null, null, 0, 0, out, 0, 3);
                VectorNorms.scaleRows(in, 0, q, 0, scale, out, 0, 128, 96, false);
                VectorNorms.scaleRows(in, 0, q, 0, null, out, 0, 128, 96, true);
                VectorNorms.scale(in, 0, 0.5f, scale, out, 0, 96);
                VectorNorms.scale(in, 0, 0.5f, null, out, 0, 96);
                for (int r = 0; r < 64; r++) VectorActivations.combineRow(r, da, 0.5, db, r % 2 == 0 ? 96 : 33, out, 4L * 96 * r);
            };
            long start = System.nanoTime();
            for (int i = 0; i < 200 || System.nanoTime() - start < 2_000_000_000L; i++) round.run();
            long least = Long.MAX_VALUE, windows = 0;
            do {
                long before = mx.getCurrentThreadAllocatedBytes(), end = System.nanoTime() + 250_000_000L;
                while (System.nanoTime() < end) round.run();
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
                windows++;
            } while (least > 0 && System.nanoTime() - start < 12_000_000_000L);
            return new long[] {least, windows};
        }
    }
}
