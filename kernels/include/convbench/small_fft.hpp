// The arithmetic of cuda.fbfft's own small transforms (fbfft-style, Vasilache et al. 2015):
// complex mixed-radix (4, 2, 3, 5, 7) Cooley-Tukey FFTs of length <= 128 held by one thread,
// and the two-for-one packing that turns them into real transforms. Host and device share this
// header, so the math is tested against FFTW on any machine; small_fft_block.hpp distributes
// rows and columns over the threads of a block.
#pragma once

#include <cmath>
#include <cstdint>

#include "convbench/host_device.hpp"

namespace convbench::small_fft {

constexpr int kMaxSize = 128;
constexpr int kMaxRadices = 8;  // 128 = 4*4*4*2; no size <= 128 needs more than 7 factors

struct alignas(8) Cf {  // the layout of float2 / cuComplex
  float re, im;
};
CB_HD Cf operator+(Cf a, Cf b) { return {a.re + b.re, a.im + b.im}; }
CB_HD Cf operator-(Cf a, Cf b) { return {a.re - b.re, a.im - b.im}; }
CB_HD Cf operator*(Cf a, Cf b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
CB_HD Cf conj(Cf a) { return {a.re, -a.im}; }

// Factors of n, radix 4 first, then 2, 3, 5, 7. count = 0: n is not 7-smooth or exceeds kMaxSize.
struct Radices {
  int n = 0, count = 0;
  int r[kMaxRadices] = {};
};

CB_HD_CONSTEXPR Radices factor(int n) {
  Radices f;
  f.n = n;
  if (n < 1 || n > kMaxSize) return f;
  int m = n;
  const int order[5] = {4, 2, 3, 5, 7};
  for (int i = 0; i < 5; ++i)
    while (m % order[i] == 0 && f.count < kMaxRadices) f.r[f.count++] = order[i], m /= order[i];
  if (m != 1) f.count = 0;
  return f;
}

CB_HD_CONSTEXPR bool supported(int n) { return n == 1 || factor(n).count > 0; }

// e^(sign * 2*pi*i * k / n)
CB_HD Cf twiddle(int k, int n, int sign) {
#if defined(__CUDA_ARCH__)
  float s, c;
  sincospif(2.0f * static_cast<float>(k) / static_cast<float>(n), &s, &c);
  return {c, sign * s};
#else
  const double a = 2.0 * 3.14159265358979323846 * k / n;
  return {static_cast<float>(std::cos(a)), static_cast<float>(sign * std::sin(a))};
#endif
}

// Position p of the stage buffer holds input element digit_reverse(p): p's mixed-radix digits
// (least significant in radix r[0]) read in the opposite order, so that each stage combines
// r[s] adjacent sub-transforms in place (decimation in time).
CB_HD_CONSTEXPR int digit_reverse(int p, const Radices& f) {
  int i = 0;
  for (int s = 0; s < f.count; ++s) {
    i = i * f.r[s] + p % f.r[s];
    p /= f.r[s];
  }
  return i;
}

// In-place unscaled DFT of buf[0..n): sign -1 forward, +1 inverse. buf must already be in
// digit_reverse order; the result is in natural order.
CB_HD void fft_stages(Cf* buf, const Radices& f, int sign) {
  int span = 1;  // length of the sub-transforms being combined
  for (int s = 0; s < f.count; ++s) {
    const int r = f.r[s], len = span * r;
    Cf wr[7];  // r-th roots of unity
    for (int t = 0; t < r; ++t) wr[t] = twiddle(t, r, sign);
    for (int j = 0; j < span; ++j) {
      const Cf wj = twiddle(j, len, sign);
      for (int b = j; b < f.n; b += len) {
        Cf x[7], y[7];
        Cf w = {1.0f, 0.0f};
        for (int q = 0; q < r; ++q) {
          x[q] = buf[b + q * span] * w;
          w = w * wj;
        }
        for (int t = 0; t < r; ++t) {
          Cf acc = x[0];
          for (int q = 1; q < r; ++q) acc = acc + x[q] * wr[(t * q) % r];
          y[t] = acc;
        }
        for (int t = 0; t < r; ++t) buf[b + t * span] = y[t];
      }
    }
    span = len;
  }
}

// Two real rows a, b of length n in one complex transform: z = a + i*b, Z = FFT(z), then
//   A[k] = (Z[k] + conj(Z[n-k])) / 2,   B[k] = (Z[k] - conj(Z[n-k])) / (2i),   k = 0..n/2.
// Z in natural order; writes A and B (n/2 + 1 bins each; B = nullptr: A only). Unrolled where n
// is a compile-time constant after inlining, so Z may stay in registers.
CB_HD void split_pair(const Cf* Z, int n, Cf* A, Cf* B) {
  CB_UNROLL
  for (int k = 0; k <= n / 2; ++k) {
    const Cf z = Z[k], zc = conj(Z[(n - k) % n]);
    A[k] = {0.5f * (z.re + zc.re), 0.5f * (z.im + zc.im)};
    if (B) B[k] = {0.5f * (z.im - zc.im), -0.5f * (z.re - zc.re)};
  }
}

// The inverse of split_pair: Z[k] = A[k] + i*B[k] over all k (natural order), the upper half from
// Hermitian symmetry, ready for an inverse complex FFT. As a C2R transform does, the imaginary
// parts of the self-conjugate bins (0 and, for even n, n/2) are ignored. B = nullptr: all zero.
CB_HD void join_pair(const Cf* A, const Cf* B, int n, Cf* Z) {
  CB_UNROLL
  for (int k = 0; k < n; ++k) {
    const bool upper = k > n / 2;
    const int j = upper ? n - k : k;
    Cf a = A[j], b = B ? B[j] : Cf{0.0f, 0.0f};
    if (upper) a = conj(a), b = conj(b);
    if (k == 0 || 2 * k == n) a.im = 0.0f, b.im = 0.0f;
    Z[k] = {a.re - b.im, a.im + b.re};
  }
}

}  // namespace convbench::small_fft
