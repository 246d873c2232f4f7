#include "convbench/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "convbench/band_limit.hpp"
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

Fft transform(const Shape& s, const Extent& nf) {
  Fft f;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    const int64_t n = nf[i];
    f.points *= double(n);
    f.bins *= i == kMaxDims - 1 ? double(n / 2 + 1) : double(n);
    if (!f.label.empty()) f.label += 'x';
    f.label += std::to_string(n);
  }
  f.mathieu_n = std::pow(f.points, 1.0 / s.dims);
  return f;
}

}  // namespace

PassModel model(const Shape& s, Pass p, FftSizePolicy policy, double compression) {
  return model(s, p, choose_fft_sizes(s, policy, counted_fft_cost()), compression);
}

PassModel model(const Shape& s, Pass p, const Extent& nf, double compression) {
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i)
    if (nf[i] < s.padded(i)) throw std::invalid_argument("model: transform size below the padded input");
  if (p == Pass::step) {
    PassModel sum = model(s, Pass::fprop, nf, compression);
    for (Pass q : {Pass::dgrad, Pass::wgrad}) {
      const PassModel m = model(s, q, nf, compression);
      sum.mathieu_direct_macs += m.mathieu_direct_macs;
      sum.mathieu_fft_ops += m.mathieu_fft_ops;
      sum.direct_macs += m.direct_macs;
      sum.fft_flops += m.fft_flops;
      sum.min_bytes += m.min_bytes;
      sum.fft_bytes += m.fft_bytes;
      sum.transforms += m.transforms;
    }
    // Reuse: FFT(x), FFT(w), FFT(dy) once each, and three inverses.
    const Fft f = transform(s, nf);
    const double per = kFftConstant * f.points * std::log2(std::max(f.points, 2.0));
    const double planes = double(s.N * s.C + s.K * s.Cg() + s.N * s.K);
    sum.fft_flops -= (sum.transforms - 2 * planes) * per;
    sum.fft_bytes -= (sum.transforms - 2 * planes) * 2 * 8 * sum.kept_bins;
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

  const Fft t = transform(s, nf);
  m.fft_size = t.label;
  m.bins = t.bins;
  m.kept_bins = compression > 0 ? double(band_limit_bins(nf, compression).size()) : t.bins;
  m.points = t.points;
  const double tn = t.mathieu_n;
  m.mathieu_fft_ops = 2 * kFftConstant * pow_d(tn, d) * std::log2(std::max(tn, 2.0)) * (fp * S + f * S + fp * f) +
                      4 * S * fp * f * pow_d(tn, d);

  // Every pass reads two of x, w, y and writes the third once; the per-bin complex GEMMs of
  // every pass multiply out N*Cg*Kg per group, in the pass's own (M x K)*(K x N) arrangement.
  m.min_bytes = 4 * double(s.x_elems() + s.w_elems() + s.y_elems());
  const double cmacs = m.kept_bins * double(s.groups) * S * double(s.Cg()) * double(s.Kg());
  auto gemm = [](int64_t rows, int64_t inner, int64_t cols) { return fmt::format("({}x{})*({}x{})", rows, inner, inner, cols); };
  m.gemm_shape = p == Pass::fprop ? gemm(s.N, s.Cg(), s.Kg()) : p == Pass::dgrad ? gemm(s.N, s.Kg(), s.Cg()) : gemm(s.Kg(), s.N, s.Cg());
  const double planes_x = double(s.N * s.C), planes_w = double(s.K * s.Cg()), planes_y = double(s.N * s.K);
  // Each pass: two forward transforms and one inverse, over the planes of its three tensors.
  m.transforms = planes_x + planes_w + planes_y;
  m.fft_flops = m.transforms * kFftConstant * t.points * std::log2(std::max(t.points, 2.0)) + 8 * cmacs;
  // Spectra: written by the transforms, read by the GEMMs (inputs); written by the GEMMs, read
  // by the inverse (output): twice each, 8 bytes per complex coefficient.
  m.fft_bytes = m.min_bytes + 2 * 8 * m.kept_bins * m.transforms;
  return m;
}

PassModel with_filter_dft(PassModel m, const Shape& s, Pass p) {
  const double planes_w = double(s.K * s.Cg()), taps = double(s.kernel_volume());
  const double n_w = p == Pass::step ? 2 * planes_w : planes_w;  // w in, dw out, or both in a step
  const double transform = kFftConstant * m.points * std::log2(std::max(m.points, 2.0));
  m.fft_flops += n_w * (8 * m.kept_bins * taps - transform);
  return m;
}

}  // namespace convbench
