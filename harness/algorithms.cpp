#include "algorithms.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "convbench/baseline_algorithms.hpp"
#include "convbench/cpu_algorithms.hpp"
#ifdef CONVBENCH_HAVE_CUDA
#include "convbench/cuda_algorithms.hpp"
#include "convbench/cudnn_algorithms.hpp"
#endif

namespace convbench {

const std::vector<AlgorithmEntry>& algorithm_list() {
  static const std::vector<AlgorithmEntry> list = {
      {"cpu.direct", make_cpu_direct},
      {"cpu.im2col", make_cpu_im2col},
      {"cpu.fft", make_cpu_fft},
      {"cpu.fft_tiled", make_cpu_fft_tiled},
      {"cpu.onednn", make_cpu_onednn},
#ifdef CONVBENCH_HAVE_CUDA
      {"cuda.direct", make_cuda_direct},
      {"cuda.im2col", make_cuda_im2col},
      {"cuda.fft", make_cuda_fft},
      {"cuda.fbfft", make_cuda_fbfft},
      {"cuda.fft_tiled", make_cuda_fft_tiled},
      {"cuda.fbfft_tiled", make_cuda_fbfft_tiled},
      {"cudnn.implicit_gemm", make_cudnn_implicit_gemm},
      {"cudnn.implicit_precomp_gemm", make_cudnn_implicit_precomp_gemm},
      {"cudnn.gemm", make_cudnn_gemm},
      {"cudnn.direct", make_cudnn_direct},
      {"cudnn.fft", make_cudnn_fft},
      {"cudnn.fft_tiling", make_cudnn_fft_tiling},
      {"cudnn.winograd", make_cudnn_winograd},
      {"cudnn.winograd_nonfused", make_cudnn_winograd_nonfused},
      {"cudnn.bwd_data_algo_0", make_cudnn_bwd_data_algo_0},
      {"cudnn.bwd_data_algo_1", make_cudnn_bwd_data_algo_1},
      {"cudnn.bwd_filter_algo_0", make_cudnn_bwd_filter_algo_0},
      {"cudnn.bwd_filter_algo_1", make_cudnn_bwd_filter_algo_1},
      {"cudnn.bwd_filter_algo_3", make_cudnn_bwd_filter_algo_3},
      {"cudnn.best", make_cudnn_best},
#endif
  };
  return list;
}

std::unique_ptr<Algorithm> make_algorithm(std::string_view name, const AlgoOptions& opt) {
  std::string known;
  for (const auto& e : algorithm_list()) {
    if (e.name == name) return e.make(opt);
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  }
  throw std::invalid_argument(fmt::format("unknown algorithm '{}' (this build has: {})", name, known));
}

}  // namespace convbench
