/**
 * longconv's CUDA kernels built for Linux on x86-64: {@code liblongconv_cuda.so} and the service entry that makes
 * the bindings find it.
 */
module dev.longconv.kernels.cuda.linux.x86_64 {
    requires dev.longconv.kernels.cuda;

    provides dev.longconv.kernels.cuda.NativeKernels with dev.longconv.kernels.cuda.linux.x86_64.LinuxX8664Kernels;
}
