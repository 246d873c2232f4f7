// cpu.direct: the naive windowed loops of the seed study, no GEMM. Plain and correct; the
// outer loops are shared between threads so it is not needlessly slow on big shapes.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "convbench/cpu_algorithms.hpp"
#include "tensor_index.hpp"

namespace convbench {
namespace {

using cpu::at;
using cpu::in_coord;
using cpu::inside;

// Calls f(od, oh, ow, id, ih, iw) for every output position whose tap (rd, rh, rw) lands
// inside the input (padding contributes nothing).
template <class F>
void for_each_window(const Shape& s, int64_t rd, int64_t rh, int64_t rw, F&& f) {
  for (int64_t od = 0; od < s.out[0]; ++od) {
    const int64_t id = in_coord(s, 0, od, rd);
    if (!inside(s, 0, id)) continue;
    for (int64_t oh = 0; oh < s.out[1]; ++oh) {
      const int64_t ih = in_coord(s, 1, oh, rh);
      if (!inside(s, 1, ih)) continue;
      for (int64_t ow = 0; ow < s.out[2]; ++ow) {
        const int64_t iw = in_coord(s, 2, ow, rw);
        if (inside(s, 2, iw)) f(od, oh, ow, id, ih, iw);
      }
    }
  }
}

template <class F>
void for_each_tap(const Shape& s, F&& f) {
  for (int64_t rd = 0; rd < s.kernel[0]; ++rd)
    for (int64_t rh = 0; rh < s.kernel[1]; ++rh)
      for (int64_t rw = 0; rw < s.kernel[2]; ++rw) f(rd, rh, rw);
}

void fprop(const Shape& s, const float* x, const float* w, float* y) {
  const int64_t Cg = s.Cg(), Kg = s.Kg();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k) {
      float* yk = y + at(n, k, s.K, s.out, 0, 0, 0);
      std::fill(yk, yk + s.out_volume(), 0.0f);
      const int64_t c0 = (k / Kg) * Cg;
      for (int64_t c = 0; c < Cg; ++c)
        for_each_tap(s, [&](int64_t rd, int64_t rh, int64_t rw) {
          const float wv = w[at(k, c, Cg, s.kernel, rd, rh, rw)];
          for_each_window(s, rd, rh, rw, [&](int64_t od, int64_t oh, int64_t ow, int64_t id, int64_t ih, int64_t iw) {
            yk[(od * s.out[1] + oh) * s.out[2] + ow] += wv * x[at(n, c0 + c, s.C, s.in, id, ih, iw)];
          });
        });
    }
}

// Scatter form: each dy element spreads through the kernel window back onto dx.
void dgrad(const Shape& s, const float* w, const float* dy, float* dx) {
  const int64_t Cg = s.Cg(), Kg = s.Kg();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    float* dxn = dx + at(n, 0, s.C, s.in, 0, 0, 0);
    std::fill(dxn, dxn + s.C * s.in_volume(), 0.0f);
    for (int64_t k = 0; k < s.K; ++k) {
      const int64_t c0 = (k / Kg) * Cg;
      for (int64_t c = 0; c < Cg; ++c)
        for_each_tap(s, [&](int64_t rd, int64_t rh, int64_t rw) {
          const float wv = w[at(k, c, Cg, s.kernel, rd, rh, rw)];
          for_each_window(s, rd, rh, rw, [&](int64_t od, int64_t oh, int64_t ow, int64_t id, int64_t ih, int64_t iw) {
            dxn[at(0, c0 + c, s.C, s.in, id, ih, iw)] += wv * dy[at(n, k, s.K, s.out, od, oh, ow)];
          });
        });
    }
  }
}

void wgrad(const Shape& s, const float* x, const float* dy, float* dw) {
  const int64_t Cg = s.Cg(), Kg = s.Kg();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t k = 0; k < s.K; ++k)
    for (int64_t c = 0; c < Cg; ++c) {
      const int64_t ci = (k / Kg) * Cg + c;
      for_each_tap(s, [&](int64_t rd, int64_t rh, int64_t rw) {
        float acc = 0;
        for (int64_t n = 0; n < s.N; ++n)
          for_each_window(s, rd, rh, rw, [&](int64_t od, int64_t oh, int64_t ow, int64_t id, int64_t ih, int64_t iw) {
            acc += dy[at(n, k, s.K, s.out, od, oh, ow)] * x[at(n, ci, s.C, s.in, id, ih, iw)];
          });
        dw[at(k, c, Cg, s.kernel, rd, rh, rw)] = acc;
      });
    }
}

class CpuDirect final : public Algorithm {
 public:
  std::string name() const override { return "cpu.direct"; }
  std::string description() const override {
    return "naive windowed loops, no GEMM; 1D/2D/3D, fprop/dgrad/wgrad/step, pad, stride, dilation, groups";
  }
  std::string supports(const Shape&, Pass) const override { return {}; }
  std::size_t workspace_bytes(const Shape&, Pass) const override { return 0; }
  void prepare(const Shape& s, Pass p) override {
    shape_ = s;
    pass_ = p;
    prepared_ = true;
  }
  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(pass_, p))
      throw std::logic_error(fmt::format("cpu.direct: run({}) without prepare for it", to_string(p)));
    if (p == Pass::fprop || p == Pass::step) fprop(shape_, t.x, t.w, t.y);
    if (p == Pass::dgrad || p == Pass::step) dgrad(shape_, t.w, t.dy, t.dx);
    if (p == Pass::wgrad || p == Pass::step) wgrad(shape_, t.x, t.dy, t.dw);
  }

 private:
  Shape shape_;
  Pass pass_ = Pass::fprop;
  bool prepared_ = false;
};

}  // namespace

std::unique_ptr<Algorithm> make_cpu_direct(const AlgoOptions&) { return std::make_unique<CpuDirect>(); }

}  // namespace convbench
