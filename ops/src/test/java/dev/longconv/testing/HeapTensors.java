package dev.longconv.testing;

import dev.longconv.DType;
import dev.longconv.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/** Copies of tensors over heap memory ({@code Tensor.wrap} of {@code MemorySegment.ofArray}), which the vector loops do not take. */
public final class HeapTensors {
    private HeapTensors() {}

    /** A C-order copy of t over a Java array of its dtype. */
    public static Tensor onHeap(Tensor t) {
        MemorySegment heap = t.dtype() == DType.FLOAT32 ? MemorySegment.ofArray(t.toFloatArray()) : MemorySegment.ofArray(t.toDoubleArray());
        Tensor h = Tensor.wrap(heap, t.dtype(), t.shape());
        if (h.storageSegment().isNative()) throw new AssertionError("expected a heap segment");
        return h;
    }

    /** Every tensor of a state dict on the heap, in the same order. */
    public static Map<String, Tensor> onHeap(Map<String, Tensor> sd) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sd.entrySet()) out.put(e.getKey(), onHeap(e.getValue()));
        return out;
    }
}
