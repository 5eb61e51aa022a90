package dev.longconv.cuda;

import dev.longconv.cuda.gen.cudart.cudart_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Device memory from {@code cudaMalloc}, owned by this object and freed by {@link #close()}. Copies to and
 * from host memory take native (off-heap) MemorySegments; every offset and length is checked against both
 * sides before the call, so nothing reads or writes out of bounds.
 *
 * <p>The asynchronous copies return before the copy is done: the host segment must stay alive (and, for a
 * copy to the device, unchanged) until the stream has been synchronized. With pageable host memory CUDA stages
 * the copy and it is only partly asynchronous; pinned memory would overlap fully. {@link #close()} frees with
 * {@code cudaFree}, which waits for work on the device to finish.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long address;
    private final long size;
    private final int device;
    private volatile boolean closed;

    private DeviceBuffer(long address, long size, int device) {
        this.address = address;
        this.size = size;
        this.device = device;
    }

    /**
     * {@code bytes} of device memory on the current device, uninitialised. CudaException
     * (cudaErrorMemoryAllocation) when the device has not enough free memory; the runtime stays usable.
     */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("DeviceBuffer.allocate: bytes must be > 0, got " + bytes);
        Cuda.require("DeviceBuffer.allocate");
        int device = Cuda.currentDevice();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int err = cudart_h.cudaMalloc(p, bytes);
            if (err != 0) {
                // a failed cudaMalloc also sets the thread's last error; clear it so the next unrelated check does not see it
                cudart_h.cudaGetLastError();
                throw new CudaException("cudaMalloc(" + bytes + " bytes)", err, Cudart.errorName(err), Cudart.errorString(err));
            }
            return new DeviceBuffer(p.get(ADDRESS, 0).address(), bytes, device);
        }
    }

    /** Size in bytes. */
    public long size() {
        return size;
    }

    /** The device address (for logging and arithmetic; pass {@link #pointer()} to native calls). */
    public long address() {
        ensureOpen("address");
        return address;
    }

    /** The device address as a zero-length segment, for native calls. Java must never dereference it. */
    public MemorySegment pointer() {
        return pointer(0);
    }

    /** The device address {@code offset} bytes in, {@code 0 <= offset <= size}. */
    public MemorySegment pointer(long offset) {
        ensureOpen("pointer");
        if (offset < 0 || offset > size) {
            throw new IllegalArgumentException("DeviceBuffer.pointer: offset must be in [0, " + size + "], got " + offset);
        }
        return MemorySegment.ofAddress(address + offset);
    }

    /** The device the memory lives on. */
    public int device() {
        return device;
    }

    /** Copies all of {@code src} to the start of this buffer; returns when done. */
    public void copyFrom(MemorySegment src) {
        copyFrom(src, 0);
    }

    /** Copies all of {@code src} to this buffer at {@code dstOffset}; returns when done. */
    public void copyFrom(MemorySegment src, long dstOffset) {
        check("copyFrom", src, "src", dstOffset);
        CudaException.check("cudaMemcpy(HostToDevice)",
                cudart_h.cudaMemcpy(pointer(dstOffset), src, src.byteSize(), cudart_h.cudaMemcpyHostToDevice()));
    }

    /** Fills all of {@code dst} from the start of this buffer; returns when done. */
    public void copyTo(MemorySegment dst) {
        copyTo(dst, 0);
    }

    /** Fills all of {@code dst} from this buffer at {@code srcOffset}; returns when done. */
    public void copyTo(MemorySegment dst, long srcOffset) {
        check("copyTo", dst, "dst", srcOffset);
        CudaException.check("cudaMemcpy(DeviceToHost)",
                cudart_h.cudaMemcpy(dst, pointer(srcOffset), dst.byteSize(), cudart_h.cudaMemcpyDeviceToHost()));
    }

    /** Queues a copy of all of {@code src} to this buffer at {@code dstOffset} on {@code stream}. */
    public void copyFromAsync(MemorySegment src, long dstOffset, CudaStream stream) {
        check("copyFromAsync", src, "src", dstOffset);
        CudaException.check("cudaMemcpyAsync(HostToDevice)",
                cudart_h.cudaMemcpyAsync(pointer(dstOffset), src, src.byteSize(), cudart_h.cudaMemcpyHostToDevice(), stream.handle()));
    }

    /** Queues filling all of {@code dst} from this buffer at {@code srcOffset} on {@code stream}. */
    public void copyToAsync(MemorySegment dst, long srcOffset, CudaStream stream) {
        check("copyToAsync", dst, "dst", srcOffset);
        CudaException.check("cudaMemcpyAsync(DeviceToHost)",
                cudart_h.cudaMemcpyAsync(dst, pointer(srcOffset), dst.byteSize(), cudart_h.cudaMemcpyDeviceToHost(), stream.handle()));
    }

    /** Queues a device-to-device copy of {@code bytes} from {@code src} at {@code srcOffset} to this buffer at {@code dstOffset}. */
    public void copyFromAsync(DeviceBuffer src, long srcOffset, long dstOffset, long bytes, CudaStream stream) {
        checkRange("copyFromAsync", "dstOffset", dstOffset, bytes, size);
        checkRange("copyFromAsync", "srcOffset", srcOffset, bytes, src.size);
        CudaException.check("cudaMemcpyAsync(DeviceToDevice)",
                cudart_h.cudaMemcpyAsync(pointer(dstOffset), src.pointer(srcOffset), bytes, cudart_h.cudaMemcpyDeviceToDevice(), stream.handle()));
    }

    /** Copies {@code bytes} from {@code src} at {@code srcOffset} to this buffer at {@code dstOffset}; returns when done. */
    public void copyFrom(DeviceBuffer src, long srcOffset, long dstOffset, long bytes) {
        checkRange("copyFrom", "dstOffset", dstOffset, bytes, size);
        checkRange("copyFrom", "srcOffset", srcOffset, bytes, src.size);
        if (bytes == 0) return;
        CudaException.check("cudaMemcpy(DeviceToDevice)",
                cudart_h.cudaMemcpy(pointer(dstOffset), src.pointer(srcOffset), bytes, cudart_h.cudaMemcpyDeviceToDevice()));
    }

    /**
     * Queues a strided device-to-device copy of {@code rows} rows of {@code widthBytes}: row i goes from
     * {@code src} at {@code srcOffset + i * srcPitch} to this buffer at {@code dstOffset + i * dstPitch}
     * (cudaMemcpy2DAsync). Crops, pads and interleaves rows without a kernel; both pitches must be at least
     * the width.
     */
    public void copy2DFromAsync(DeviceBuffer src, long srcOffset, long srcPitch, long dstOffset, long dstPitch, long widthBytes,
                                long rows, CudaStream stream) {
        long dstSpan = span2D("copy2DFromAsync", "dstPitch", dstPitch, widthBytes, rows);
        long srcSpan = span2D("copy2DFromAsync", "srcPitch", srcPitch, widthBytes, rows);
        checkRange("copy2DFromAsync", "dstOffset", dstOffset, dstSpan, size);
        checkRange("copy2DFromAsync", "srcOffset", srcOffset, srcSpan, src.size);
        if (dstSpan == 0) return;
        CudaException.check("cudaMemcpy2DAsync(DeviceToDevice)", cudart_h.cudaMemcpy2DAsync(pointer(dstOffset), dstPitch,
                src.pointer(srcOffset), srcPitch, widthBytes, rows, cudart_h.cudaMemcpyDeviceToDevice(), stream.handle()));
    }

    /** Queues setting {@code widthBytes} bytes of each of {@code rows} rows {@code pitch} apart, from {@code offset}, to {@code byteValue}. */
    public void memset2DAsync(int byteValue, long offset, long pitch, long widthBytes, long rows, CudaStream stream) {
        long span = span2D("memset2DAsync", "pitch", pitch, widthBytes, rows);
        checkRange("memset2DAsync", "offset", offset, span, size);
        if (span == 0) return;
        CudaException.check("cudaMemset2DAsync", cudart_h.cudaMemset2DAsync(pointer(offset), pitch, byteValue, widthBytes, rows, stream.handle()));
    }

    /** Bytes from the first row's start to the last row's end; IllegalArgumentException for a pitch under the width. */
    private static long span2D(String op, String pitchName, long pitch, long width, long rows) {
        if (width < 0 || rows < 0 || pitch < width) {
            throw new IllegalArgumentException("DeviceBuffer." + op + ": need 0 <= width <= " + pitchName + " and rows >= 0, got width " + width
                    + ", " + pitchName + " " + pitch + ", rows " + rows);
        }
        return rows == 0 || width == 0 ? 0 : Math.addExact(Math.multiplyExact(rows - 1, pitch), width);
    }

    /** True once {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /** Sets every byte to {@code byteValue} (its low 8 bits); returns when done. */
    public void memset(int byteValue) {
        ensureOpen("memset");
        CudaException.check("cudaMemset", cudart_h.cudaMemset(pointer(), byteValue, size));
    }

    /** Queues setting {@code bytes} bytes from {@code offset} to {@code byteValue} on {@code stream}. */
    public void memsetAsync(int byteValue, long offset, long bytes, CudaStream stream) {
        checkRange("memsetAsync", "offset", offset, bytes, size);
        CudaException.check("cudaMemsetAsync", cudart_h.cudaMemsetAsync(pointer(offset), byteValue, bytes, stream.handle()));
    }

    private void check(String op, MemorySegment host, String name, long offset) {
        ensureOpen(op);
        if (!host.isNative()) {
            throw new IllegalArgumentException("DeviceBuffer." + op + ": " + name + " must be a native (off-heap) segment, got a heap segment");
        }
        checkRange(op, "offset", offset, host.byteSize(), size);
    }

    private void checkRange(String op, String name, long offset, long bytes, long limit) {
        ensureOpen(op);
        if (offset < 0 || bytes < 0 || offset > limit - bytes) {
            throw new IllegalArgumentException("DeviceBuffer." + op + ": " + name + " + bytes must be <= " + limit + " with both >= 0, got "
                    + name + " " + offset + " and bytes " + bytes);
        }
    }

    private void ensureOpen(String op) {
        if (closed) throw new IllegalStateException("DeviceBuffer." + op + ": the buffer is closed");
    }

    /** Frees the memory; later calls are no-ops. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CudaException.check("cudaFree", cudart_h.cudaFree(MemorySegment.ofAddress(address)));
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + size + " bytes on device " + device + (closed ? ", closed]" : "]");
    }
}
