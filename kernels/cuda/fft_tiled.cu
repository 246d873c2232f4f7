// cuda.fft and cuda.fbfft over overlap-save tiles: the tile copies as grid-stride kernels, one
// thread per destination element (gather form: the overlap-add needs no atomics).
#include <cstdint>

#include "conv_params.cuh"
#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_check.hpp"
#include "convbench/tiled_algorithm.hpp"

namespace convbench {
namespace {

constexpr int kBlock = 256;

template <class I>
__global__ void gather_kernel(TileCopy g, const float* __restrict__ src, float* __restrict__ tiles, I n) {
  for (I e = blockIdx.x * I(blockDim.x) + threadIdx.x; e < n; e += I(gridDim.x) * I(blockDim.x))
    tiles[e] = g.gather<I>(src, e);
}

template <class I>
__global__ void sum_tiles_kernel(TileCopy g, const float* __restrict__ tiles, float* __restrict__ dst, I n) {
  for (I e = blockIdx.x * I(blockDim.x) + threadIdx.x; e < n; e += I(gridDim.x) * I(blockDim.x))
    dst[e] = g.sum_tiles<I>(tiles, e);
}

// 32-bit indexing when every index of both tensors fits, the grid-stride loop's last step
// (below 2n + block) included.
bool fits_int32(const TileCopy& g) {
  const int64_t limit = (int64_t(1) << 30) - kBlock;
  return g.tiled_elems() < limit && g.full_elems() < limit;
}

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
    const int64_t n = g.tiled_elems();
    const cudaStream_t s = cuda::as_stream(stream());
    if (fits_int32(g)) gather_kernel<int32_t><<<cuda::grid_for(n, kBlock), kBlock, 0, s>>>(g, src, tiles, int32_t(n));
    else gather_kernel<int64_t><<<cuda::grid_for(n, kBlock), kBlock, 0, s>>>(g, src, tiles, n);
    CB_LAUNCH("gather_kernel");
  }
  void sum_tiles(const TileCopy& g, const float* tiles, float* dst) override {
    const int64_t n = g.full_elems();
    const cudaStream_t s = cuda::as_stream(stream());
    if (fits_int32(g)) sum_tiles_kernel<int32_t><<<cuda::grid_for(n, kBlock), kBlock, 0, s>>>(g, tiles, dst, int32_t(n));
    else sum_tiles_kernel<int64_t><<<cuda::grid_for(n, kBlock), kBlock, 0, s>>>(g, tiles, dst, n);
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
