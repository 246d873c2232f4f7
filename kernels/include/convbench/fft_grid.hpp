// Pieces of the FFT convolution shared by cuda.fft (cuFFT transforms) and cuda.fbfft (own
// transforms): where a tensor sits in the zero-padded transform grid, and the group-major plane
// order of the frequency-major buffers. Host and device (the host tests simulate the kernels).
#pragma once

#include <cstdint>

#include "convbench/host_device.hpp"
#include "convbench/shape.hpp"

namespace convbench {

enum Family { fX = 0, fW = 1, fY = 2 };

// Where a tensor lives in the grid: element i of dim d sits at off[d] + i*step[d]; ext[d] = 1,
// off 0, step 1 in the dims a transform does not use.
struct Placement {
  int ext[3], off[3], step[3];
};

inline Placement placement(const Shape& s, Family f) {
  Placement pl{};
  for (int i = 0; i < kMaxDims; ++i) {
    if (f == fX) pl.ext[i] = int(s.in[i]), pl.off[i] = int(s.pad[i]), pl.step[i] = 1;
    if (f == fW) pl.ext[i] = int(s.kernel[i]), pl.off[i] = 0, pl.step[i] = int(s.dilation[i]);
    if (f == fY) pl.ext[i] = int(s.out[i]), pl.off[i] = 0, pl.step[i] = int(s.stride[i]);
  }
  return pl;
}

// Index along a dim of the tensor element at grid position g, or -1 (padding, a stride gap).
CB_HD int source_index(int g, int off, int step, int ext) {
  const int t = g - off;
  if (step == 1) return t >= 0 && t < ext ? t : -1;  // the common case, without integer division
  if (t < 0 || t % step != 0 || t / step >= ext) return -1;
  return t / step;
}

// Plane p = (o, g, i) of a family -> its group-major position (g, o, i) inside a bin.
struct PlaneOrder {
  int64_t groups, outer, inner;
  CB_HD int64_t operator()(int64_t p) const {
    if (groups == 1) return p;
    const int64_t i = p % inner, t = p / inner;
    return ((t % groups) * outer + t / groups) * inner + i;
  }
};

}  // namespace convbench
