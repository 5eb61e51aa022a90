/**
 * longconv's CUDA kernels: the service through which a platform artifact supplies the native library. The library
 * itself ({@code liblongconv_cuda.so}) is in the classifier artifact {@code longconv-kernels-cuda-VERSION-linux-x86_64.jar}
 * (module {@code dev.longconv.kernels.cuda.linux.x86_64}), so this jar is the same whether or not the building
 * machine had nvcc.
 */
module dev.longconv.kernels.cuda {
    exports dev.longconv.kernels.cuda;
}
