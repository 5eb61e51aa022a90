package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * A CUDA stream ({@code cudaStream_t}) on the device current when it was created. Closing destroys it; work
 * already queued still completes. Not for concurrent use from several threads, except {@link #close()}, which
 * runs once.
 */
public final class CudaStream implements AutoCloseable {
    private final MemorySegment handle;
    private final int device;
    private volatile boolean closed;

    private CudaStream(MemorySegment handle, int device) {
        this.handle = handle;
        this.device = device;
    }

    /** A stream that synchronizes with the legacy default stream, as {@code cudaStreamCreate} makes. */
    public static CudaStream create() {
        return create(false);
    }

    /** A stream that does not wait for the legacy default stream ({@code cudaStreamNonBlocking}). */
    public static CudaStream createNonBlocking() {
        return create(true);
    }

    private static CudaStream create(boolean nonBlocking) {
        Cuda.require("CudaStream.create");
        int device = Cuda.currentDevice();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (nonBlocking) {
                CudaException.check("cudaStreamCreateWithFlags", cudart_h.cudaStreamCreateWithFlags(p, cudart_h.cudaStreamNonBlocking()));
            } else {
                CudaException.check("cudaStreamCreate", cudart_h.cudaStreamCreate(p));
            }
            return new CudaStream(p.get(ADDRESS, 0), device);
        }
    }

    /** The {@code cudaStream_t} to pass to native calls. */
    public MemorySegment handle() {
        ensureOpen("handle");
        return handle;
    }

    /** The device the stream belongs to. */
    public int device() {
        return device;
    }

    /** Waits until all work queued on this stream has finished. */
    public void synchronize() {
        ensureOpen("synchronize");
        CudaException.check("cudaStreamSynchronize", cudart_h.cudaStreamSynchronize(handle));
    }

    private void ensureOpen(String op) {
        if (closed) throw new IllegalStateException("CudaStream." + op + ": the stream is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CudaException.check("cudaStreamDestroy", cudart_h.cudaStreamDestroy(handle));
    }
}
