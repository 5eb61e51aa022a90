package dev.longconv.backend.cuda;

import dev.longconv.Device;
import dev.longconv.DeviceMemory;
import dev.longconv.LongConvException;
import dev.longconv.cuda.Cuda;
import dev.longconv.cuda.DeviceBuffer;

/** Allocates CUDA device memory for tensors ({@link dev.longconv.Tensor#empty(Device, dev.longconv.DType, long...)}). */
public final class CudaMemoryAllocator implements DeviceMemory.Allocator {
    @Override
    public Device.Kind kind() {
        return Device.Kind.CUDA;
    }

    /** Makes {@code device} the calling thread's current device; CudaException when it has not enough free memory. */
    @Override
    public DeviceMemory allocate(Device device, long bytes) {
        Cuda.require("a tensor on " + device);
        int count = Cuda.devices().size();
        if (device.index() >= count) throw new LongConvException("tensor", "device", "a CUDA device index below " + count, device.toString());
        Cuda.setDevice(device.index());
        return new CudaMemory(DeviceBuffer.allocate(bytes), device);
    }
}
