#include "convbench/reference.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace convbench {

namespace {

// Flat index into an [n][c][d][h][w] tensor with extents e.
inline int64_t at(int64_t n, int64_t c, int64_t C, const Extent& e, int64_t d, int64_t h, int64_t w) {
  return (((n * C + c) * e[0] + d) * e[1] + h) * e[2] + w;
}

// y[n,k,o] = sum_{c,r} x[n, g*Cg+c, o*stride + r*dil - pad] * w[k,c,r]
std::vector<double> fprop(const Shape& s, const float* x, const float* w) {
  std::vector<double> y(s.y_elems());
  const int64_t Cg = s.Cg(), Kg = s.Kg();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k) {
      const int64_t c0 = (k / Kg) * Cg;
      for (int64_t od = 0; od < s.out[0]; ++od)
        for (int64_t oh = 0; oh < s.out[1]; ++oh)
          for (int64_t ow = 0; ow < s.out[2]; ++ow) {
            double acc = 0;
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
                    acc += double(x[at(n, c0 + c, s.C, s.in, id, ih, iw)]) *
                           double(w[at(k, c, Cg, s.kernel, rd, rh, rw)]);
                  }
                }
              }
            y[at(n, k, s.K, s.out, od, oh, ow)] = acc;
          }
    }
  return y;
}

// Output index along one dim that input index i meets through kernel tap r, or -1.
inline int64_t out_index(const Shape& s, int dim, int64_t i, int64_t r) {
  const int64_t t = i + s.pad[dim] - r * s.dilation[dim];
  if (t < 0 || t % s.stride[dim] != 0) return -1;
  const int64_t o = t / s.stride[dim];
  return o < s.out[dim] ? o : -1;
}

// Gather form: dx[n,c,i] = sum over k in c's group and taps r whose output index is valid.
std::vector<double> dgrad(const Shape& s, const float* w, const float* dy) {
  std::vector<double> dx(s.x_elems());
  const int64_t Cg = s.Cg(), Kg = s.Kg();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.C; ++c) {
      const int64_t g = c / Cg, cl = c % Cg;
      for (int64_t id = 0; id < s.in[0]; ++id)
        for (int64_t ih = 0; ih < s.in[1]; ++ih)
          for (int64_t iw = 0; iw < s.in[2]; ++iw) {
            double acc = 0;
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
                    acc += double(dy[at(n, k, s.K, s.out, od, oh, ow)]) *
                           double(w[at(k, cl, Cg, s.kernel, rd, rh, rw)]);
                }
              }
            }
            dx[at(n, c, s.C, s.in, id, ih, iw)] = acc;
          }
    }
  return dx;
}

// dw[k,c,r] = sum_{n,o} dy[n,k,o] * x[n, g*Cg+c, o*stride + r*dil - pad]
std::vector<double> wgrad(const Shape& s, const float* x, const float* dy) {
  std::vector<double> dw(s.w_elems());
  const int64_t Cg = s.Cg(), Kg = s.Kg();
  for (int64_t k = 0; k < s.K; ++k) {
    const int64_t c0 = (k / Kg) * Cg;
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t rd = 0; rd < s.kernel[0]; ++rd)
        for (int64_t rh = 0; rh < s.kernel[1]; ++rh)
          for (int64_t rw = 0; rw < s.kernel[2]; ++rw) {
            double acc = 0;
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
                    acc += double(dy[at(n, k, s.K, s.out, od, oh, ow)]) *
                           double(x[at(n, c0 + c, s.C, s.in, id, ih, iw)]);
                  }
                }
              }
            dw[at(k, c, Cg, s.kernel, rd, rh, rw)] = acc;
          }
  }
  return dw;
}

}  // namespace

std::vector<double> reference(const Shape& s, Pass p, const float* x, const float* w, const float* dy) {
  switch (p) {
    case Pass::fprop: return fprop(s, x, w);
    case Pass::dgrad: return dgrad(s, w, dy);
    case Pass::wgrad: return wgrad(s, x, dy);
    case Pass::step: break;
  }
  throw std::invalid_argument("reference: step has no single output; check fprop, dgrad and wgrad");
}

double rel_error(const float* out, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = double(out[i]) - ref[i];
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

// fp32 rounding in a length-L sum grows like eps*sqrt(L) for random data; FFT algorithms add
// an O(eps*log n) transform error, covered by the floor. The factor 8 leaves headroom for
// unlucky draws while staying orders of magnitude below what any indexing bug produces.
double tolerance(const Shape& s, Pass p) {
  constexpr double eps = 1.1920929e-7;  // FLT_EPSILON
  const double L = static_cast<double>(reduction_length(s, p));
  return 1e-5 + 8 * eps * std::sqrt(L);
}

}  // namespace convbench
