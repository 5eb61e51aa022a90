package dev.longconv.backend.scalar;

import dev.longconv.ops.Backend;
import dev.longconv.ops.BackendProvider;

/** The scalar backend as a {@link BackendProvider}: runs everywhere, the last choice. */
public final class ScalarBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int preference() {
        return 100;
    }

    @Override
    public Availability status() {
        return new Availability(true, "plain Java, float64 arithmetic, the portable fallback");
    }

    @Override
    public Backend create() {
        return new ScalarBackend();
    }
}
