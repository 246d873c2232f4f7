// Random convolution problems and data for the algorithm tests. Every run draws fresh data
// unless CONVBENCH_TEST_SEED fixes the seed (printed on failure so a case can be replayed).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "convbench/shape.hpp"

namespace convbench::testing {

inline uint64_t test_seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("CONVBENCH_TEST_SEED")) return uint64_t{std::strtoull(s, nullptr, 10)};
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ uint64_t{rd()};
  }();
  return seed;
}

inline int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// A valid random shape: odd and even sizes, padding, stride, dilation, groups, 1D/2D/3D.
// Extents shrink with dims so a test case stays small.
inline Shape random_shape(std::mt19937_64& rng, int dims) {
  const int64_t max_in = dims == 1 ? 40 : dims == 2 ? 13 : 7;
  for (;;) {
    ShapeParams p;
    p.groups = uniform_int(rng, 0, 3) == 0 ? uniform_int(rng, 2, 3) : 1;
    p.N = uniform_int(rng, 1, 3);
    p.C = p.groups * uniform_int(rng, 1, 3);
    p.K = p.groups * uniform_int(rng, 1, 3);
    p.in.clear(), p.kernel.clear(), p.pad.clear(), p.stride.clear(), p.dilation.clear();
    for (int i = 0; i < dims; ++i) {
      p.in.push_back(uniform_int(rng, 1, max_in));
      p.kernel.push_back(uniform_int(rng, 1, std::min<int64_t>(5, max_in)));
      p.pad.push_back(uniform_int(rng, 0, 2));
      p.stride.push_back(uniform_int(rng, 0, 2) == 0 ? uniform_int(rng, 2, 3) : 1);
      p.dilation.push_back(uniform_int(rng, 0, 2) == 0 ? 2 : 1);
    }
    try {
      return Shape::make(p);
    } catch (const ShapeError&) {
      // kernel larger than the padded input: draw again
    }
  }
}

// Corner cases named by the issue: k = 1, kernel as large as the padded input, N = C = K = 1,
// stride larger than the kernel, depthwise groups.
inline std::vector<Shape> edge_shapes() {
  std::vector<ShapeParams> ps = {
      {1, 1, 1, 1, {17}, {1}, {0}, {1}, {1}},
      {2, 3, 4, 1, {9, 7}, {1, 1}, {0}, {2}, {1}},
      {1, 1, 1, 1, {6, 5}, {8, 7}, {1}, {1}, {1}},     // kernel == padded input
      {2, 2, 3, 1, {5, 5, 5}, {5, 5, 5}, {0}, {1}, {1}},
      {1, 2, 2, 1, {11}, {13}, {1}, {1}, {1}},
      {1, 1, 1, 1, {3, 3}, {3, 3}, {1}, {1}, {2}},     // dilated kernel == padded input
      {3, 4, 4, 4, {7, 9}, {3, 3}, {1}, {1}, {1}},     // depthwise
      {2, 6, 4, 2, {8, 8}, {2, 3}, {1, 0}, {3, 2}, {1, 2}},
      {1, 3, 2, 1, {10, 1, 6}, {3, 1, 2}, {1, 0, 2}, {4, 1, 3}, {1}},
      {2, 1, 3, 1, {31}, {4}, {0}, {5}, {1}},          // stride > kernel: untouched inputs
  };
  std::vector<Shape> out;
  for (const auto& p : ps) out.push_back(Shape::make(p));
  return out;
}

inline std::vector<float> random_tensor(std::mt19937_64& rng, int64_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

}  // namespace convbench::testing
