// Transform-size planner for FFT convolution.
#pragma once

#include <cstdint>

#include "convbench/algorithm.hpp"

namespace convbench {

// True when n > 0 has no prime factor above 7.
bool is_smooth(int64_t n);
// Smallest transform size >= n allowed by the policy: smooth (2^a 3^b 5^c 7^d) or power of two.
int64_t fft_size(int64_t n, FftSizePolicy policy);

}  // namespace convbench
