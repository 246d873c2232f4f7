// Overlap-save tiling of a convolution: DESIGN.md's tiled FFT variant for large inputs with small
// kernels. The outputs are cut into tiles of `out` points per dim; tile j reads the padded input
// from j*out*stride on, (out-1)*stride + dilated kernel points long. Each tile is then an
// unpadded convolution of its own, and the tiles become extra batch entries of one smaller
// problem whose transforms are small (and the filters' spectra with them):
//   fprop: x tiles (overlapping) -> y tiles (disjoint)
//   dgrad: dy tiles -> dx tiles, summed where they overlap (overlap-add)
//   wgrad: x tiles, dy tiles -> dw directly (the batch sum runs over the tiles too)
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/host_device.hpp"
#include "convbench/shape.hpp"

namespace convbench {

// Copies between a tensor [batch][channels][full D][H][W] and its tiles
// [batch][tile][channels][tile D][H][W]; tiles are numbered with D outermost. Tile j starts at
// j*step - offset in the tensor's coordinates (offset: the padding). Plain arrays: CUDA kernels
// take it by value.
struct TileCopy {
  int64_t batch = 1, channels = 1, tiles = 1;
  int64_t full[kMaxDims] = {1, 1, 1}, tile[kMaxDims] = {1, 1, 1}, step[kMaxDims] = {1, 1, 1};
  int64_t offset[kMaxDims] = {0, 0, 0}, count[kMaxDims] = {1, 1, 1};

  CB_HD int64_t tile_volume() const { return tile[0] * tile[1] * tile[2]; }
  CB_HD int64_t full_volume() const { return full[0] * full[1] * full[2]; }
  CB_HD int64_t tiled_elems() const { return batch * tiles * channels * tile_volume(); }
  CB_HD int64_t full_elems() const { return batch * channels * full_volume(); }

  // Rows along W: the tiled tensor has tiled_rows() rows of tile[2] elements, the tensor
  // full_rows() rows of full[2]. A row's index arithmetic is done once and its elements are
  // shared by `lanes` workers (a warp on the GPU), worker `lane` taking lane, lane + lanes, ...
  // I: the index type (CUDA kernels use 32 bits when the tensors allow: 64-bit division is slow).
  CB_HD int64_t tiled_rows() const { return batch * tiles * channels * tile[0] * tile[1]; }
  CB_HD int64_t full_rows() const { return batch * channels * full[0] * full[1]; }

  // Row r of the tiled tensor: the tensor elements it covers, 0 outside the tensor.
  template <class I>
  CB_HD void gather_row(const float* src, float* tiled, I r, int lane, int lanes) const {
    I q = r;
    const I u1 = q % I(tile[1]);
    q /= I(tile[1]);
    const I u0 = q % I(tile[0]);
    q /= I(tile[0]);
    const I c = q % I(channels);
    q /= I(channels);
    I t = q % I(tiles);
    const I n = q / I(tiles);
    const I j2 = t % I(count[2]);
    t /= I(count[2]);
    const I j1 = t % I(count[1]), j0 = t / I(count[1]);
    const I z0 = j0 * I(step[0]) + u0 - I(offset[0]), z1 = j1 * I(step[1]) + u1 - I(offset[1]);
    const I z2 = j2 * I(step[2]) - I(offset[2]);  // tensor position of u2 = 0
    const bool inside = z0 >= 0 && z0 < I(full[0]) && z1 >= 0 && z1 < I(full[1]);
    const I base = (((n * I(channels) + c) * I(full[0]) + z0) * I(full[1]) + z1) * I(full[2]) + z2;
    float* out = tiled + r * I(tile[2]);
    for (I u2 = lane; u2 < I(tile[2]); u2 += lanes)
      out[u2] = inside && z2 + u2 >= 0 && z2 + u2 < I(full[2]) ? src[base + u2] : 0.0f;
  }

  // Row r of the tensor: each element the sum of the tile elements covering it (one term where
  // tiles do not overlap, none where no tile reaches).
  template <class I>
  CB_HD void sum_row(const float* tiled, float* dst, I r, int lane, int lanes) const {
    I q = r;
    const I z1 = q % I(full[1]) + I(offset[1]);
    q /= I(full[1]);
    const I z0 = q % I(full[0]) + I(offset[0]);
    q /= I(full[0]);
    const I c = q % I(channels), n = q / I(channels);
    I lo0, hi0, lo1, hi1;
    covering(z0, 0, lo0, hi0);
    covering(z1, 1, lo1, hi1);
    const I volume = I(tile_volume());
    float* out = dst + r * I(full[2]);
    for (I x = lane; x < I(full[2]); x += lanes) {
      const I z2 = x + I(offset[2]);
      I lo2, hi2;
      covering(z2, 2, lo2, hi2);
      float sum = 0.0f;
      for (I j0 = lo0; j0 <= hi0; ++j0)
        for (I j1 = lo1; j1 <= hi1; ++j1)
          for (I j2 = lo2; j2 <= hi2; ++j2) {
            const I t = (j0 * I(count[1]) + j1) * I(count[2]) + j2;
            const I u = ((z0 - j0 * I(step[0])) * I(tile[1]) + (z1 - j1 * I(step[1]))) * I(tile[2]) +
                        (z2 - j2 * I(step[2]));
            sum += tiled[((n * I(tiles) + t) * I(channels) + c) * volume + u];
          }
      out[x] = sum;
    }
  }

  // The tiles [lo, hi] of dim i whose span holds position z (offset included); empty: lo > hi.
  template <class I>
  CB_HD void covering(I z, int i, I& lo, I& hi) const {
    lo = z < I(tile[i]) ? I(0) : (z - I(tile[i])) / I(step[i]) + 1;  // first tile ending after z
    hi = z / I(step[i]) < I(count[i]) - 1 ? z / I(step[i]) : I(count[i]) - 1;
  }
};

// How a shape is cut into tiles. `sub` is one tile's problem with batch N * tiles; when tiles
// is 1 the shape is run as it is (no copies).
struct TilePlan {
  Shape sub;
  Extent count{1, 1, 1};  // tiles per dim
  int64_t tiles = 1;

  TileCopy input(const Shape& s) const;   // x and dx tiles
  TileCopy output(const Shape& s) const;  // y and dy tiles
};

// Tiles whose inputs span at most `extent` points per active dim (a dim whose padded input is
// no longer stays whole). Throws ShapeError naming the dim when extent is below its dilated
// kernel.
TilePlan plan_tiles(const Shape& s, int64_t extent);

// The planner: among tile extents that are transform sizes of the policy (from the largest
// dilated kernel up to kMaxTileExtent or 8 of those kernels, and the whole padded input as one
// tile), the one of least `cost` that `accepts` takes.
// Both are called with the shape the inner algorithm would run: the batch of tiles, or the
// shape itself for one tile. On a tie, the larger extent (fewer tiles, fewer copies). 0 when
// none is accepted.
constexpr int64_t kMaxTileExtent = 256;
int64_t choose_tile_extent(const Shape& s, FftSizePolicy policy, const std::function<double(const Shape&)>& cost,
                           const std::function<bool(const Shape&)>& accepts);

// A tile extent and its cost under the planner's model.
struct TileCandidate {
  int64_t extent;
  double cost;
};
// The finalists a timing planner runs, at most `most` accepted extents of cost within `spread`
// times the least: choose_tile_extent's pick first, then (with three or more) the cheapest
// larger and the cheapest smaller tile extent, then the cheapest others; after the pick in the
// model's order. A tile extent within kTileNeighbour of a finalist's is left out: the model
// often ranks a dozen extents within 10% in an order that drifts from run to run, and
// neighbours (14, 15, 16) then filled the finalists while a distinct one ran faster (256^2,
// k = 3, S = 8: tiles of 32 took 0.79x the step time of 16). With `with_whole`, the whole input
// (one tile) joins them whenever it is within the spread, last when beyond `most`: it is what
// tiles must beat. Empty when none is accepted.
constexpr double kTileNeighbour = 1.25;
std::vector<TileCandidate> tile_extent_finalists(const Shape& s, FftSizePolicy policy,
                                                 const std::function<double(const Shape&)>& cost,
                                                 const std::function<bool(const Shape&)>& accepts, double spread,
                                                 size_t most, bool with_whole = false);

}  // namespace convbench
