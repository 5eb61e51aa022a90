package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.DeviceMemory;
import dev.longconv.Tensor;
import dev.longconv.cuda.Cuda;
import dev.longconv.cuda.DeviceBuffer;

import java.lang.foreign.MemorySegment;

/** A tensor's CUDA device memory: a {@link DeviceBuffer} behind the core's {@link DeviceMemory}. */
final class CudaMemory implements DeviceMemory {
    private final DeviceBuffer buffer;
    private final Device device;

    CudaMemory(DeviceBuffer buffer, Device device) {
        this.buffer = buffer;
        this.device = device;
    }

    /** The buffer of a tensor on a CUDA device (IllegalStateException for a host tensor). */
    static DeviceBuffer buffer(Tensor t) {
        return ((CudaMemory) t.deviceMemory()).buffer;
    }

    /** The device address of element [0, ..., 0] of {@code t}; NULL for a null tensor (an absent optional argument). */
    static MemorySegment pointer(Tensor t) {
        return t == null ? MemorySegment.NULL : buffer(t).pointer(t.offset() * t.dtype().byteSize());
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long byteSize() {
        return buffer.size();
    }

    @Override
    public boolean isClosed() {
        return buffer.isClosed();
    }

    @Override
    public void fill(int byteValue) {
        Cuda.setDevice(device.index());
        buffer.memset(byteValue);
    }

    @Override
    public void copyFromHost(MemorySegment src, long dstOffset) {
        Cuda.setDevice(device.index());
        buffer.copyFrom(src, dstOffset);
    }

    @Override
    public void copyToHost(long srcOffset, MemorySegment dst) {
        Cuda.setDevice(device.index());
        buffer.copyTo(dst, srcOffset);
    }

    @Override
    public void copyFrom(DeviceMemory src, long srcOffset, long dstOffset, long bytes) {
        if (!(src instanceof CudaMemory c)) throw new IllegalArgumentException("copy from " + src.device() + " memory into " + device + " memory");
        Cuda.setDevice(device.index());
        buffer.copyFrom(c.buffer, srcOffset, dstOffset, bytes);
    }

    @Override
    public void close() {
        if (buffer.isClosed()) return;
        Cuda.setDevice(device.index());
        buffer.close();
    }
}
