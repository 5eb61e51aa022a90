/**
 * longconv: tensors, the long-convolution ops and their float64 reference, the scalar and vector backends, the STU and
 * TNN layers, and .npy and safetensors I/O. Backends are found as {@link dev.longconv.ops.BackendProvider}s (this module
 * provides scalar and vector; the {@code dev.longconv.backend.cuda} module adds cuda), and device memory through
 * {@link dev.longconv.DeviceMemory.Allocator}s. The backends' rooms and the implementer's toolkit are not API.
 */
module dev.longconv {
    requires dev.longconv.simd;
    requires jdk.incubator.vector;
    // System.Logger needs no module; the tests (compiled into this module) capture its records through java.util.logging
    requires static java.logging;

    exports dev.longconv;
    exports dev.longconv.io;
    exports dev.longconv.ops;
    exports dev.longconv.layers;
    exports dev.longconv.ops.spi to dev.longconv.backend.cuda;

    uses dev.longconv.ops.BackendProvider;
    uses dev.longconv.DeviceMemory.Allocator;

    provides dev.longconv.ops.BackendProvider with dev.longconv.backend.vector.VectorBackendProvider, dev.longconv.backend.scalar.ScalarBackendProvider;
}
