// Factories of the cuDNN baselines (registered in harness/algorithms.cpp when CUDA is built):
// one algorithm per legacy cuDNN convolution algorithm, plus cudnn.best (cudnnFind per pass).
// Names: forward algorithms by their cuDNN names, which also run the same-named backward
// algorithms where cuDNN has them (fft, fft_tiling, winograd, winograd_nonfused); the
// backward-only ones as cudnn.bwd_data_algo_N / cudnn.bwd_filter_algo_N.
#pragma once

#include <memory>

#include "convbench/algorithm.hpp"

namespace convbench {

std::unique_ptr<Algorithm> make_cudnn_implicit_gemm(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_implicit_precomp_gemm(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_gemm(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_direct(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_fft(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_fft_tiling(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_winograd(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_winograd_nonfused(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_bwd_data_algo_0(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_bwd_data_algo_1(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_0(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_1(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_3(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cudnn_best(const AlgoOptions& opt);

}  // namespace convbench
