#include <gtest/gtest.h>

#include "convbench/fft_size.hpp"

namespace convbench {
namespace {

// Independent check by trial division over all primes up to n.
bool largest_prime_factor_at_most_7(int64_t n) {
  for (int64_t p = 2; p * p <= n; ++p)
    while (n % p == 0) {
      if (p > 7) return false;
      n /= p;
    }
  return n <= 7;
}

TEST(FftSize, SmoothPolicyPicksTheSmallestSmoothSizeAtLeastN) {
  for (int64_t n = 1; n <= 3000; ++n) {
    const int64_t m = fft_size(n, FftSizePolicy::smooth);
    ASSERT_GE(m, n);
    ASSERT_TRUE(largest_prime_factor_at_most_7(m)) << n << " -> " << m;
    for (int64_t j = n; j < m; ++j) ASSERT_FALSE(largest_prime_factor_at_most_7(j)) << n << " skipped " << j;
  }
  EXPECT_EQ(fft_size(34, FftSizePolicy::smooth), 35);
  EXPECT_EQ(fft_size(11, FftSizePolicy::smooth), 12);
  EXPECT_EQ(fft_size(97, FftSizePolicy::smooth), 98);
}

TEST(FftSize, Pow2PolicyReproducesThePapersPadding) {
  EXPECT_EQ(fft_size(34, FftSizePolicy::pow2), 64);  // Mathieu et al.: 34 -> 64
  for (int64_t n = 1; n <= 5000; ++n) {
    const int64_t m = fft_size(n, FftSizePolicy::pow2);
    ASSERT_EQ(m & (m - 1), 0) << n;
    ASSERT_GE(m, n);
    ASSERT_LT(m / 2, n);
  }
}

TEST(FftSize, RejectsNonPositive) { EXPECT_THROW(fft_size(0, FftSizePolicy::smooth), std::invalid_argument); }

}  // namespace
}  // namespace convbench
