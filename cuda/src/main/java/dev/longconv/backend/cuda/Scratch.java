package dev.longconv.backend.cuda;

import dev.longconv.cuda.CudaStream;
import dev.longconv.cuda.DeviceBuffer;

import java.util.EnumMap;
import java.util.Map;

/**
 * The cuda backend's reusable device scratch: one buffer per role, grown on demand and kept, so that after
 * the first call at a shape an op allocates no device memory (cudaMalloc and cudaFree synchronize the
 * device, which would serialize every call). Not thread-safe: the backend serializes its calls.
 */
final class Scratch implements AutoCloseable {
    /** What a buffer holds during one op; two roles never alias within an op. */
    enum Role { REAL_X, SPEC_X, REAL_G, SPEC_G, REAL_K, SPEC_K, SPEC_DK, WORK }

    /** Growth rounds to this many bytes so that slowly growing shapes do not reallocate every call. */
    private static final long GRANULE = 1 << 20;

    private final CudaStream stream;
    private final Map<Role, DeviceBuffer> buffers = new EnumMap<>(Role.class);

    Scratch(CudaStream stream) {
        this.stream = stream;
    }

    /** A buffer of at least {@code bytes} for {@code role}; its contents are whatever the last user left. */
    DeviceBuffer get(Role role, long bytes) {
        DeviceBuffer b = buffers.get(role);
        if (b != null && b.size() >= bytes) return b;
        long size = Math.max(GRANULE, Math.ceilDiv(Math.max(bytes, 1), GRANULE) * GRANULE);
        if (b != null) {
            stream.synchronize(); // queued work may still read the old buffer
            buffers.remove(role);
            b.close();
        }
        DeviceBuffer grown = DeviceBuffer.allocate(size);
        buffers.put(role, grown);
        return grown;
    }

    /** Device bytes held. */
    long bytes() {
        long s = 0;
        for (DeviceBuffer b : buffers.values()) s += b.size();
        return s;
    }

    /** Frees every buffer (after the queued work is done). */
    @Override
    public void close() {
        if (buffers.isEmpty()) return;
        stream.synchronize();
        for (DeviceBuffer b : buffers.values()) b.close();
        buffers.clear();
    }
}
