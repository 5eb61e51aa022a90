// Layout conversion BDL <-> BLD: a batched transpose of [R, C] matrices (BDL -> BLD: R = D, C = L;
// BLD -> BDL: R = L, C = D).
//
// Grid choice: 32x32 tiles through shared memory with one column of padding, a 32x8 block walking a
// tile in 4 steps. Reads walk C and writes walk R with threadIdx.x, so both are 128-byte coalesced,
// and the padded column makes the transposed shared-memory read conflict-free. grid.x covers C,
// grid.y (strided) R, grid.z (strided) the batch.
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kTile = 32;
constexpr int kRows = 8;

__global__ void transposeBatched(const float* __restrict__ in, float* __restrict__ out, int64_t B, int64_t R,
                                 int64_t C) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t c0 = blockIdx.x * (int64_t)kTile;
  const int64_t rTiles = ceilDiv(R, kTile);
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int64_t rt = blockIdx.y; rt < rTiles; rt += gridDim.y) {
      const int64_t r0 = rt * kTile;
      for (int k = ty; k < kTile; k += kRows) {
        const int64_t r = r0 + k, c = c0 + tx;
        if (r < R && c < C) tile[k][tx] = in[(b * R + r) * C + c];
      }
      __syncthreads();
      for (int k = ty; k < kTile; k += kRows) {
        const int64_t c = c0 + k, r = r0 + tx;
        if (r < R && c < C) out[(b * C + c) * R + r] = tile[tx][k];
      }
      __syncthreads();
    }
  }
}

}  // namespace
}  // namespace longconv

using namespace longconv;

extern "C" cudaError_t longconv_convert_layout_f32(const float* in, float* out, int64_t B, int64_t D, int64_t L,
                                                   int from_layout, int to_layout, cudaStream_t stream) {
  if (in == nullptr || out == nullptr || B < 0 || D < 0 || L < 0 || !validLayout(from_layout) ||
      !validLayout(to_layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  if (from_layout == to_layout) {
    return cudaMemcpyAsync(out, in, (size_t)(B * D * L) * sizeof(float), cudaMemcpyDeviceToDevice, stream);
  }
  const int64_t R = from_layout == LONGCONV_BDL ? D : L, C = from_layout == LONGCONV_BDL ? L : D;
  dim3 grid(clampX(ceilDiv(C, kTile)), clampYZ(ceilDiv(R, kTile)), clampYZ(B));
  transposeBatched<<<grid, dim3(kTile, kRows), 0, stream>>>(in, out, B, R, C);
  LONGCONV_RETURN_LAUNCH();
}
