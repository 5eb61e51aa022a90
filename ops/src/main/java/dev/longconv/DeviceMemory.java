package dev.longconv;

import java.lang.foreign.MemorySegment;

/**
 * Bytes on an accelerator device that a {@link Tensor} owns: what a tensor needs of device memory (its
 * size, filling it, copies to and from the host and between buffers of one device). A device backend
 * implements it together with an {@link Allocator} (the cuda module does, for CUDA devices), so the core
 * types never touch a device API. Copies wait until the data has arrived.
 */
public interface DeviceMemory extends AutoCloseable {
    /** The device the bytes are on. */
    Device device();

    /** Size in bytes. */
    long byteSize();

    /** Whether {@link #close()} has freed the memory. */
    boolean isClosed();

    /** Sets every byte to {@code byteValue} (its low 8 bits). */
    void fill(int byteValue);

    /** Copies {@code src.byteSize()} bytes from host memory to {@code dstOffset}. */
    void copyFromHost(MemorySegment src, long dstOffset);

    /** Copies {@code dst.byteSize()} bytes from {@code srcOffset} to host memory. */
    void copyToHost(long srcOffset, MemorySegment dst);

    /** Copies {@code bytes} bytes from {@code src} (on the same device) at {@code srcOffset} to {@code dstOffset}. */
    void copyFrom(DeviceMemory src, long srcOffset, long dstOffset, long bytes);

    /** Frees the memory. Idempotent. */
    @Override
    void close();

    /**
     * Makes device memory for one kind of device. Implementations are found with {@link java.util.ServiceLoader}
     * (a device backend's module provides one), so {@link Tensor#empty(Device, DType, long...)} works for any
     * device whose backend is on the class or module path.
     */
    interface Allocator {
        /** The kind of device this allocator serves. */
        Device.Kind kind();

        /**
         * {@code bytes} bytes (at least 1) on {@code device}, uninitialised.
         *
         * @throws LongConvException    if the device does not exist here
         * @throws IllegalStateException if the device cannot be used (no driver, out of memory), with the reason
         */
        DeviceMemory allocate(Device device, long bytes);
    }
}
