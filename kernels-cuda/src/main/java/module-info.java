/**
 * longconv's CUDA kernels as a native library resource ({@code dev/longconv/native/linux-x86_64/liblongconv_cuda.so},
 * built when nvcc is found); no Java API. The bindings module requires it so that the library is on the module path
 * with them.
 */
module dev.longconv.kernels.cuda {
}
