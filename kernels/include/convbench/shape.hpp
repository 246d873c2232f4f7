// Convolution problem description: dims, batch, channels, per-dim extents, padding, stride,
// dilation and groups. Spatial arrays are always 3 long (D, H, W); unused leading dims hold 1
// (padding 0) so every kernel can loop over three spatial dims.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace convbench {

inline constexpr int kMaxDims = 3;
using Extent = std::array<int64_t, kMaxDims>;  // [0]=D, [1]=H, [2]=W

// Thrown by Shape construction; the message names the offending field and values.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// What a user states. Per-dim vectors list the active dims outermost first (e.g. {H, W});
// pad/stride/dilation may hold a single value meaning "all dims".
struct ShapeParams {
  int64_t N = 1, C = 1, K = 1, groups = 1;
  std::vector<int64_t> in, kernel;
  std::vector<int64_t> pad{0}, stride{1}, dilation{1};
};

struct Shape {
  int dims = 0;
  int64_t N = 0, C = 0, K = 0, groups = 1;
  Extent in{1, 1, 1}, kernel{1, 1, 1}, pad{0, 0, 0}, stride{1, 1, 1}, dilation{1, 1, 1};
  Extent out{1, 1, 1};

  // Validates and fills `out`; throws ShapeError naming the field.
  static Shape make(const ShapeParams& p);

  int64_t Cg() const { return C / groups; }  // input channels per group
  int64_t Kg() const { return K / groups; }  // output channels per group
  int64_t padded(int i) const { return in[i] + 2 * pad[i]; }
  int64_t dilated_kernel(int i) const { return dilation[i] * (kernel[i] - 1) + 1; }
  int64_t in_volume() const { return in[0] * in[1] * in[2]; }
  int64_t kernel_volume() const { return kernel[0] * kernel[1] * kernel[2]; }
  int64_t out_volume() const { return out[0] * out[1] * out[2]; }
  int64_t x_elems() const { return N * C * in_volume(); }
  int64_t w_elems() const { return K * Cg() * kernel_volume(); }
  int64_t y_elems() const { return N * K * out_volume(); }
  // Multiply-adds of direct convolution for one pass (fprop, dgrad and wgrad are equal).
  int64_t direct_macs() const { return N * K * Cg() * out_volume() * kernel_volume(); }

  // "N=2,C=3,K=4,in=5x7,k=3x3,pad=1,stride=1,dilation=1,groups=1" (active dims only).
  std::string to_string() const;
};

bool operator==(const Shape& a, const Shape& b);

// Name of spatial index i (0..2) as used in messages: "D", "H", "W".
std::string_view dim_name(int i);

enum class Pass { fprop, dgrad, wgrad, step };
inline constexpr std::array<Pass, 4> kAllPasses{Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step};
std::string_view to_string(Pass p);
// Throws std::invalid_argument listing the valid names.
Pass parse_pass(std::string_view s);

}  // namespace convbench
