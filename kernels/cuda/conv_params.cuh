// The convolution problem as CUDA kernels see it: plain ints passed by value (extents fit in
// int; flat element counts are int64). Spatial arrays are [D, H, W] as in Shape.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_check.hpp"
#include "convbench/shape.hpp"

namespace convbench::cuda {

struct ConvParams {
  int N, C, K, Cg, Kg, groups;
  int in[3], k[3], out[3], pad[3], stride[3], dil[3];
  int in_vol, k_vol, out_vol;
};

inline ConvParams conv_params(const Shape& s) {
  ConvParams p{};
  const auto narrow = [&](int64_t v, const char* what) {
    if (v > INT32_MAX) throw std::length_error(std::string(what) + " of " + s.to_string() + " exceeds int range");
    return static_cast<int>(v);
  };
  p.N = narrow(s.N, "N"), p.C = narrow(s.C, "C"), p.K = narrow(s.K, "K");
  p.Cg = narrow(s.Cg(), "C/groups"), p.Kg = narrow(s.Kg(), "K/groups"), p.groups = narrow(s.groups, "groups");
  for (int i = 0; i < kMaxDims; ++i) {
    p.in[i] = narrow(s.in[i], "input extent"), p.k[i] = narrow(s.kernel[i], "kernel extent");
    p.out[i] = narrow(s.out[i], "output extent"), p.pad[i] = narrow(s.pad[i], "padding");
    p.stride[i] = narrow(s.stride[i], "stride"), p.dil[i] = narrow(s.dilation[i], "dilation");
  }
  p.in_vol = narrow(s.in_volume(), "input volume"), p.k_vol = narrow(s.kernel_volume(), "kernel volume");
  p.out_vol = narrow(s.out_volume(), "output volume");
  return p;
}

// Why s does not fit the kernels' int indices ("" when it does): a supports() reason.
inline std::string conv_params_refusal(const Shape& s) {
  try {
    conv_params(s);
  } catch (const std::length_error& e) {
    return e.what();
  }
  return {};
}

// Blocks for a grid-stride loop over n elements: enough to fill the device, never above the
// grid limit.
inline unsigned grid_for(int64_t n, int block) {
  const int64_t b = (n + block - 1) / block;
  return static_cast<unsigned>(b < 1 ? 1 : b > (1 << 24) ? (1 << 24) : b);
}

// Whether element indices up to `largest` (with room for a grid-stride loop's last step) fit
// int32: kernels that divide per element then index in 32 bits, as 64-bit integer division
// costs several times more on a GPU. Tests lower the bound (cuda_wide_index_from).
inline bool index_fits_int32(int64_t largest) {
  return largest < std::min<int64_t>(cuda_wide_index_from().load(std::memory_order_relaxed), int64_t(1) << 30);
}

// Output index along a dim that input i meets through tap r, or -1 (gather form of dgrad).
__device__ __forceinline__ int out_index(int i, int r, int pad, int stride, int dil, int out) {
  const int t = i + pad - r * dil;
  if (t < 0 || t % stride != 0) return -1;
  const int o = t / stride;
  return o < out ? o : -1;
}

}  // namespace convbench::cuda
