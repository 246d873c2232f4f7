// Factories of the CPU algorithms (registered in harness/algorithms.cpp).
#pragma once

#include <memory>

#include "convbench/algorithm.hpp"

namespace convbench {

std::unique_ptr<Algorithm> make_cpu_direct(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cpu_im2col(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cpu_fft(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cpu_fft_tiled(const AlgoOptions& opt);

}  // namespace convbench
