// A host emulator for the kernels: each block runs as blockDim real threads (blocks one after another),
// __syncthreads is a block barrier, __shfl_down_sync goes through a per-warp slot array with a warp
// barrier, static __shared__ arrays are shared by the block's threads (blocks run one at a time), and
// dynamic shared memory is a per-launch buffer refilled with NaN before each block.
#pragma once
#include <barrier>
#include <cmath>
#include <thread>
#include <vector>
#include <memory>
#include <functional>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
struct dim3 { unsigned x, y, z; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 gridDim, blockDim;
inline thread_local std::barrier<>* emuBlockBarrier;
inline thread_local std::barrier<>* emuWarpBarrier;
inline thread_local float* emuWarpSlots;
inline thread_local float* emuDynSmem;
inline void __syncthreads() { emuBlockBarrier->arrive_and_wait(); }
template <class T> inline T __ldg(const T* p) { return *p; }
// sin(pi x), cos(pi x): computed in double and rounded, where the device's are within 1-2 ulp of that.
inline void sincospif(float x, float* s, float* c) { *s = (float)std::sin(M_PI * (double)x); *c = (float)std::cos(M_PI * (double)x); }
inline unsigned __brev(unsigned v) { unsigned r = 0; for (int i = 0; i < 32; ++i) { r = (r << 1) | (v & 1u); v >>= 1; } return r; }
inline float __shfl_down_sync(unsigned, float v, int o) {
  int lane = (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31;
  emuWarpSlots[lane] = v;
  emuWarpBarrier->arrive_and_wait();
  float r = lane + o < 32 ? emuWarpSlots[lane + o] : v;
  emuWarpBarrier->arrive_and_wait();
  return r;
}
inline long emuLaunches = 0;
inline void emuLaunch(dim3 grid, dim3 block, size_t smem, std::function<void()> body) {
  emuLaunches++;
  gridDim = grid; blockDim = block;
  unsigned n = block.x * block.y * block.z;
  std::vector<float> dyn(smem / 4 + 1);
  for (unsigned bz = 0; bz < grid.z; ++bz) for (unsigned by = 0; by < grid.y; ++by) for (unsigned bx = 0; bx < grid.x; ++bx) {
    std::barrier<> bar(n);
    unsigned warps = (n + 31) / 32;
    std::vector<std::unique_ptr<std::barrier<>>> wb;
    for (unsigned w = 0; w < warps; ++w) wb.emplace_back(new std::barrier<>(std::min(32u, n - 32 * w)));
    std::vector<float> slots(warps * 32);
    for (auto& v : dyn) v = __builtin_nanf("");
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < n; ++t) {
      ts.emplace_back([&, t] {
        threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
        blockIdx = dim3(bx, by, bz);
        emuBlockBarrier = &bar; emuWarpBarrier = wb[t / 32].get(); emuWarpSlots = &slots[(t / 32) * 32];
        emuDynSmem = dyn.data();
        body();
      });
    }
    for (auto& th : ts) th.join();
  }
}
