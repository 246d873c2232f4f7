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

// Division of indices below 2^31 by a run-time divisor d >= 1 as a multiply-high, an add and a
// shift (Granlund & Montgomery 1994: m = floor(2^32 (2^s - d) / d) + 1, s = ceil(log2 d)): a
// placement kernel splits every index into plane, slice, row and column, and a 32-bit integer
// division costs about 20 instructions on a GPU.
struct FastDiv {
  uint32_t d = 1, m = 1, s = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t divisor) : d(divisor) {
    while ((uint64_t{1} << s) < d) ++s;
    m = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << s) - d)) / d + 1);
  }
  CB_HD uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint32_t hi = __umulhi(n, m);
#else
    const uint32_t hi = static_cast<uint32_t>((uint64_t{n} * m) >> 32);
#endif
    return (hi + n) >> s;  // no overflow: hi <= n < 2^31
  }
  // n / d, and n % d into r.
  CB_HD uint32_t divmod(uint32_t n, uint32_t& r) const {
    const uint32_t q = div(n);
    r = n - q * d;
    return q;
  }
};

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
