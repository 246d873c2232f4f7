#include "convbench/fft_size.hpp"

#include <stdexcept>

namespace convbench {

bool is_smooth(int64_t n) {
  if (n < 1) return false;
  for (int64_t p : {2, 3, 5, 7})
    while (n % p == 0) n /= p;
  return n == 1;
}

// The smallest admissible size is also the cheapest here: FFTW's codelets make every
// 7-smooth size run in O(n log n) with similar constants, so fewer points always wins.
int64_t fft_size(int64_t n, FftSizePolicy policy) {
  if (n < 1) throw std::invalid_argument("fft_size: n must be >= 1");
  int64_t m = n;
  if (policy == FftSizePolicy::pow2) {
    m = 1;
    while (m < n) m *= 2;
    return m;
  }
  while (!is_smooth(m)) ++m;
  return m;
}

}  // namespace convbench
