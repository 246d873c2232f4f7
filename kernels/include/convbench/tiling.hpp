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

  // Element e of the tiled tensor: the tensor element it covers, 0 outside the tensor. I: the
  // index type (CUDA kernels use 32 bits when the tensors allow: 64-bit division is slow there).
  template <class I>
  CB_HD float gather(const float* src, I e) const {
    I u[kMaxDims], j[kMaxDims];
    for (int i = kMaxDims - 1; i >= 0; --i) u[i] = e % I(tile[i]), e /= I(tile[i]);
    const I c = e % I(channels);
    e /= I(channels);
    I t = e % I(tiles);
    const I n = e / I(tiles);
    for (int i = kMaxDims - 1; i >= 0; --i) j[i] = t % I(count[i]), t /= I(count[i]);
    I index = n * I(channels) + c;
    for (int i = 0; i < kMaxDims; ++i) {
      const I z = j[i] * I(step[i]) + u[i] - I(offset[i]);
      if (z < 0 || z >= I(full[i])) return 0.0f;
      index = index * I(full[i]) + z;
    }
    return src[index];
  }

  // Element e of the tensor: the sum of the tile elements covering it (one term where tiles do
  // not overlap, none where no tile reaches).
  template <class I>
  CB_HD float sum_tiles(const float* tiles_src, I e) const {
    I z[kMaxDims], lo[kMaxDims], hi[kMaxDims];
    for (int i = kMaxDims - 1; i >= 0; --i) z[i] = e % I(full[i]) + I(offset[i]), e /= I(full[i]);
    const I c = e % I(channels), n = e / I(channels);
    for (int i = 0; i < kMaxDims; ++i) {
      lo[i] = z[i] < I(tile[i]) ? I(0) : (z[i] - I(tile[i])) / I(step[i]) + 1;  // first tile ending after z
      hi[i] = z[i] / I(step[i]) < I(count[i]) - 1 ? z[i] / I(step[i]) : I(count[i]) - 1;
    }
    const I volume = I(tile_volume());
    float sum = 0.0f;
    for (I j0 = lo[0]; j0 <= hi[0]; ++j0)
      for (I j1 = lo[1]; j1 <= hi[1]; ++j1)
        for (I j2 = lo[2]; j2 <= hi[2]; ++j2) {
          const I t = (j0 * I(count[1]) + j1) * I(count[2]) + j2;
          const I u = ((z[0] - j0 * I(step[0])) * I(tile[1]) + (z[1] - j1 * I(step[1]))) * I(tile[2]) +
                      (z[2] - j2 * I(step[2]));
          sum += tiles_src[((n * I(tiles) + t) * I(channels) + c) * volume + u];
        }
    return sum;
  }
};

// How a shape is cut into tiles. `sub` is one tile's problem with batch N * tiles; when tiles
// is 1 the shape is run as it is (no copies).
struct TilePlan {
  Shape sub;
  Extent count{1, 1, 1};  // tiles per dim
  int64_t tiles = 1;

  TileCopy input(const Shape& s, int64_t channels) const;  // x and dx tiles
  TileCopy output(const Shape& s) const;                   // y and dy tiles
};

// Tiles whose inputs span at most `extent` points per active dim (a dim whose padded input is
// no longer stays whole). Throws ShapeError naming the dim when extent is below its dilated
// kernel.
TilePlan plan_tiles(const Shape& s, int64_t extent);

// The planner: among tile extents that are transform sizes of the policy (from the largest
// dilated kernel up to the whole padded input), the one with the lowest modelled cost (tile
// transforms + per-bin GEMMs over the tiles) that `accepts` takes (called with the shape the
// inner algorithm would run: the sub-problem, or the shape itself for one tile). 0 when none.
int64_t choose_tile_extent(const Shape& s, FftSizePolicy policy, const std::function<bool(const Shape&)>& accepts);

}  // namespace convbench
