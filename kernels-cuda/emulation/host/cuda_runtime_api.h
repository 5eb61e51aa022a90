// Stand-in for the CUDA runtime header when the kernels are compiled as host code (emulation/run.sh):
// only the types and the few calls the kernels use. Launch errors never happen on the host.
#pragma once
#include <stdint.h>
#include <string.h>
typedef enum cudaError { cudaSuccess = 0, cudaErrorInvalidValue = 1 } cudaError_t;
typedef struct CUstream_st* cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyDeviceToDevice = 3 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
#ifdef __cplusplus
struct float2 { float x, y; };
inline float2 make_float2(float a, float b) { return float2{a, b}; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t) { memcpy(d, s, n); return cudaSuccess; }
// Raising a kernel's shared-memory limit has no host counterpart: the emulator's buffer is sized per launch.
template <class T> inline cudaError_t cudaFuncSetAttribute(T*, cudaFuncAttribute, int) { return cudaSuccess; }
#include "emu.h"
#endif
