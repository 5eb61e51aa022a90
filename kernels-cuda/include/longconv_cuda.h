/* longconv CUDA kernels: the C ABI that Java binds through FFM.
 * Rules for every entry point: device pointers and sizes in, a cudaStream_t to run on,
 * cudaError_t out (the launch error is checked before returning), no allocation, no host sync. */
#ifndef LONGCONV_CUDA_H
#define LONGCONV_CUDA_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LONGCONV_CUDA_ABI_VERSION 1

#if defined(__GNUC__)
#define LONGCONV_API __attribute__((visibility("default")))
#else
#define LONGCONV_API
#endif

/* The ABI version this library was built with; Java refuses a library whose version differs. */
LONGCONV_API int longconv_abi_version(void);

/* y[i] = alpha * x[i] for i < n (float32). Exists so the build and the bindings have a real kernel
 * to carry before the convolution kernels land. */
LONGCONV_API cudaError_t longconv_scale_f32(const float* x, float* y, int64_t n, float alpha,
                                            cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
