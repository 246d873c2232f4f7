#include <cuda_runtime.h>

#include <string>

#include "convbench/cuda_info.hpp"

namespace convbench {

bool cuda_built() { return true; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

std::string cuda_summary() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return std::string("built with CUDA ") + std::to_string(CUDART_VERSION) + ", no CUDA device (" +
           cudaGetErrorString(err) + ")";
  }
  std::string s = "built with CUDA " + std::to_string(CUDART_VERSION) + ", " + std::to_string(n) + " device(s):";
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess)
      s += " [" + std::to_string(i) + "] " + p.name + " sm_" + std::to_string(p.major) + std::to_string(p.minor);
  }
  return s;
}

}  // namespace convbench
