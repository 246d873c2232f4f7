// Band-limiting mask of FFT convolution (Dziedzic et al., ICML 2019): which bins of a real
// transform's stored half-spectrum survive a given compression. Header-only so that tests can
// build the same mask the algorithms use.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "convbench/shape.hpp"

namespace convbench {

// The compressions accepted (fraction of the half-spectrum discarded), and the range as the
// error messages of the CLI, the sweep files and the algorithms write it.
constexpr double kMaxCompression = 0.95;
constexpr const char* kCompressionRange = "[0, 0.95]";
inline bool compression_in_range(double c) { return c >= 0 && c <= kMaxCompression; }

// Stored half-spectrum of a real nf[0] x nf[1] x nf[2] transform (FFTW r2c layout): bins
// [nf[0]][nf[1]][nf[2]/2+1], flattened row-major.
inline int64_t half_spectrum_bins(const Extent& nf) { return nf[0] * nf[1] * (nf[2] / 2 + 1); }

// Number of bins a compression c asks to keep: round((1-c) * bins), never fewer than one (DC).
inline int64_t band_limit_target(int64_t bins, double compression) {
  const auto t = static_cast<int64_t>(std::llround((1.0 - compression) * static_cast<double>(bins)));
  return std::clamp<int64_t>(t, 1, bins);
}

// Flat index of the Hermitian partner of half-spectrum bin b: the bin holding the conjugate
// coefficient. On the planes w = 0 and w = nf[2]/2 (even nf[2]) both coefficients of a
// conjugate pair are stored, at (-d, -h, w); elsewhere the partner lies in the unstored half and
// the stored bin stands for the pair, so it is its own partner here.
inline int64_t hermitian_partner(const Extent& nf, int64_t b) {
  const int64_t nw = nf[2] / 2 + 1;
  const int64_t w = b % nw, h = (b / nw) % nf[1], d = b / (nw * nf[1]);
  if (w != 0 && !(nf[2] % 2 == 0 && w == nf[2] / 2)) return b;
  return (((nf[0] - d) % nf[0]) * nf[1] + (nf[1] - h) % nf[1]) * nw + w;
}

// Squared radial frequency of bin b: sum over dims of (f_i / nf_i)^2 with f_i the signed
// frequency (k or k - nf_i); depends on |f_i| only, so a bin and its partner tie exactly.
inline double band_limit_radius2(const Extent& nf, int64_t b) {
  const int64_t nw = nf[2] / 2 + 1;
  const int64_t k[3] = {b / (nw * nf[1]), (b / nw) % nf[1], b % nw};
  double r2 = 0;
  for (int i = 0; i < 3; ++i) {
    const int64_t f = std::min(k[i], nf[i] - k[i]);  // |signed frequency|; k[2] <= nf[2]/2 already
    const double q = static_cast<double>(f) / static_cast<double>(nf[i]);
    r2 += q * q;
  }
  return r2;
}

// Bins kept when a fraction `compression` of the stored half-spectrum is discarded: flat
// indices, ascending. Low-pass: bins ranked by band_limit_radius2, ties by the smaller flat
// index of the bin's conjugate pair, so both members of a pair rank together and the mask is
// symmetric under the Hermitian map (the inverse real transform sees a Hermitian spectrum).
// Pairs are kept or dropped whole, self-conjugate bins (DC, Nyquist corners: the real ones) on
// their own; DC ranks first and is always kept. The count is band_limit_target(), plus one
// when the last pair taken straddles it. compression 0 keeps every bin.
inline std::vector<int64_t> band_limit_bins(const Extent& nf, double compression) {
  const int64_t bins = half_spectrum_bins(nf);
  std::vector<int64_t> kept(static_cast<size_t>(bins));
  std::iota(kept.begin(), kept.end(), int64_t{0});
  const int64_t target = band_limit_target(bins, compression);
  if (target == bins) return kept;

  struct Unit {
    double r2;
    int64_t lo, hi;  // the pair's flat indices (equal for a bin that is its own partner)
  };
  std::vector<Unit> units;
  units.reserve(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) {
    const int64_t q = hermitian_partner(nf, b);
    if (q < b) continue;  // the pair was listed at its smaller index
    units.push_back({band_limit_radius2(nf, b), b, q});
  }
  std::sort(units.begin(), units.end(),
            [](const Unit& a, const Unit& b) { return a.r2 != b.r2 ? a.r2 < b.r2 : a.lo < b.lo; });
  kept.clear();
  for (const Unit& u : units) {
    if (static_cast<int64_t>(kept.size()) >= target) break;
    kept.push_back(u.lo);
    if (u.hi != u.lo) kept.push_back(u.hi);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace convbench
