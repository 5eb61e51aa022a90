package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Free and total memory of the current device, from {@code cudaMemGetInfo}.
 *
 * @param freeBytes  memory no allocation holds (other processes' allocations included)
 * @param totalBytes the device's memory
 */
public record MemInfo(long freeBytes, long totalBytes) {
    /** The current device's figures; IllegalStateException when CUDA is unavailable, CudaException when the call fails. */
    public static MemInfo current() {
        Cuda.require("MemInfo.current");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
            CudaException.check("cudaMemGetInfo", cudart_h.cudaMemGetInfo(free, total));
            return new MemInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        }
    }

    /** Memory held by allocations, this process's and others'. */
    public long usedBytes() {
        return totalBytes - freeBytes;
    }
}
