package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A CUDA event with timing enabled: record it on a stream, wait for it, and read the time between two of them.
 */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment handle;
    private volatile boolean closed;

    private CudaEvent(MemorySegment handle) {
        this.handle = handle;
    }

    /** An event that records timing ({@code cudaEventDefault}). */
    public static CudaEvent create() {
        Cuda.require("CudaEvent.create");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            CudaException.check("cudaEventCreateWithFlags", cudart_h.cudaEventCreateWithFlags(p, cudart_h.cudaEventDefault()));
            return new CudaEvent(p.get(ADDRESS, 0));
        }
    }

    /** Records the event at the current end of {@code stream}'s queue. */
    public void record(CudaStream stream) {
        ensureOpen("record");
        CudaException.check("cudaEventRecord", cudart_h.cudaEventRecord(handle, stream.handle()));
    }

    /** Waits until the work before the last {@link #record} has finished. */
    public void synchronize() {
        ensureOpen("synchronize");
        CudaException.check("cudaEventSynchronize", cudart_h.cudaEventSynchronize(handle));
    }

    /**
     * Milliseconds from {@code start} to this event (resolution about half a microsecond). Both must have been
     * recorded; this waits for this event first.
     */
    public float elapsedMillisSince(CudaEvent start) {
        ensureOpen("elapsedMillisSince");
        start.ensureOpen("elapsedMillisSince");
        synchronize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            CudaException.check("cudaEventElapsedTime", cudart_h.cudaEventElapsedTime(ms, start.handle, handle));
            return ms.get(JAVA_FLOAT, 0);
        }
    }

    /** The {@code cudaEvent_t} to pass to native calls. */
    public MemorySegment handle() {
        ensureOpen("handle");
        return handle;
    }

    private void ensureOpen(String op) {
        if (closed) throw new IllegalStateException("CudaEvent." + op + ": the event is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CudaException.check("cudaEventDestroy", cudart_h.cudaEventDestroy(handle));
    }
}
