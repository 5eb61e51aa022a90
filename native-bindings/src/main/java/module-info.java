/**
 * FFM bindings to the CUDA runtime, cuFFT, cuBLAS and longconv's kernels: the jextract output (not exported but to the
 * cuda backend) under a small safe layer ({@code dev.longconv.cuda}). Downcalls are restricted methods: run with
 * {@code --enable-native-access=dev.longconv.cuda} on the module path.
 */
module dev.longconv.cuda {
    requires dev.longconv.kernels.cuda;

    // The platform artifact (dev.longconv.kernels.cuda.linux.x86_64) provides the library; this clause makes the
    // module path resolve it by service binding, with no --add-modules.
    uses dev.longconv.kernels.cuda.NativeKernels;

    exports dev.longconv.cuda;
    exports dev.longconv.cuda.gen.cudart to dev.longconv.backend.cuda;
    exports dev.longconv.cuda.gen.cufft to dev.longconv.backend.cuda;
    exports dev.longconv.cuda.gen.cublas to dev.longconv.backend.cuda;
    exports dev.longconv.cuda.gen.kernels to dev.longconv.backend.cuda;
}
