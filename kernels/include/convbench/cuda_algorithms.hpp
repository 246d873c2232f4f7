// Factories of the CUDA algorithms (registered in harness/algorithms.cpp when CUDA is built).
// Their ConvBuffers hold device pointers; run() enqueues on the stream given by set_stream().
#pragma once

#include <memory>

#include "convbench/algorithm.hpp"

namespace convbench {

std::unique_ptr<Algorithm> make_cuda_direct(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_im2col(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_fft(const AlgoOptions& opt);

}  // namespace convbench
