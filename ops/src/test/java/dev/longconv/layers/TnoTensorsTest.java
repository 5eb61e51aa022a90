package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TnoTensors#inDtype}: a weight already in the dtype and contiguous is used in place; anything else is converted. */
class TnoTensorsTest {
    @Test
    void aContiguousWeightInTheDtypeIsUsedInPlace() {
        try (Tensor w = Tensor.random(DType.FLOAT32, 3, 4, 5); Tensor v = TnoTensors.inDtype(w, DType.FLOAT32)) {
            assertFalse(v.isOwner(), "a view, not a copy");
            w.set(7.5, 2, 3);
            assertEquals(7.5, v.get(2, 3), "the view reads the weight's own memory");
        }
    }

    @Test
    void otherWeightsAreConvertedToContiguousCopies() {
        try (Tensor w = Tensor.random(DType.FLOAT32, 5, 4, 5); Tensor t = w.transpose(0, 1); Tensor v = TnoTensors.inDtype(t, DType.FLOAT32);
             Tensor d = Tensor.random(DType.FLOAT64, 6, 3, 2); Tensor f = TnoTensors.inDtype(d, DType.FLOAT32)) {
            assertTrue(v.isContiguous() && v.isOwner(), "a strided weight becomes a contiguous copy");
            for (int i = 0; i < 5; i++) for (int j = 0; j < 4; j++) assertEquals(w.get(j, i), v.get(i, j));
            assertTrue(f.isOwner() && f.dtype() == DType.FLOAT32, "another dtype becomes a converted copy");
            for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) assertEquals((float) d.get(i, j), f.get(i, j));
        }
    }
}
