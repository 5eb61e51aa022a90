package dev.longconv.backend.vector;

import dev.longconv.ops.Backend;
import dev.longconv.ops.BackendProvider;
import dev.longconv.simd.Simd;

/** The vector backend as a {@link BackendProvider}: available where the Vector API is ({@link Simd#status()}). */
public final class VectorBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "vector";
    }

    @Override
    public int preference() {
        return 200;
    }

    @Override
    public Availability status() {
        Simd.Status s = Simd.status();
        return new Availability(s.available(), s.reason());
    }

    @Override
    public Backend create() {
        return new VectorBackend();
    }
}
