#include "convbench/shape.hpp"

#include <fmt/format.h>

#include <limits>

namespace convbench {

namespace {

// Largest element count we accept for any tensor: keeps every index product in int64 range.
constexpr int64_t kMaxElems = int64_t{1} << 40;

// Expands a per-dim list (one value for all dims, or one per dim) into D,H,W order.
Extent expand(const std::vector<int64_t>& v, int dims, const char* field, int64_t fill) {
  if (v.size() != 1 && v.size() != static_cast<size_t>(dims))
    throw ShapeError(fmt::format("{}: expected 1 or {} values (one per dim), got {}", field, dims, v.size()));
  Extent e{fill, fill, fill};
  for (int i = 0; i < dims; ++i) e[kMaxDims - dims + i] = v.size() == 1 ? v[0] : v[i];
  return e;
}

void require_positive(int64_t v, const char* field) {
  if (v < 1) throw ShapeError(fmt::format("{} must be >= 1, got {}", field, v));
}

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  if (a != 0 && b > kMaxElems / a) throw ShapeError(fmt::format("{} too large (over 2^40 elements)", what));
  return a * b;
}

}  // namespace

std::string_view dim_name(int i) {
  static constexpr std::string_view names[kMaxDims] = {"D", "H", "W"};
  return names[i];
}

Shape Shape::make(const ShapeParams& p) {
  if (p.in.empty() || p.in.size() > kMaxDims)
    throw ShapeError(fmt::format("in: expected 1 to 3 extents, got {}", p.in.size()));
  Shape s;
  s.dims = static_cast<int>(p.in.size());
  if (p.kernel.size() != p.in.size())
    throw ShapeError(fmt::format("kernel: expected {} extents to match in, got {}", p.in.size(), p.kernel.size()));
  require_positive(p.N, "N");
  require_positive(p.C, "C");
  require_positive(p.K, "K");
  require_positive(p.groups, "groups");
  if (p.C % p.groups != 0) throw ShapeError(fmt::format("groups {} does not divide C {}", p.groups, p.C));
  if (p.K % p.groups != 0) throw ShapeError(fmt::format("groups {} does not divide K {}", p.groups, p.K));
  s.N = p.N, s.C = p.C, s.K = p.K, s.groups = p.groups;
  s.in = expand(p.in, s.dims, "in", 1);
  s.kernel = expand(p.kernel, s.dims, "kernel", 1);
  s.pad = expand(p.pad, s.dims, "pad", 0);
  s.stride = expand(p.stride, s.dims, "stride", 1);
  s.dilation = expand(p.dilation, s.dims, "dilation", 1);
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    const auto dn = dim_name(i);
    if (s.in[i] < 1) throw ShapeError(fmt::format("in must be >= 1, got {} in dim {}", s.in[i], dn));
    if (s.kernel[i] < 1) throw ShapeError(fmt::format("kernel must be >= 1, got {} in dim {}", s.kernel[i], dn));
    if (s.pad[i] < 0) throw ShapeError(fmt::format("pad must be >= 0, got {} in dim {}", s.pad[i], dn));
    if (s.stride[i] < 1) throw ShapeError(fmt::format("stride must be >= 1, got {} in dim {}", s.stride[i], dn));
    if (s.dilation[i] < 1)
      throw ShapeError(fmt::format("dilation must be >= 1, got {} in dim {}", s.dilation[i], dn));
    for (int64_t v : {s.in[i], s.kernel[i], s.pad[i], s.stride[i], s.dilation[i]})
      if (v > (int64_t{1} << 30)) throw ShapeError(fmt::format("extent {} too large in dim {}", v, dn));
    if (s.dilated_kernel(i) > s.padded(i)) {
      if (s.dilation[i] == 1)
        throw ShapeError(
            fmt::format("kernel {} > padded input {} in dim {}", s.kernel[i], s.padded(i), dn));
      throw ShapeError(fmt::format("dilated kernel {} (kernel {}, dilation {}) > padded input {} in dim {}",
                                   s.dilated_kernel(i), s.kernel[i], s.dilation[i], s.padded(i), dn));
    }
    s.out[i] = (s.padded(i) - s.dilated_kernel(i)) / s.stride[i] + 1;
  }
  checked_mul(checked_mul(checked_mul(s.N, s.C, "x"), s.in[0] * s.in[1], "x"), s.in[2], "x");
  checked_mul(checked_mul(checked_mul(s.N, s.K, "y"), s.out[0] * s.out[1], "y"), s.out[2], "y");
  checked_mul(checked_mul(checked_mul(s.K, s.Cg(), "w"), s.kernel[0] * s.kernel[1], "w"), s.kernel[2], "w");
  return s;
}

std::string Shape::to_string() const {
  auto join = [&](const Extent& e) {
    std::string r;
    for (int i = kMaxDims - dims; i < kMaxDims; ++i) {
      if (!r.empty()) r += 'x';
      r += std::to_string(e[i]);
    }
    return r;
  };
  return fmt::format("N={},C={},K={},in={},k={},pad={},stride={},dilation={},groups={}", N, C, K, join(in),
                     join(kernel), join(pad), join(stride), join(dilation), groups);
}

bool operator==(const Shape& a, const Shape& b) {
  return a.dims == b.dims && a.N == b.N && a.C == b.C && a.K == b.K && a.groups == b.groups && a.in == b.in &&
         a.kernel == b.kernel && a.pad == b.pad && a.stride == b.stride && a.dilation == b.dilation;
}

std::string_view to_string(Pass p) {
  switch (p) {
    case Pass::fprop: return "fprop";
    case Pass::dgrad: return "dgrad";
    case Pass::wgrad: return "wgrad";
    case Pass::step: return "step";
  }
  return "?";
}

Pass parse_pass(std::string_view s) {
  for (Pass p : kAllPasses)
    if (to_string(p) == s) return p;
  throw std::invalid_argument(fmt::format("unknown pass '{}' (expected fprop, dgrad, wgrad or step)", s));
}

}  // namespace convbench
