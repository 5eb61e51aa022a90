/**
 * The cuda backend: every op on an NVIDIA GPU. On the module path (with {@code --enable-native-access=dev.longconv.cuda})
 * it registers its backend and its device-memory allocator with {@code dev.longconv}.
 */
module dev.longconv.backend.cuda {
    requires dev.longconv;
    requires dev.longconv.cuda;

    exports dev.longconv.backend.cuda;

    provides dev.longconv.ops.BackendProvider with dev.longconv.backend.cuda.CudaBackendProvider;
    provides dev.longconv.DeviceMemory.Allocator with dev.longconv.backend.cuda.CudaMemoryAllocator;
}
