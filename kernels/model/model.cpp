#include "convbench/model.hpp"

#include <algorithm>
#include <cmath>

#include "convbench/fft_size.hpp"

namespace convbench {
namespace {

double pow_d(double v, int d) { return std::pow(v, d); }

struct Fft {
  double points = 1;  // product of transform sizes
  double bins = 1;    // half spectrum on the last dim
  double mathieu_n = 0;  // geometric mean size (n of the cubic formula)
  std::string label;
};

Fft transform(const Shape& s, FftSizePolicy policy) {
  Fft f;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    const int64_t n = fft_size(s.padded(i), policy);
    f.points *= double(n);
    f.bins *= i == kMaxDims - 1 ? double(n / 2 + 1) : double(n);
    if (!f.label.empty()) f.label += 'x';
    f.label += std::to_string(n);
  }
  f.mathieu_n = std::pow(f.points, 1.0 / s.dims);
  return f;
}

}  // namespace

PassModel model(const Shape& s, Pass p, FftSizePolicy policy) {
  if (p == Pass::step) {
    PassModel sum = model(s, Pass::fprop, policy);
    for (Pass q : {Pass::dgrad, Pass::wgrad}) {
      const PassModel m = model(s, q, policy);
      sum.mathieu_direct_macs += m.mathieu_direct_macs;
      sum.mathieu_fft_ops += m.mathieu_fft_ops;
      sum.direct_macs += m.direct_macs;
      sum.fft_flops += m.fft_flops;
      sum.min_bytes += m.min_bytes;
      sum.fft_bytes += m.fft_bytes;
      sum.transforms += m.transforms;
    }
    // Reuse: FFT(x), FFT(w), FFT(dy) once each, and three inverses.
    const Fft f = transform(s, policy);
    const double per = kFftConstant * f.points * std::log2(std::max(f.points, 2.0));
    const double planes = double(s.N * s.C + s.K * s.Cg() + s.N * s.K);
    sum.fft_flops -= (sum.transforms - 2 * planes) * per;
    sum.fft_bytes -= (sum.transforms - 2 * planes) * 2 * 8 * f.bins;
    sum.transforms = 2 * planes;
    sum.gemm_shape = "fprop+dgrad+wgrad";
    return sum;
  }
  PassModel m;
  const int d = s.dims;
  const double S = double(s.N), f = double(s.C), fp = double(s.K);
  double n_vol = 1, k_vol = 1, nprime_vol = 1;
  for (int i = kMaxDims - d; i < kMaxDims; ++i) {
    n_vol *= double(s.padded(i));
    k_vol *= double(s.dilated_kernel(i));
    nprime_vol *= double(s.padded(i) - s.dilated_kernel(i) + 1);
  }
  m.mathieu_direct_macs = S * fp * f * (p == Pass::dgrad ? n_vol : nprime_vol) * k_vol;
  m.direct_macs = double(s.direct_macs());

  // Mathieu's RAM formula counts n of the padded input (4 n (n+1) for 2D).
  double last = double(s.padded(kMaxDims - 1)), rest = 1;
  for (int i = kMaxDims - d; i < kMaxDims - 1; ++i) rest *= double(s.padded(i));
  m.mathieu_fft_mem_bytes = 4 * rest * (last + 1) * (S * f + S * fp + f * fp);

  const Fft t = transform(s, policy);
  m.fft_size = t.label;
  m.bins = t.bins;
  const double tn = t.mathieu_n;
  m.mathieu_fft_ops = 2 * kFftConstant * pow_d(tn, d) * std::log2(std::max(tn, 2.0)) * (fp * S + f * S + fp * f) +
                      4 * S * fp * f * pow_d(tn, d);

  const double X = double(s.x_elems()), W = double(s.w_elems()), Y = double(s.y_elems());
  const double planes_x = double(s.N * s.C), planes_w = double(s.K * s.Cg()), planes_y = double(s.N * s.K);
  const double G = double(s.groups), Cg = double(s.Cg()), Kg = double(s.Kg());
  double cmacs = 0;
  switch (p) {
    case Pass::fprop:
      m.min_bytes = 4 * (X + W + Y);
      cmacs = t.bins * G * S * Kg * Cg;
      m.gemm_shape = "(" + std::to_string(s.N) + "x" + std::to_string(s.Cg()) + ")*(" + std::to_string(s.Cg()) + "x" +
                     std::to_string(s.Kg()) + ")";
      break;
    case Pass::dgrad:
      m.min_bytes = 4 * (Y + W + X);
      cmacs = t.bins * G * S * Cg * Kg;
      m.gemm_shape = "(" + std::to_string(s.N) + "x" + std::to_string(s.Kg()) + ")*(" + std::to_string(s.Kg()) + "x" +
                     std::to_string(s.Cg()) + ")";
      break;
    case Pass::wgrad:
      m.min_bytes = 4 * (X + Y + W);
      cmacs = t.bins * G * Kg * Cg * S;
      m.gemm_shape = "(" + std::to_string(s.Kg()) + "x" + std::to_string(s.N) + ")*(" + std::to_string(s.N) + "x" +
                     std::to_string(s.Cg()) + ")";
      break;
    case Pass::step: break;
  }
  // Each pass: two forward transforms and one inverse, over the planes of its three tensors.
  m.transforms = planes_x + planes_w + planes_y;
  m.fft_flops = m.transforms * kFftConstant * t.points * std::log2(std::max(t.points, 2.0)) + 8 * cmacs;
  // Spectra: written by the transforms, read by the GEMMs (inputs); written by the GEMMs, read
  // by the inverse (output): twice each, 8 bytes per complex coefficient.
  m.fft_bytes = m.min_bytes + 2 * 8 * t.bins * m.transforms;
  return m;
}

}  // namespace convbench
