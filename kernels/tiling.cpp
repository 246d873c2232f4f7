#include "convbench/tiling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "convbench/fft_size.hpp"

namespace convbench {

TilePlan plan_tiles(const Shape& s, int64_t extent) {
  TilePlan plan;
  ShapeParams p;
  p.C = s.C, p.K = s.K, p.groups = s.groups;
  p.pad.clear(), p.stride.clear(), p.dilation.clear();
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    const int64_t padded = s.padded(i), dk = s.dilated_kernel(i);
    int64_t tile_in = padded;
    if (extent < padded) {
      if (extent < dk)
        throw ShapeError(fmt::format("tile extent {} is below the dilated kernel ({}) in dim {}", extent, dk, dim_name(i)));
      const int64_t tile_out = (extent - dk) / s.stride[i] + 1;
      plan.count[i] = (s.out[i] + tile_out - 1) / tile_out;
      tile_in = (tile_out - 1) * s.stride[i] + dk;
    }
    p.in.push_back(tile_in);
    p.kernel.push_back(s.kernel[i]);
    p.pad.push_back(0);
    p.stride.push_back(s.stride[i]);
    p.dilation.push_back(s.dilation[i]);
    plan.tiles *= plan.count[i];
  }
  p.N = s.N * plan.tiles;
  plan.sub = Shape::make(p);
  return plan;
}

TileCopy TilePlan::input(const Shape& s) const {
  TileCopy g;
  g.batch = s.N, g.channels = s.C, g.tiles = tiles;
  for (int i = 0; i < kMaxDims; ++i) {
    g.full[i] = s.in[i], g.tile[i] = sub.in[i], g.step[i] = sub.out[i] * s.stride[i];
    g.offset[i] = s.pad[i], g.count[i] = count[i];
  }
  return g;
}

TileCopy TilePlan::output(const Shape& s) const {
  TileCopy g;
  g.batch = s.N, g.channels = s.K, g.tiles = tiles;
  for (int i = 0; i < kMaxDims; ++i) {
    g.full[i] = s.out[i], g.tile[i] = sub.out[i], g.step[i] = sub.out[i];
    g.offset[i] = 0, g.count[i] = count[i];
  }
  return g;
}

std::vector<TileCandidate> tile_extent_finalists(const Shape& s, FftSizePolicy policy,
                                                 const std::function<double(const Shape&)>& cost,
                                                 const std::function<bool(const Shape&)>& accepts, double spread,
                                                 size_t most, bool with_whole) {
  // Tile extents are transform sizes: powers of two under pow2, else 7-smooth sizes (the inner
  // planner may still pad a tile to a cheaper size).
  const FftSizePolicy sizes = policy == FftSizePolicy::pow2 ? policy : FftSizePolicy::smooth;
  int64_t smallest = 1, largest = 1;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i)
    smallest = std::max(smallest, s.dilated_kernel(i)), largest = std::max(largest, s.padded(i));
  // Tiles pay with small transforms: extents up to kMaxTileExtent (or 8 dilated kernels), then
  // the whole input as one tile. That bounds the planner's work (and a measured cost's timings)
  // on large inputs.
  const int64_t ceiling = std::max(kMaxTileExtent, 8 * smallest);
  std::vector<TileCandidate> candidates;
  auto consider = [&](int64_t extent) {
    const TilePlan plan = plan_tiles(s, extent);
    candidates.push_back({extent, cost(plan.tiles == 1 ? s : plan.sub)});
  };
  for (int64_t e = fft_size(smallest, sizes); e < largest && e <= ceiling; e = fft_size(e + 1, sizes)) consider(e);
  consider(largest);
  // Cheapest first; on a tie, the larger extent (fewer tiles, fewer copies).
  std::sort(candidates.begin(), candidates.end(), [](const TileCandidate& a, const TileCandidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.extent > b.extent;
  });
  std::vector<TileCandidate> finalists;
  std::vector<int64_t> tile_extents;  // the finalists' that run more than one tile
  bool whole_in = false;
  auto is_whole = [&](const TileCandidate& c) { return plan_tiles(s, c.extent).tiles == 1; };
  auto neighbour = [&](int64_t extent) {
    return std::any_of(tile_extents.begin(), tile_extents.end(), [&](int64_t e) {
      return double(std::max(e, extent)) < kTileNeighbour * double(std::min(e, extent));
    });
  };
  // Adds c when it may be a finalist: not yet in nor a neighbour, within the spread of the
  // pick (the first taken), accepted.
  auto take = [&](const TileCandidate& c) {
    const bool whole = is_whole(c);
    if (whole ? whole_in : neighbour(c.extent)) return false;
    if (!finalists.empty() && !(c.cost <= finalists.front().cost * spread)) return false;
    if (!accepts(whole ? s : plan_tiles(s, c.extent).sub)) return false;
    finalists.push_back(c), whole_in |= whole;
    if (!whole) tile_extents.push_back(c.extent);
    return true;
  };
  for (const TileCandidate& c : candidates)
    if (take(c)) break;
  if (finalists.empty()) return finalists;
  // With three or more, the pick's cheapest larger and smaller tiles come next (the whole input
  // is no larger tile): what the model misses (the tile copies, the batch's cache traffic)
  // grows with the distance in extent, and its errors lean one way (tiles of 32 at 1.1x the
  // modelled cost of 16 took 0.79x its time), so the timing brackets its pick.
  const int64_t pick = finalists.front().extent;
  if (most >= 3) {
    for (const TileCandidate& c : candidates)
      if (c.extent > pick && !is_whole(c) && take(c)) break;
    for (const TileCandidate& c : candidates)
      if (c.extent < pick && take(c)) break;
  }
  for (const TileCandidate& c : candidates)
    if (finalists.size() < most) take(c);
  std::stable_sort(finalists.begin() + 1, finalists.end(), [](const TileCandidate& a, const TileCandidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.extent > b.extent;
  });
  if (with_whole && !whole_in)
    for (const TileCandidate& c : candidates)
      if (is_whole(c)) take(c);
  return finalists;
}

int64_t choose_tile_extent(const Shape& s, FftSizePolicy policy, const std::function<double(const Shape&)>& cost,
                           const std::function<bool(const Shape&)>& accepts) {
  const std::vector<TileCandidate> pick = tile_extent_finalists(s, policy, cost, accepts, 1, 1);
  return pick.empty() ? 0 : pick.front().extent;
}

}  // namespace convbench
