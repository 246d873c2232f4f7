#include "convbench/reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace convbench {

namespace {

// Flat index into an [n][c][d][h][w] tensor with extents e.
inline int64_t at(int64_t n, int64_t c, int64_t C, const Extent& e, int64_t d, int64_t h, int64_t w) {
  return (((n * C + c) * e[0] + d) * e[1] + h) * e[2] + w;
}

// A dot product, the same with absolute values (the scale of its worst-case rounding errors)
// and the sum of its squared products (the scale of independent per-product errors).
struct Sum {
  double value = 0, magnitude = 0, squares = 0;
  void add(double a, double b) {
    value += a * b;
    magnitude += std::abs(a * b);
    squares += (a * b) * (a * b);
  }
};

// Splits a flat [a][b][d][h][w] index into its five coordinates.
struct Coord {
  int64_t a, b, d, h, w;
};
inline Coord split(int64_t i, int64_t B, const Extent& e) {
  Coord c{};
  c.w = i % e[2], i /= e[2];
  c.h = i % e[1], i /= e[1];
  c.d = i % e[0], i /= e[0];
  c.b = i % B, c.a = i / B;
  return c;
}

// y[n,k,o] = sum_{c,r} x[n, g*Cg+c, o*stride + r*dil - pad] * w[k,c,r]
Sum fprop_at(const Shape& s, int64_t index, const float* x, const float* w) {
  const auto [n, k, od, oh, ow] = split(index, s.K, s.out);
  const int64_t Cg = s.Cg(), c0 = (k / s.Kg()) * Cg;
  Sum acc;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t rd = 0; rd < s.kernel[0]; ++rd) {
      const int64_t id = od * s.stride[0] + rd * s.dilation[0] - s.pad[0];
      if (id < 0 || id >= s.in[0]) continue;
      for (int64_t rh = 0; rh < s.kernel[1]; ++rh) {
        const int64_t ih = oh * s.stride[1] + rh * s.dilation[1] - s.pad[1];
        if (ih < 0 || ih >= s.in[1]) continue;
        for (int64_t rw = 0; rw < s.kernel[2]; ++rw) {
          const int64_t iw = ow * s.stride[2] + rw * s.dilation[2] - s.pad[2];
          if (iw < 0 || iw >= s.in[2]) continue;
          acc.add(double(x[at(n, c0 + c, s.C, s.in, id, ih, iw)]), double(w[at(k, c, Cg, s.kernel, rd, rh, rw)]));
        }
      }
    }
  return acc;
}

// Output index along one dim that input index i meets through kernel tap r, or -1.
inline int64_t out_index(const Shape& s, int dim, int64_t i, int64_t r) {
  const int64_t t = i + s.pad[dim] - r * s.dilation[dim];
  if (t < 0 || t % s.stride[dim] != 0) return -1;
  const int64_t o = t / s.stride[dim];
  return o < s.out[dim] ? o : -1;
}

// Gather form: dx[n,c,i] = sum over k in c's group and taps r whose output index is valid.
Sum dgrad_at(const Shape& s, int64_t index, const float* w, const float* dy) {
  const auto [n, c, id, ih, iw] = split(index, s.C, s.in);
  const int64_t Cg = s.Cg(), Kg = s.Kg(), g = c / Cg, cl = c % Cg;
  Sum acc;
  for (int64_t rd = 0; rd < s.kernel[0]; ++rd) {
    const int64_t od = out_index(s, 0, id, rd);
    if (od < 0) continue;
    for (int64_t rh = 0; rh < s.kernel[1]; ++rh) {
      const int64_t oh = out_index(s, 1, ih, rh);
      if (oh < 0) continue;
      for (int64_t rw = 0; rw < s.kernel[2]; ++rw) {
        const int64_t ow = out_index(s, 2, iw, rw);
        if (ow < 0) continue;
        for (int64_t k = g * Kg; k < (g + 1) * Kg; ++k)
          acc.add(double(dy[at(n, k, s.K, s.out, od, oh, ow)]), double(w[at(k, cl, Cg, s.kernel, rd, rh, rw)]));
      }
    }
  }
  return acc;
}

// dw[k,c,r] = sum_{n,o} dy[n,k,o] * x[n, g*Cg+c, o*stride + r*dil - pad]
Sum wgrad_at(const Shape& s, int64_t index, const float* x, const float* dy) {
  const auto [k, c, rd, rh, rw] = split(index, s.Cg(), s.kernel);
  const int64_t ci = (k / s.Kg()) * s.Cg() + c;
  Sum acc;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t od = 0; od < s.out[0]; ++od) {
      const int64_t id = od * s.stride[0] + rd * s.dilation[0] - s.pad[0];
      if (id < 0 || id >= s.in[0]) continue;
      for (int64_t oh = 0; oh < s.out[1]; ++oh) {
        const int64_t ih = oh * s.stride[1] + rh * s.dilation[1] - s.pad[1];
        if (ih < 0 || ih >= s.in[1]) continue;
        for (int64_t ow = 0; ow < s.out[2]; ++ow) {
          const int64_t iw = ow * s.stride[2] + rw * s.dilation[2] - s.pad[2];
          if (iw < 0 || iw >= s.in[2]) continue;
          acc.add(double(dy[at(n, k, s.K, s.out, od, oh, ow)]), double(x[at(n, ci, s.C, s.in, id, ih, iw)]));
        }
      }
    }
  return acc;
}

// Squared L2 norm of each of the A planes of `volume` elements at t.
std::vector<double> plane_norms2(const float* t, int64_t A, int64_t volume) {
  std::vector<double> out(A);
  for (int64_t a = 0; a < A; ++a) {
    double sum = 0;
    for (int64_t i = 0; i < volume; ++i) sum += double(t[a * volume + i]) * double(t[a * volume + i]);
    out[a] = sum;
  }
  return out;
}

// Elements in one (n, k) / (n, c) / (k, c) plane of pass p's output.
int64_t plane_volume(const Shape& s, Pass p) {
  const Extent& e = p == Pass::fprop ? s.out : p == Pass::dgrad ? s.in : s.kernel;
  return e[0] * e[1] * e[2];
}

// A transform method (FFT) correlates whole signals: its rounding error in every element of an
// output plane is about eps * sqrt(log2 P / P) * sqrt(sum over the summed channel pairs of
// ||a||^2 ||b||^2), P the padded input volume (transform sizes are >= P and larger ones only
// spread the error thinner). This returns the square of that scale without eps, per plane.
std::vector<double> transform_error_scale2(const Shape& s, Pass p, const float* x, const float* w, const float* dy) {
  const int64_t Cg = s.Cg(), Kg = s.Kg();
  double P = 1;
  for (int i = 0; i < kMaxDims; ++i) P *= double(s.padded(i));
  const double per_plane = std::log2(2 * P) / P;
  const int64_t in_vol = s.in[0] * s.in[1] * s.in[2], out_vol = s.out[0] * s.out[1] * s.out[2];
  const int64_t k_vol = s.kernel[0] * s.kernel[1] * s.kernel[2];
  std::vector<double> xn, wn, dyn;
  if (p != Pass::dgrad) xn = plane_norms2(x, s.N * s.C, in_vol);
  if (p != Pass::wgrad) wn = plane_norms2(w, s.K * Cg, k_vol);
  if (p != Pass::fprop) dyn = plane_norms2(dy, s.N * s.K, out_vol);
  std::vector<double> scale2;
  switch (p) {
    case Pass::fprop:  // y[n, k] sums x[n, c] * w[k, c] over c in k's group
      scale2.resize(s.N * s.K);
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t k = 0; k < s.K; ++k) {
          double sum = 0;
          for (int64_t c = 0; c < Cg; ++c) sum += xn[n * s.C + (k / Kg) * Cg + c] * wn[k * Cg + c];
          scale2[n * s.K + k] = per_plane * sum;
        }
      break;
    case Pass::dgrad:  // dx[n, c] sums dy[n, k] * w[k, c] over k in c's group
      scale2.resize(s.N * s.C);
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t c = 0; c < s.C; ++c) {
          double sum = 0;
          for (int64_t k = (c / Cg) * Kg; k < (c / Cg + 1) * Kg; ++k) sum += dyn[n * s.K + k] * wn[k * Cg + c % Cg];
          scale2[n * s.C + c] = per_plane * sum;
        }
      break;
    case Pass::wgrad:  // dw[k, c] sums x[n, c] * dy[n, k] over n
      scale2.resize(s.K * Cg);
      for (int64_t k = 0; k < s.K; ++k)
        for (int64_t c = 0; c < Cg; ++c) {
          double sum = 0;
          for (int64_t n = 0; n < s.N; ++n) sum += xn[n * s.C + (k / Kg) * Cg + c] * dyn[n * s.K + k];
          scale2[k * Cg + c] = per_plane * sum;
        }
      break;
    case Pass::step: throw std::invalid_argument("reference: step has no single output");
  }
  return scale2;
}

}  // namespace

static Sum reference_sum(const Shape& s, Pass p, int64_t index, const float* x, const float* w, const float* dy) {
  switch (p) {
    case Pass::fprop: return fprop_at(s, index, x, w);
    case Pass::dgrad: return dgrad_at(s, index, w, dy);
    case Pass::wgrad: return wgrad_at(s, index, x, dy);
    case Pass::step: break;
  }
  throw std::invalid_argument("reference: step has no single output; check fprop, dgrad and wgrad");
}

int64_t output_elems(const Shape& s, Pass p) {
  switch (p) {
    case Pass::fprop: return s.y_elems();
    case Pass::dgrad: return s.x_elems();
    case Pass::wgrad: return s.w_elems();
    case Pass::step: break;
  }
  throw std::invalid_argument("output_elems: step has three outputs");
}

Reference reference(const Shape& s, Pass p, const std::vector<int64_t>& indices, const float* x, const float* w,
                    const float* dy) {
  Reference r;
  const int64_t n = indices.empty() ? output_elems(s, p) : static_cast<int64_t>(indices.size());
  r.values.resize(n);
  double mag2 = 0, squares = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : mag2, squares)
  for (int64_t i = 0; i < n; ++i) {
    const Sum sum = reference_sum(s, p, indices.empty() ? i : indices[i], x, w, dy);
    r.values[i] = sum.value;
    mag2 += sum.magnitude * sum.magnitude;
    squares += sum.squares;
  }
  double val2 = 0;
  for (double v : r.values) val2 += v * v;
  r.condition = val2 > 0 ? std::sqrt(mag2 / val2) : 1.0;
  r.product_spread = val2 > 0 ? std::sqrt(squares / val2) : 1.0;
  const std::vector<double> scale2 = transform_error_scale2(s, p, x, w, dy);
  const int64_t plane = plane_volume(s, p);
  double spread2 = 0;
  for (int64_t i = 0; i < n; ++i) spread2 += scale2[(indices.empty() ? i : indices[i]) / plane];
  r.transform_condition = val2 > 0 ? std::sqrt(spread2 / val2) : 1.0;
  return r;
}

Reference reference(const Shape& s, Pass p, const float* x, const float* w, const float* dy) {
  return reference(s, p, {}, x, w, dy);
}

double rel_error(const float* out, const std::vector<double>& ref) { return rel_error(out, {}, ref); }

double rel_error(const float* out, const std::vector<int64_t>& indices, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = double(out[indices.empty() ? i : indices[i]]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  if (std::isnan(num)) return std::numeric_limits<double>::quiet_NaN();
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

int64_t reduction_length(const Shape& s, Pass p) {
  switch (p) {
    case Pass::fprop: return s.Cg() * s.kernel_volume();
    case Pass::dgrad: return s.Kg() * s.kernel_volume();
    case Pass::wgrad: return s.N * s.out_volume();
    case Pass::step: break;
  }
  throw std::invalid_argument("reduction_length: step has no single reduction");
}

// fp32 rounding in a length-L sum grows like eps*sqrt(L) relative to its result for random
// data, and like eps*condition where terms cancel (a near-zero result of large products: a
// one-element output, say). FFT algorithms correlate whole signals, so their error follows
// transform_condition instead when few of the signals' products reach the result. The factor 8 leaves headroom for unlucky draws while staying orders of magnitude
// below what any indexing bug produces.
double tolerance(const Shape& s, Pass p, const Reference& ref) {
  constexpr double eps = 1.1920929e-7;  // FLT_EPSILON
  const double L = static_cast<double>(reduction_length(s, p));
  return 1e-5 + 8 * eps * std::max({std::sqrt(L), ref.condition, ref.transform_condition});
}

// TF32 rounds each input to 10 mantissa bits (unit roundoff 2^-11) and accumulates in fp32.
// Those rounding errors are independent per product (two inputs: sqrt(2) * 2^-11 at most), so
// they add in quadrature: relative to the result, 2^-11 * sqrt(2) * product_spread, about 7e-4
// on random data whatever the reduction length. Where spectra are rounded instead (FFT
// algorithms' GEMMs), the error follows the signals' norms: transform_condition. 8x headroom.
double tolerance(const Shape& s, Pass p, const Reference& ref, const std::string& precision) {
  if (precision == "fp32") return tolerance(s, p, ref);
  if (precision != "tf32") throw std::invalid_argument("tolerance: unknown precision '" + precision + "'");
  constexpr double tf32_unit = 1.0 / 2048;  // 2^-11
  return tolerance(s, p, ref) +
         8 * tf32_unit * std::sqrt(2.0) * std::max(ref.product_spread, ref.transform_condition);
}

}  // namespace convbench
