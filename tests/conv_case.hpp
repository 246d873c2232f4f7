// One random convolution problem with its float64 references, shared by the algorithm tests.
#pragma once

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"

#include "convbench/reference.hpp"
#include "random_shapes.hpp"

namespace convbench::testing {

struct Case {
  Shape shape;
  std::vector<float> x, w, dy;
  Reference ref[3];  // fprop, dgrad, wgrad
};

inline Case make_case(std::mt19937_64& rng, const Shape& s) {
  Case c{s, random_tensor(rng, s.x_elems()), random_tensor(rng, s.w_elems()), random_tensor(rng, s.y_elems()), {}};
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad})
    c.ref[static_cast<int>(p)] = reference(s, p, c.x.data(), c.w.data(), c.dy.data());
  return c;
}

// True when every tap of the pass lands in padding (or on untouched inputs): the exact result is
// zero, and an FFT's is rounding noise, so a comparison relative to either output means nothing.
inline bool all_zero(const Reference& r) {
  for (double v : r.values)
    if (v != 0) return false;
  return true;
}

// y, dx, dw on the host, pre-filled with NaN: an element an algorithm forgets to write fails
// the check.
struct HostOutputs {
  std::vector<float> y, dx, dw;
  explicit HostOutputs(const Shape& s)
      : y(s.y_elems(), std::numeric_limits<float>::quiet_NaN()),
        dx(s.x_elems(), std::numeric_limits<float>::quiet_NaN()),
        dw(s.w_elems(), std::numeric_limits<float>::quiet_NaN()) {}
  const std::vector<float>& of(Pass p) const { return p == Pass::fprop ? y : p == Pass::dgrad ? dx : dw; }
  ConvBuffers buffers(const float* x, const float* w, const float* dy) {
    return {x, w, dy, y.data(), dx.data(), dw.data()};
  }
};

// ||a - b|| / ||b|| in float64.
template <class A, class B>
double rel_diff(const std::vector<A>& a, const std::vector<B>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Names of the stages an algorithm marks (Algorithm::set_stage_clock), in order.
struct StageRecorder : StageClock {
  std::vector<std::string> stages;
  void mark(const char* stage) override { stages.emplace_back(stage); }
};

// FFT convolution's stages for pass p, a transform per tensor and a GEMM per pass: a pass
// transforms its two inputs, a step x, w and dy once each and brings its three outputs back
// (6 transforms, not 9). After run(fprop) of a step, run_backward() starts from "forward dy".
inline std::vector<std::string> fft_stages(Pass p) {
  switch (p) {
    case Pass::fprop: return {"forward x", "forward w", "gemm fprop", "inverse y"};
    case Pass::dgrad: return {"forward w", "forward dy", "gemm dgrad", "inverse dx"};
    case Pass::wgrad: return {"forward x", "forward dy", "gemm wgrad", "inverse dw"};
    case Pass::step: break;
  }
  return {"forward x", "forward w",  "forward dy", "gemm fprop", "inverse y",
          "gemm dgrad", "inverse dx", "gemm wgrad", "inverse dw"};
}

}  // namespace convbench::testing
