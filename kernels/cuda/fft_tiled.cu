// cuda.fft and cuda.fbfft over overlap-save tiles: the tile copies as grid-stride kernels over
// destination rows (gather form: the overlap-add needs no atomics).
#include <algorithm>
#include <cstdint>

#include "conv_params.cuh"
#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_check.hpp"
#include "convbench/tiled_algorithm.hpp"

namespace convbench {
namespace {

constexpr int kBlock = 256;

// One warp per row (grid-stride over rows), its lanes along the row: the index arithmetic is
// done once per row and the row's loads and stores are coalesced.
template <class I>
__global__ void gather_kernel(TileCopy g, const float* __restrict__ src, float* __restrict__ tiled, I rows) {
  const I warps = I(gridDim.x) * I(blockDim.x / 32);
  for (I r = I(blockIdx.x) * I(blockDim.x / 32) + I(threadIdx.x / 32); r < rows; r += warps)
    g.gather_row<I>(src, tiled, r, int(threadIdx.x % 32), 32);
}

template <class I>
__global__ void sum_tiles_kernel(TileCopy g, const float* __restrict__ tiled, float* __restrict__ dst, I rows) {
  const I warps = I(gridDim.x) * I(blockDim.x / 32);
  for (I r = I(blockIdx.x) * I(blockDim.x / 32) + I(threadIdx.x / 32); r < rows; r += warps)
    g.sum_row<I>(tiled, dst, r, int(threadIdx.x % 32), 32);
}

// 32-bit indexing when every element index of both tensors fits.
bool fits_int32(const TileCopy& g) { return cuda::index_fits_int32(std::max(g.tiled_elems(), g.full_elems())); }

// Blocks for one warp per row.
unsigned blocks_for_rows(int64_t rows) { return cuda::grid_for(rows * 32, kBlock); }

class CudaTiles final : public TiledAlgorithm {
 public:
  CudaTiles(const char* name, std::unique_ptr<Algorithm> inner, const AlgoOptions& opt)
      : TiledAlgorithm(name, std::move(inner), opt) {}

 private:
  std::shared_ptr<float> allocate(int64_t elems) override {
    auto buffer = std::make_shared<cuda::DeviceBuffer>(static_cast<std::size_t>(elems) * sizeof(float));
    return std::shared_ptr<float>(buffer, buffer->as<float>());
  }
  void gather(const TileCopy& g, const float* src, float* tiles) override {
    const int64_t rows = g.tiled_rows();
    const cudaStream_t s = cuda::as_stream(stream());
    if (fits_int32(g)) gather_kernel<int32_t><<<blocks_for_rows(rows), kBlock, 0, s>>>(g, src, tiles, int32_t(rows));
    else gather_kernel<int64_t><<<blocks_for_rows(rows), kBlock, 0, s>>>(g, src, tiles, rows);
    CB_LAUNCH("gather_kernel");
  }
  void sum_tiles(const TileCopy& g, const float* tiles, float* dst) override {
    const int64_t rows = g.full_rows();
    const cudaStream_t s = cuda::as_stream(stream());
    if (fits_int32(g)) sum_tiles_kernel<int32_t><<<blocks_for_rows(rows), kBlock, 0, s>>>(g, tiles, dst, int32_t(rows));
    else sum_tiles_kernel<int64_t><<<blocks_for_rows(rows), kBlock, 0, s>>>(g, tiles, dst, rows);
    CB_LAUNCH("sum_tiles_kernel");
  }
};

}  // namespace

std::unique_ptr<Algorithm> make_cuda_fft_tiled(const AlgoOptions& opt) {
  return std::make_unique<CudaTiles>("cuda.fft_tiled", make_cuda_fft(opt), opt);
}
std::unique_ptr<Algorithm> make_cuda_fbfft_tiled(const AlgoOptions& opt) {
  return std::make_unique<CudaTiles>("cuda.fbfft_tiled", make_cuda_fbfft(opt), opt);
}

}  // namespace convbench
