// cpu.fft over overlap-save tiles. The copies run row by row (contiguous runs along W, zero
// fill at the borders), one (image, channel) plane per OpenMP iteration: dx's overlapping tiles
// are added in sequence within a plane, so no two threads write one element. (TileCopy's row
// functions, which the CUDA kernels share, divide to locate every row; on the CPU these loops
// walk the rows instead, and the copies stay a small part of the time.)
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "convbench/cpu_algorithms.hpp"
#include "convbench/fft_size.hpp"
#include "convbench/tiled_algorithm.hpp"
#include "fft_parts.hpp"

namespace convbench {
namespace {

// Tile t's position per dim (D outermost).
void tile_coords(const TileCopy& g, int64_t t, int64_t j[kMaxDims]) {
  for (int i = kMaxDims - 1; i >= 0; --i) j[i] = t % g.count[i], t /= g.count[i];
}

// Calls row(tile row start, inside, tensor index of u = 0 on that row, first and last+1 u along W
// inside the tensor) for every row of tile t; inside is false for rows wholly in the padding.
// The tensor index may be negative (tile starting in the left padding): only [lo, hi) is read.
template <class Row>
void for_tile_rows(const TileCopy& g, int64_t t, Row&& row) {
  int64_t j[kMaxDims];
  tile_coords(g, t, j);
  const int64_t z2 = j[2] * g.step[2] - g.offset[2];
  const int64_t u_lo = std::clamp<int64_t>(-z2, 0, g.tile[2]), u_hi = std::clamp<int64_t>(g.full[2] - z2, 0, g.tile[2]);
  for (int64_t u0 = 0; u0 < g.tile[0]; ++u0)
    for (int64_t u1 = 0; u1 < g.tile[1]; ++u1) {
      const int64_t z0 = j[0] * g.step[0] + u0 - g.offset[0], z1 = j[1] * g.step[1] + u1 - g.offset[1];
      const int64_t tile_row = (u0 * g.tile[1] + u1) * g.tile[2];
      const bool inside = z0 >= 0 && z0 < g.full[0] && z1 >= 0 && z1 < g.full[1] && u_lo < u_hi;
      row(tile_row, inside, (z0 * g.full[1] + z1) * g.full[2] + z2, u_lo, u_hi);
    }
}

TiledAlgorithm::TileChoice time_tile_finalists(const Shape& s, const AlgoOptions& opt,
                                               const std::vector<TileCandidate>& finalists);

class CpuTiles final : public TiledAlgorithm {
 public:
  explicit CpuTiles(const AlgoOptions& opt) : TiledAlgorithm("cpu.fft_tiled", make_cpu_fft(opt), opt) {}

 private:
  // The model ranks tile sizes by per-plane transform timings and GEMM timings, which miss the
  // tile copies and cache effects of the whole batch: on the 56^2 k = 7 layer its pick flipped
  // between 16 and 32 from run to run. So the finalists are timed as the layer's step, once per
  // layer (and policy) in the process with the first thread count that asks, like cpu.fft's
  // transform sizes.
  size_t tile_finalists() const override { return 3; }
  TileChoice choose_tiles(const Shape& s, const std::vector<TileCandidate>& finalists) const override {
    if (finalists.size() == 1) return {finalists.front().extent, "tile planner: the model's pick, its only finalist"};
    static std::mutex mutex;
    static std::map<std::string, TileChoice> chosen;
    std::string key = fmt::format("{}/{}/{}", s.to_string(), to_string(options().fft_size), options().fft_planning);
    for (const TileCandidate& c : finalists) key += fmt::format("/{}", c.extent);
    std::lock_guard lock(mutex);
    if (auto it = chosen.find(key); it != chosen.end()) return it->second;
    return chosen[key] = time_tile_finalists(s, options(), finalists);
  }

  std::shared_ptr<float> allocate(int64_t elems) override {
    return std::shared_ptr<float>(new float[elems], std::default_delete<float[]>());
  }
  void gather(const TileCopy& g, const float* src, float* tiles) override {
    const int64_t planes = g.batch * g.tiles * g.channels, tv = g.tile_volume(), fv = g.full_volume();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % g.channels, t = (p / g.channels) % g.tiles, n = p / (g.channels * g.tiles);
      const float* s = src + (n * g.channels + c) * fv;
      float* d = tiles + p * tv;
      for_tile_rows(g, t, [&](int64_t tile_row, bool inside, int64_t full_row, int64_t lo, int64_t hi) {
        float* out = d + tile_row;
        if (!inside) return void(std::fill(out, out + g.tile[2], 0.0f));
        std::fill(out, out + lo, 0.0f);
        std::memcpy(out + lo, s + full_row + lo, sizeof(float) * (hi - lo));
        std::fill(out + hi, out + g.tile[2], 0.0f);
      });
    }
  }
  void sum_tiles(const TileCopy& g, const float* tiles, float* dst) override {
    const int64_t planes = g.batch * g.channels, tv = g.tile_volume(), fv = g.full_volume();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % g.channels, n = p / g.channels;
      float* d = dst + p * fv;
      std::fill(d, d + fv, 0.0f);
      for (int64_t t = 0; t < g.tiles; ++t) {
        const float* s = tiles + ((n * g.tiles + t) * g.channels + c) * tv;
        for_tile_rows(g, t, [&](int64_t tile_row, bool inside, int64_t full_row, int64_t lo, int64_t hi) {
          if (!inside) return;
          for (int64_t u = lo; u < hi; ++u) d[full_row + u] += s[tile_row + u];
        });
      }
    }
  }
};

// Planning time per layer that timing the tile finalists may take, as cpu.fft's size planner.
constexpr double kTilePlanLimitNs = 10e9;

// "15x15" (the tile's input points per active dim), or "whole" for one tile.
std::string tile_label(const Shape& s, int64_t extent) {
  const TilePlan plan = plan_tiles(s, extent);
  if (plan.tiles == 1) return "whole";
  std::string out;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    if (!out.empty()) out += 'x';
    out += std::to_string(plan.sub.in[i]);
  }
  return out;
}

// Times each finalist's tiled training step on the layer (copies, inner plans and all;
// time_finalist_steps); the fastest wins unless another is within kTimedTolerance, and then the
// largest extent (fewer tiles). Where timing all would exceed kTilePlanLimitNs, the first
// finalists that fit (the model's pick first); the model's pick, with the reason, when not even
// two fit or a finalist cannot run.
TiledAlgorithm::TileChoice time_tile_finalists(const Shape& s, const AlgoOptions& opt,
                                               const std::vector<TileCandidate>& finalists) {
  std::vector<double> modelled;
  for (const TileCandidate& c : finalists) modelled.push_back(c.cost);
  const FinalistTimes timed = time_finalist_steps(s, modelled, thread_count(opt), [&](size_t i) {
    AlgoOptions forced = opt;
    forced.compression = 0, forced.fft_tile = finalists[i].extent;
    return std::make_unique<CpuTiles>(forced);
  }, kTilePlanLimitNs);
  if (timed.best_ns.empty()) return {finalists.front().extent, "tile planner: the model's pick (" + timed.not_timed + ")"};
  const double least = *std::min_element(timed.best_ns.begin(), timed.best_ns.end());
  TiledAlgorithm::TileChoice choice{0, "tile planner timed steps:"};
  for (size_t i = 0; i < timed.best_ns.size(); ++i) {
    choice.how += fmt::format("{} {} {:.3g} ms", i ? "," : "", tile_label(s, finalists[i].extent), timed.best_ns[i] / 1e6);
    if (timed.best_ns[i] <= least * (1 + kTimedTolerance)) choice.extent = std::max(choice.extent, finalists[i].extent);
  }
  if (!timed.not_timed.empty()) choice.how += " (" + timed.not_timed + ")";
  return choice;
}

}  // namespace

std::unique_ptr<Algorithm> make_cpu_fft_tiled(const AlgoOptions& opt) { return std::make_unique<CpuTiles>(opt); }

}  // namespace convbench
