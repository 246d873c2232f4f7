// cpu.fft over overlap-save tiles: the tile copies as OpenMP loops.
#include "convbench/cpu_algorithms.hpp"
#include "convbench/tiled_algorithm.hpp"

namespace convbench {
namespace {

class CpuTiles final : public TiledAlgorithm {
 public:
  explicit CpuTiles(const AlgoOptions& opt) : TiledAlgorithm("cpu.fft_tiled", make_cpu_fft(opt), opt) {}

 private:
  std::shared_ptr<float> allocate(int64_t elems) override {
    return std::shared_ptr<float>(new float[elems], std::default_delete<float[]>());
  }
  void gather(const TileCopy& g, const float* src, float* tiles) override {
    const int64_t n = g.tiled_elems();
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < n; ++e) tiles[e] = g.gather<int64_t>(src, e);
  }
  void sum_tiles(const TileCopy& g, const float* tiles, float* dst) override {
    const int64_t n = g.full_elems();
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < n; ++e) dst[e] = g.sum_tiles<int64_t>(tiles, e);
  }
};

}  // namespace

std::unique_ptr<Algorithm> make_cpu_fft_tiled(const AlgoOptions& opt) { return std::make_unique<CpuTiles>(opt); }

}  // namespace convbench
