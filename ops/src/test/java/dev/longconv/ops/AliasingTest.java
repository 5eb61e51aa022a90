package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The aliasing contract of plans and streams, as a matrix over backends, dtypes, layouts, the direct and FFT paths
 * and the gates: y may be exactly x, the pregate or the postgate, and the result is then the same as into a fresh
 * output; a partial overlap (y = x shifted by one channel) is a one-line LongConvException.
 */
class AliasingTest {
    static final long SEED = 7;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : TestBackends.cpu()) {
            for (DType dt : DType.values()) {
                for (Layout lay : Layout.values()) {
                    for (int taps : new int[] {3, 200}) { // direct and FFT paths
                        for (String alias : new String[] {"x", "pregate", "postgate"}) out.add(Arguments.of(be, dt, lay, taps, alias));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} taps={3} y={4}")
    @MethodSource("cases")
    void anOutputThatIsExactlyAnInputGivesTheSameResult(Backend be, DType dt, Layout lay, int taps, String alias) {
        int b = 2, d = 11, len = 230;
        long[] shape = lay.seqShape(b, d, len);
        try (Tensor x = Tensor.random(dt, SEED, shape); Tensor pre = Tensor.random(dt, SEED + 1, shape); Tensor post = Tensor.random(dt, SEED + 2, shape);
             Tensor skip = Tensor.random(dt, SEED + 3, d); Tensor k = Tensor.random(dt, SEED + 4, lay.kernelShape(d, taps));
             ConvPlan plan = be.causalConvPlan(k, len, lay); Tensor fresh = Tensor.zeros(dt, shape)) {
            plan.applyGatedInto(x, pre, post, skip, fresh, lay);
            Tensor target = switch (alias) {
                case "x" -> x;
                case "pregate" -> pre;
                default -> post;
            };
            plan.applyGatedInto(x, pre, post, skip, target, lay);
            assertEquals(0.0, Compare.relL2(target, fresh), plan.describe() + ": y = " + alias + " in place");
            // ungated: y = x
            try (Tensor x2 = Tensor.random(dt, SEED + 5, shape); Tensor fresh2 = plan.apply(x2)) {
                plan.applyInto(x2, x2);
                assertEquals(0.0, Compare.relL2(x2, fresh2), plan.describe() + ": y = x in place");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} taps={3} partial overlap with {4}")
    @MethodSource("cases")
    void aPartialOverlapIsRefused(Backend be, DType dt, Layout lay, int taps, String alias) {
        int b = 2, d = 11, len = 230, dAxis = lay == Layout.BDL ? 1 : 2;
        long[] big = lay.seqShape(b, d + 1, len);
        try (Tensor k = Tensor.random(dt, SEED, lay.kernelShape(d, taps)); ConvPlan plan = be.causalConvPlan(k, len, lay);
             Tensor bigT = Tensor.random(dt, SEED + 1, big); Tensor other = Tensor.random(dt, SEED + 2, lay.seqShape(b, d, len))) {
            Tensor in = bigT.slice(dAxis, 0, d), y = bigT.slice(dAxis, 1, d + 1);
            Tensor x = alias.equals("x") ? in : other, pre = alias.equals("pregate") ? in : null, post = alias.equals("postgate") ? in : null;
            var e = assertThrows(LongConvException.class, () -> plan.applyGatedInto(x, pre, post, null, y, lay));
            assertEquals("y", e.argument());
            assertTrue(e.getMessage().contains("partial overlap with " + alias) && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} taps={3} stream y={4}")
    @MethodSource("cases")
    void streamsTakeTheSameContract(Backend be, DType dt, Layout lay, int taps, String alias) {
        int b = 2, d = 5, len = 40;
        long[] shape = lay.seqShape(b, d, len);
        try (Tensor k = Tensor.random(dt, SEED, lay.kernelShape(d, taps)); Tensor x = Tensor.random(dt, SEED + 1, shape);
             Tensor pre = Tensor.random(dt, SEED + 2, shape); Tensor post = Tensor.random(dt, SEED + 3, shape); Tensor skip = Tensor.random(dt, SEED + 4, d);
             CausalStream s1 = be.causalStream(k, b, lay); CausalStream s2 = be.causalStream(k, b, lay); Tensor fresh = Tensor.zeros(dt, shape)) {
            s1.pushGatedInto(x, pre, post, skip, fresh);
            Tensor target = switch (alias) {
                case "x" -> x;
                case "pregate" -> pre;
                default -> post;
            };
            s2.pushGatedInto(x, pre, post, skip, target);
            assertEquals(0.0, Compare.relL2(target, fresh), s2.describe() + ": y = " + alias + " in place");
        }
    }

    static Stream<Arguments> intoCases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : TestBackends.cpu()) {
            for (DType dt : DType.values()) {
                for (Layout lay : Layout.values()) for (String op : new String[] {"causal", "toeplitz"}) out.add(Arguments.of(be, dt, lay, op));
            }
        }
        return out.stream();
    }

    private static void into(Backend be, String op, Tensor x, Tensor k, Layout lay, Tensor y) {
        if (op.equals("causal")) be.causalConvInto(x, k, lay, y);
        else be.toeplitzConvInto(x, k, lay, y);
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}ConvInto")
    @MethodSource("intoCases")
    void theIntoOpsRefuseAnOutputOverlappingAnInputOrOfAnotherShape(Backend be, DType dt, Layout lay, String op) {
        int b = 2, d = 11, len = 37, dAxis = lay == Layout.BDL ? 1 : 2, taps = op.equals("causal") ? 5 : 2 * len - 1;
        String name = op.equals("causal") ? "causal-conv" : "toeplitz-conv";
        try (Tensor k = Tensor.random(dt, SEED, lay.kernelShape(d, taps)); Tensor bigT = Tensor.random(dt, SEED + 1, lay.seqShape(b, d + 1, len));
             Tensor x = Tensor.random(dt, SEED + 2, lay.seqShape(b, d, len)); Tensor longer = Tensor.zeros(dt, lay.seqShape(b, d, len + 1))) {
            Tensor in = bigT.slice(dAxis, 0, d), y = bigT.slice(dAxis, 1, d + 1);
            var partial = assertThrows(LongConvException.class, () -> into(be, op, in, k, lay, y));
            assertTrue(partial.getMessage().startsWith(name) && partial.getMessage().contains("partial overlap with x") && !partial.getMessage().contains("\n"), partial.getMessage());
            // y over the kernel's memory: both views of one buffer, from its start
            try (Tensor shared = Tensor.random(dt, SEED + 3, Math.max(k.numel(), x.numel()))) {
                Tensor ks = shared.slice(0, 0, k.numel()).reshape(k.shape()), ys = shared.slice(0, 0, x.numel()).reshape(x.shape());
                var kernel = assertThrows(LongConvException.class, () -> into(be, op, x, ks, lay, ys));
                assertTrue(kernel.getMessage().contains("shares no memory with k"), kernel.getMessage());
            }
            var shape = assertThrows(LongConvException.class, () -> into(be, op, x, k, lay, longer));
            assertEquals("y", shape.argument());
            assertTrue(shape.getMessage().contains(java.util.Arrays.toString(x.shape())), shape.getMessage());
        }
    }

    /**
     * Tensors over heap arrays: a heap segment's address is its offset in its array, so two tensors over different
     * arrays look like the same memory by address alone. They must be taken as separate (y over one array, x or k over
     * another: accepted, and the result that of a fresh output), while views of one array keep the contract.
     */
    @ParameterizedTest(name = "{0} {1} {2} {3}ConvInto")
    @MethodSource("intoCases")
    void heapTensorsOverDifferentArraysAreSeparateMemory(Backend be, DType dt, Layout lay, String op) {
        int b = 2, d = 11, len = 37, dAxis = lay == Layout.BDL ? 1 : 2, taps = op.equals("causal") ? 5 : 2 * len - 1;
        try (Tensor kn = Tensor.random(dt, SEED, lay.kernelShape(d, taps)); Tensor xn = Tensor.random(dt, SEED + 2, lay.seqShape(b, d, len));
             Tensor bigN = Tensor.random(dt, SEED + 1, lay.seqShape(b, d + 1, len))) {
            Tensor x = dev.longconv.testing.HeapTensors.onHeap(xn), k = dev.longconv.testing.HeapTensors.onHeap(kn);
            Tensor y = dev.longconv.testing.HeapTensors.onHeap(xn); // same shape, strides and offset as x, another array
            Tensor expected = op.equals("causal") ? Reference.causalConv(xn, kn, lay) : Reference.toeplitzConv(xn, kn, lay);
            into(be, op, x, k, lay, y);
            Compare.assertClose(y.copy(), expected, dt, be.name() + " " + op + " into a heap y over another array");
            assertTrue(java.util.Arrays.equals(xn.toDoubleArray(), x.toDoubleArray()), "x over its own array is left as it was");
            Tensor big = dev.longconv.testing.HeapTensors.onHeap(bigN);
            Tensor in = big.slice(dAxis, 0, d), out = big.slice(dAxis, 1, d + 1);
            var partial = assertThrows(LongConvException.class, () -> into(be, op, in, k, lay, out));
            assertTrue(partial.getMessage().contains("partial overlap with x"), partial.getMessage());
        }
    }
}
