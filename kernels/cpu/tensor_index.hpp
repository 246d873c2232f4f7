// Flat indexing shared by the CPU kernels.
#pragma once

#include <cstdint>

#include "convbench/shape.hpp"

namespace convbench::cpu {

// Index of element (n, c, d, h, w) of an [n][c][d][h][w] tensor with C channels and extents e.
inline int64_t at(int64_t n, int64_t c, int64_t C, const Extent& e, int64_t d, int64_t h, int64_t w) {
  return (((n * C + c) * e[0] + d) * e[1] + h) * e[2] + w;
}

// Input coordinate that output o meets through tap r along dim i (may be out of range: padding).
inline int64_t in_coord(const Shape& s, int i, int64_t o, int64_t r) {
  return o * s.stride[i] + r * s.dilation[i] - s.pad[i];
}

inline bool inside(const Shape& s, int i, int64_t v) { return v >= 0 && v < s.in[i]; }

}  // namespace convbench::cpu
