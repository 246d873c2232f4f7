// cuda.fbfft's transform arithmetic (convbench/small_fft.hpp), run on the host against FFTW:
// every 7-smooth length up to 128, both directions, the two-for-one real packing, and a 2D
// real transform composed the way the kernels compose it (rows in pairs, then columns).
#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "convbench/small_fft.hpp"
#include "random_shapes.hpp"

namespace convbench {
namespace {

using small_fft::Cf;
using cd = std::complex<double>;

std::vector<int> smooth_sizes() {
  std::vector<int> n;
  for (int i = 1; i <= small_fft::kMaxSize; ++i)
    if (small_fft::supported(i)) n.push_back(i);
  return n;
}

double rel_diff(const std::vector<cd>& a, const std::vector<cd>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += std::norm(a[i] - b[i]), den += std::norm(b[i]);
  return std::sqrt(num / den);
}

std::vector<cd> fftw_dft(const std::vector<cd>& in, int sign) {
  const int n = int(in.size());
  std::vector<cd> out(in.size()), tmp(in);
  fftw_plan p = fftw_plan_dft_1d(n, reinterpret_cast<fftw_complex*>(tmp.data()),
                                 reinterpret_cast<fftw_complex*>(out.data()), sign, FFTW_ESTIMATE);
  fftw_execute(p);
  fftw_destroy_plan(p);
  return out;
}

// The kernels' way: load in digit-reversed order, then the stages.
std::vector<cd> small_dft(const std::vector<cd>& in, int sign) {
  const int n = int(in.size());
  const small_fft::Radices f = small_fft::factor(n);
  std::vector<Cf> buf(n);
  for (int p = 0; p < n; ++p) {
    const cd v = in[small_fft::digit_reverse(p, f)];
    buf[p] = {float(v.real()), float(v.imag())};
  }
  small_fft::fft_stages(buf.data(), f, sign);
  std::vector<cd> out(n);
  for (int k = 0; k < n; ++k) out[k] = {buf[k].re, buf[k].im};
  return out;
}

// Inverse DFT of buf[0..f.n) in natural order (the stages want digit-reversed input).
void inverse_natural(Cf* buf, const small_fft::Radices& f) {
  std::vector<Cf> t(size_t(f.n));
  for (int p = 0; p < f.n; ++p) t[size_t(p)] = buf[small_fft::digit_reverse(p, f)];
  small_fft::fft_stages(t.data(), f, +1);
  for (int p = 0; p < f.n; ++p) buf[p] = t[size_t(p)];
}

std::vector<double> random_reals(std::mt19937_64& rng, int n) {
  const auto v = testing::random_tensor(rng, n);
  return {v.begin(), v.end()};
}

TEST(SmallFft, FactorsExactlyTheSmoothSizesUpTo128) {
  for (int n = 1; n <= 140; ++n) {
    int m = n;
    for (int r : {2, 3, 5, 7})
      while (m % r == 0) m /= r;
    EXPECT_EQ(small_fft::supported(n), m == 1 && n <= small_fft::kMaxSize) << n;
    const small_fft::Radices f = small_fft::factor(n);
    if (f.count == 0) continue;
    int prod = 1;
    for (int s = 0; s < f.count; ++s) prod *= f.r[s];
    EXPECT_EQ(prod, n);
  }
  EXPECT_EQ(smooth_sizes().size(), 53u);  // the 7-smooth numbers 1..128 (1 included)
}

TEST(SmallFft, DigitReverseIsAPermutation) {
  for (int n : smooth_sizes()) {
    const small_fft::Radices f = small_fft::factor(n);
    std::vector<int> seen(n, 0);
    for (int p = 0; p < n; ++p) ++seen[small_fft::digit_reverse(p, f)];
    for (int i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "n " << n << " index " << i;
  }
}

TEST(SmallFft, ComplexTransformsMatchFftwAtEverySmoothSize) {
  std::mt19937_64 rng(testing::test_seed());
  for (int n : smooth_sizes()) {
    if (n == 1) continue;
    const auto re = random_reals(rng, n), im = random_reals(rng, n);
    std::vector<cd> x(n);
    for (int i = 0; i < n; ++i) x[i] = {re[i], im[i]};
    for (int sign : {-1, +1}) {
      const double err = rel_diff(small_dft(x, sign), fftw_dft(x, sign));
      EXPECT_LT(err, 2e-6 * std::log2(double(n)) + 1e-6) << "n " << n << " sign " << sign;
    }
  }
}

TEST(SmallFft, TwoRealRowsInOneComplexTransform) {
  std::mt19937_64 rng(testing::test_seed() + 1);
  for (int n : smooth_sizes()) {
    if (n == 1) continue;
    const auto a = random_reals(rng, n), b = random_reals(rng, n);
    std::vector<cd> z(n), ca(n), cb(n);
    for (int i = 0; i < n; ++i) z[i] = {a[i], b[i]}, ca[i] = a[i], cb[i] = b[i];
    const auto Z = small_dft(z, -1);
    std::vector<Cf> buf(n), A(n / 2 + 1), B(n / 2 + 1);
    for (int k = 0; k < n; ++k) buf[k] = {float(Z[k].real()), float(Z[k].imag())};
    small_fft::split_pair(buf.data(), n, A.data(), B.data());
    const auto FA = fftw_dft(ca, -1), FB = fftw_dft(cb, -1);
    std::vector<cd> got_a, got_b, want_a, want_b;
    for (int k = 0; k <= n / 2; ++k) {
      got_a.emplace_back(A[k].re, A[k].im), got_b.emplace_back(B[k].re, B[k].im);
      want_a.push_back(FA[k]), want_b.push_back(FB[k]);
    }
    EXPECT_LT(rel_diff(got_a, want_a), 1e-5) << "n " << n;
    EXPECT_LT(rel_diff(got_b, want_b), 1e-5) << "n " << n;

    // And back: join, inverse, divide by n -> a + i*b, even with junk in the imaginary parts of
    // the self-conjugate bins (a C2R ignores them).
    A[0].im += 0.25f, B[0].im -= 0.5f;
    if (n % 2 == 0) A[n / 2].im += 1.0f;
    const small_fft::Radices f = small_fft::factor(n);
    small_fft::join_pair(A.data(), B.data(), n, buf.data());
    inverse_natural(buf.data(), f);
    std::vector<cd> back(n);
    for (int i = 0; i < n; ++i) back[i] = {buf[i].re / n, buf[i].im / n};
    EXPECT_LT(rel_diff(back, z), 1e-5) << "n " << n;

    // A single row: B = nullptr stands for zeros.
    small_fft::join_pair(A.data(), nullptr, n, buf.data());
    inverse_natural(buf.data(), f);
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(buf[i].re / n, a[i], 1e-5) << "n " << n << " i " << i;
      EXPECT_NEAR(buf[i].im / n, 0.0, 1e-5) << "n " << n << " i " << i;
    }
  }
}

// Rows in pairs, then columns, as the forward kernel composes them; against FFTW's 2D r2c, and
// back as the inverse does (columns, then rows in pairs).
TEST(SmallFft, TwoDimensionalRealTransformComposedLikeTheKernels) {
  std::mt19937_64 rng(testing::test_seed() + 2);
  for (auto [nh, nw] : {std::pair{8, 8}, {16, 16}, {32, 32}, {5, 12}, {7, 9}, {1, 6}, {27, 50}, {128, 128}, {96, 35}}) {
    const int nwc = nw / 2 + 1;
    const auto x = random_reals(rng, nh * nw);
    const small_fft::Radices rh = small_fft::factor(nh), rw = small_fft::factor(nw);
    std::vector<Cf> plane(nh * nwc), buf(small_fft::kMaxSize);
    for (int ha = 0; ha < nh; ha += 2) {
      const int hb = ha + 1;
      for (int q = 0; q < nw; ++q) {
        const int gw = small_fft::digit_reverse(q, rw);
        buf[q] = {float(x[ha * nw + gw]), hb < nh ? float(x[hb * nw + gw]) : 0.0f};
      }
      small_fft::fft_stages(buf.data(), rw, -1);
      small_fft::split_pair(buf.data(), nw, &plane[ha * nwc], hb < nh ? &plane[hb * nwc] : nullptr);
    }
    std::vector<cd> got(nh * nwc);
    for (int k = 0; k < nwc; ++k) {
      for (int q = 0; q < nh; ++q) buf[q] = plane[small_fft::digit_reverse(q, rh) * nwc + k];
      if (nh > 1) small_fft::fft_stages(buf.data(), rh, -1);
      for (int h = 0; h < nh; ++h) got[h * nwc + k] = {buf[h].re, buf[h].im}, plane[h * nwc + k] = buf[h];
    }

    std::vector<double> in(x);
    std::vector<cd> want(nh * nwc);
    fftw_plan p = fftw_plan_dft_r2c_2d(nh, nw, in.data(), reinterpret_cast<fftw_complex*>(want.data()), FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    EXPECT_LT(rel_diff(got, want), 1e-5) << nh << "x" << nw;

    // Inverse: columns, then row pairs; scaled by 1/(nh*nw) it returns x.
    for (int k = 0; k < nwc; ++k) {
      for (int q = 0; q < nh; ++q) buf[q] = plane[small_fft::digit_reverse(q, rh) * nwc + k];
      if (nh > 1) small_fft::fft_stages(buf.data(), rh, +1);
      for (int h = 0; h < nh; ++h) plane[h * nwc + k] = buf[h];
    }
    std::vector<cd> back(nh * nw), orig(nh * nw);
    for (int ha = 0; ha < nh; ha += 2) {
      const int hb = ha + 1;
      small_fft::join_pair(&plane[ha * nwc], hb < nh ? &plane[hb * nwc] : nullptr, nw, buf.data());
      inverse_natural(buf.data(), rw);
      for (int w = 0; w < nw; ++w) {
        back[ha * nw + w] = buf[w].re / double(nh * nw);
        if (hb < nh) back[hb * nw + w] = buf[w].im / double(nh * nw);
      }
    }
    for (int i = 0; i < nh * nw; ++i) orig[i] = x[i];
    EXPECT_LT(rel_diff(back, orig), 1e-5) << nh << "x" << nw;
  }
}

}  // namespace
}  // namespace convbench
