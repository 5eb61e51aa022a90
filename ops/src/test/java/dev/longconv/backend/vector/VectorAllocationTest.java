package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.ConvPlan;
import dev.longconv.simd.Simd;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A guard against the Vector API boxing regression: when a species stops being a compile-time constant
 * (an instance field instead of a static final), C2 boxes every vector and a plan call allocates megabytes.
 * After warm-up a compiled plan call allocates under 1 KB (JMH -prof gc); this test allows 64 KB per call
 * so JIT timing on a loaded 2-core CI machine cannot make it flaky, and still catches boxing by far.
 * The same bound holds gemm to its reused per-thread packing buffers: re-allocating them would cost the
 * packed A and B blocks (over 256 KB per call at 256^3) and boxing far more.
 */
class VectorAllocationTest {
    /**
     * How long the layer tests wait for a window of warm calls, from their first call (the plan test: from its first
     * window). A shift in the calls a lane loop sees (a prepared GTU's RPE rows in prepare, then its forward's SiLU
     * rows) can make C2 recompile the loop several times over a few seconds (profile_predicate traps), boxing in
     * between: in full test runs here the prepared GTU's float loop settled 1.5 to 8 s after the first call, past the 10
     * windows this test once measured. A loop that boxes at steady state fails every window, however long the wait.
     */
    private static final long SETTLE_NANOS = 30_000_000_000L;

    @Test
    void aWarmPlanCallAllocatesAlmostNothing() {
        com.sun.management.ThreadMXBean mx = allocationCounter();
        VectorBackend be = new VectorBackend();
        // L = 2048: FFT size 4096 (radix-4 stages); L = 1025: 2304 = 2^8 3^2 (radix-3 stages); L = 600: 1280 = 2^8 5
        // (a radix-5 stage). Radix 3 and 5 are the largest stage methods, where C2 once declined to inline a twiddle
        // helper taking vectors and boxed them (440 KB per call at FFT size 2160).
        for (int len : new int[] {2048, 1025, 600}) {
            int d = 16;
            try (Tensor x = Tensor.random(DType.FLOAT32, 1, 1, d, len); Tensor k = Tensor.random(DType.FLOAT32, 2, d, len);
                    Tensor y = Tensor.zeros(DType.FLOAT32, 1, d, len)) {
                ConvPlan plan = be.causalConvPlan(k, len, Layout.BDL);
                long end = System.nanoTime() + 8_000_000_000L;
                for (int i = 0; i < 3000 && System.nanoTime() < end; i++) plan.applyInto(x, y);
                long start = System.nanoTime(), perCall = leastPerCall(mx, () -> plan.applyInto(x, y), 50, 64 * 1024, start);
                System.out.println("vector causal-conv plan call (D=16, L=" + len + ", " + plan.describe() + ", warm): " + perCall
                        + " bytes allocated on the Java heap (least of the windows, " + (System.nanoTime() - start) / 1_000_000 + " ms)");
                assertTrue(perCall < 64 * 1024, "a warm causal-conv plan call (L=" + len + ") allocated " + perCall + " bytes (all threads); boxing?");
            }
        }
    }

    /**
     * A warm stream step allocates nothing on the Java heap, also the steps where a large segment fires on the pool
     * (its {@link Parallel.Team} is made with the stream): every buffer is made when the stream is. One window of 4096
     * steps within 8 s of windows must allocate 0 bytes: the large segments fire rarely, so C2 settles their code late,
     * and at Lk = 3000 fresh JVMs still allocated (unintrinsified vector code) for 8-16 windows (0.4-0.7 s) after the
     * warm-up loop; a step that allocates at steady state fails every window.
     */
    @Test
    void aWarmStreamStepAllocatesNothing() {
        com.sun.management.ThreadMXBean mx = allocationCounter();
        for (int lk : new int[] {100, 3000}) {
            int d = 40;
            try (Tensor k = Tensor.random(DType.FLOAT32, 3, d, lk); Tensor x = Tensor.random(DType.FLOAT32, 4, 2, d);
                 Tensor y = Tensor.zeros(DType.FLOAT32, 2, d); Tensor pre = Tensor.random(DType.FLOAT32, 5, 2, d);
                 Tensor skip = Tensor.random(DType.FLOAT32, 6, d); CausalStream s = new VectorBackend().causalStream(k, 2, Layout.BDL)) {
                long end = System.nanoTime() + 8_000_000_000L;
                for (int i = 0; i < 30000 && System.nanoTime() < end; i++) {
                    s.stepInto(x, y);
                    s.stepGatedInto(x, pre, null, skip, y);
                }
                // the least of a few windows, each long enough for 4 steps where a 1024-input segment fires on the pool
                int steps = 4096;
                long bytes = Long.MAX_VALUE;
                long windowsEnd = System.nanoTime() + 8_000_000_000L;
                for (int w = 0; bytes > 0 && (w < 5 || System.nanoTime() < windowsEnd); w++) {
                    long before = mx.getThreadAllocatedBytes(Thread.currentThread().threadId());
                    for (int i = 0; i < steps; i++) s.stepGatedInto(x, pre, null, skip, y);
                    bytes = Math.min(bytes, mx.getThreadAllocatedBytes(Thread.currentThread().threadId()) - before);
                }
                System.out.println("vector stream (B=2, D=40, Lk=" + lk + ", " + s.describe() + ", warm): " + bytes
                        + " bytes allocated on the Java heap in " + steps + " steps");
                assertEquals(0, bytes, "warm stream steps allocated (Lk=" + lk + ", " + steps + " steps)");
            }
        }
    }

    @Test
    void aWarmGemmCallAllocatesOnlyItsResult() {
        com.sun.management.ThreadMXBean mx = allocationCounter();
        VectorBackend be = new VectorBackend();
        // 64^3 runs on the calling thread alone; 256^3 (and its transposed operands) is split across the pool
        for (int size : new int[] {64, 256}) {
            for (boolean trans : new boolean[] {false, true}) {
                try (Tensor a = Tensor.random(DType.FLOAT32, 1, size, size); Tensor b = Tensor.random(DType.FLOAT32, 2, size, size)) {
                    // Warm for at least 2000 calls and 1.5 s, then take the least of up to 20 windows within 10 s: a small
                    // gemm runs 2000 calls in milliseconds, before C2 (queued behind other compilations on a loaded
                    // machine) has compiled its kernels, and until then vectors are boxed.
                    long start = System.nanoTime();
                    for (int i = 0; i < 2000 || System.nanoTime() - start < 1_500_000_000L; i++) be.gemm(a, b, trans, trans).close();
                    int calls = 20;
                    long perCall = Long.MAX_VALUE;
                    for (int w = 0; w < 20 && perCall >= 64 * 1024 && System.nanoTime() - start < 10_000_000_000L; w++) {
                        long before = mx.getTotalThreadAllocatedBytes();
                        for (int i = 0; i < calls; i++) be.gemm(a, b, trans, trans).close();
                        perCall = Math.min(perCall, (mx.getTotalThreadAllocatedBytes() - before) / calls);
                        if (perCall >= 64 * 1024) for (int i = 0; i < 500; i++) be.gemm(a, b, trans, trans).close();
                    }
                    String what = "a warm " + size + "^3 gemm call (transposed operands: " + trans + ")";
                    assertTrue(perCall < 64 * 1024, what + " allocated " + perCall + " bytes (all threads); packing buffers re-allocated, or boxing?");
                    System.out.println(what + ": " + perCall + " bytes allocated on the Java heap");
                    try (Tensor c = Tensor.zeros(DType.FLOAT32, size, size)) {
                        for (int i = 0; i < 200; i++) be.gemmInto(a, b, trans, trans, c);
                        long before = mx.getTotalThreadAllocatedBytes();
                        for (int i = 0; i < calls; i++) be.gemmInto(a, b, trans, trans, c);
                        perCall = (mx.getTotalThreadAllocatedBytes() - before) / calls;
                        assertTrue(perCall < 64 * 1024, what + " into a reused c allocated " + perCall + " bytes (all threads)");
                        System.out.println(what + " into a reused c: " + perCall + " bytes allocated on the Java heap");
                    }
                }
            }
        }
    }

    /**
     * A warm float32 prepared GTU keeps its intermediates in a reused workspace and its elementwise steps on float
     * rows: about 1.2 KB of heap per call (views, the pool's tasks). Bounded at 16 KB (all threads, least of the windows
     * within {@link #SETTLE_NANOS}): its float64 row path allocated 0.86 MB per call at L = 512, and boxing would
     * allocate far more.
     */
    @Test
    void aWarmPreparedGtuCallAllocatesAlmostNothing() {
        com.sun.management.ThreadMXBean mx = allocationCounter();
        dev.longconv.layers.Gtu.Config c = dev.longconv.layers.Gtu.Config.defaults(32, 2);
        java.util.Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        long seed = 1;
        for (var e : dev.longconv.layers.Gtu.shapes(c).entrySet()) state.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        int len = 128;
        try (Tensor x = Tensor.random(DType.FLOAT32, 7, 1, len, 32); Tensor y = Tensor.zeros(DType.FLOAT32, 1, len, 32);
             dev.longconv.layers.PreparedLayer p = new dev.longconv.layers.Gtu(c, state).prepare(new VectorBackend(), DType.FLOAT32, len)) {
            long start = System.nanoTime();
            for (int i = 0; i < 500 || System.nanoTime() - start < 1_500_000_000L; i++) p.forwardInto(x, y);
            long perCall = leastPerCall(mx, () -> p.forwardInto(x, y), 50, 16 * 1024, start);
            System.out.println("a warm prepared GTU call (B=1, L=" + len + ", E=32, heads=2): " + perCall + " bytes allocated on the Java heap ("
                    + (System.nanoTime() - start) / 1_000_000 + " ms after the first call)");
            assertTrue(perCall < 16 * 1024, "a warm prepared GTU call allocated " + perCall + " bytes (all threads)");
        } finally {
            state.values().forEach(Tensor::close);
        }
    }

    /**
     * A warm float32 GTU forward runs the prepared form's float32 pass with intermediates made for the call in native
     * memory; what it leaves on the heap is its operator's forward (the RPE's float rows, the single-use FFT plan) and
     * the views and tasks of the pass: about 37 KB per call at B = 1, L = 256, E = 32, heads = 2, rpe_embedding = 32 and
     * use_norm. Bounded at 256 KB (all threads, least of the windows in {@link #SETTLE_NANOS}): its float64 path
     * allocated 2.2 MB per call there (float64 copies of x, the projections, the activations and the gated rows).
     */
    @Test
    void aWarmGtuForwardKeepsItsIntermediatesOffTheHeap() {
        com.sun.management.ThreadMXBean mx = allocationCounter();
        dev.longconv.layers.Gtu.Config c = new dev.longconv.layers.Gtu.Config(32, 2, true, dev.longconv.layers.Activation.SILU, false, 3, true,
                dev.longconv.layers.NormType.SIMPLE_RMS, false, false, 3, 32, dev.longconv.layers.Activation.RELU, false, 1, false, 0.99,
                dev.longconv.layers.Activation.NONE);
        java.util.Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        long seed = 1;
        for (var e : dev.longconv.layers.Gtu.shapes(c).entrySet()) state.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        int len = 256;
        VectorBackend be = new VectorBackend();
        dev.longconv.layers.Gtu g = new dev.longconv.layers.Gtu(c, state);
        try (Tensor x = Tensor.random(DType.FLOAT32, 7, 1, len, 32)) {
            long start = System.nanoTime();
            for (int i = 0; i < 300 || System.nanoTime() - start < 1_500_000_000L; i++) g.forward(be, x).close();
            long perCall = leastPerCall(mx, () -> g.forward(be, x).close(), 20, 256 * 1024, start);
            System.out.println("a warm GTU forward (B=1, L=" + len + ", E=32, heads=2, rpe_embedding=32): " + perCall + " bytes allocated on the Java heap ("
                    + (System.nanoTime() - start) / 1_000_000 + " ms after the first call)");
            assertTrue(perCall < 256 * 1024, "a warm float32 GTU forward allocated " + perCall + " bytes (all threads)");
        } finally {
            state.values().forEach(Tensor::close);
        }
    }

    /**
     * The least heap one call allocated (all threads) over windows of {@code calls} calls: at least one window, then
     * more until one is under {@code bound} or {@link #SETTLE_NANOS} have passed since {@code start}.
     */
    private static long leastPerCall(com.sun.management.ThreadMXBean mx, Runnable call, int calls, long bound, long start) {
        long least = Long.MAX_VALUE;
        do {
            long before = mx.getTotalThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) call.run();
            least = Math.min(least, (mx.getTotalThreadAllocatedBytes() - before) / calls);
        } while (least >= bound && System.nanoTime() - start < SETTLE_NANOS);
        return least;
    }

    /** The JVM's per-thread allocation counters; the test is skipped without the vector path or without them. */
    private static com.sun.management.ThreadMXBean allocationCounter() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported(),
                "thread allocation counters unsupported on this JVM");
        return (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    }
}
