package dev.longconv.ops;

import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.simd.Simd;

import java.util.ArrayList;
import java.util.List;

/** The CPU backends tests run on: scalar always, vector where the Vector API is usable. */
public final class TestBackends {
    private TestBackends() {}

    public static List<Backend> cpu() {
        List<Backend> out = new ArrayList<>(List.of(new ScalarBackend()));
        if (Simd.status().available()) out.add(new VectorBackend());
        return out;
    }
}
