#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cufft.h>

#include <string>

#include "convbench/cuda_info.hpp"

namespace convbench {

bool cuda_built() { return true; }

int cuda_device_count() {
  // Asked often (algorithm selection, supports()); without a driver each query costs ~0.1 s.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return 0;
    }
    return n;
  }();
  return count;
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

std::optional<CudaDeviceFacts> cuda_device_facts() {
  if (cuda_device_count() == 0) return std::nullopt;
  int device = 0;
  cudaDeviceProp p{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&p, device) != cudaSuccess) {
    cudaGetLastError();
    return std::nullopt;
  }
  CudaDeviceFacts f;
  f.name = p.name;
  f.major = p.major, f.minor = p.minor;
  f.sms = p.multiProcessorCount;
  f.l2_bytes = p.l2CacheSize;
  f.memory_bytes = static_cast<int64_t>(p.totalGlobalMem);
  int sm_khz = 0, mem_khz = 0, bus = 0;  // attributes: CUDA 13's cudaDeviceProp has no clock fields
  if (cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess) {
    cudaGetLastError();
    return std::nullopt;
  }
  f.sm_clock_khz = sm_khz, f.memory_clock_khz = mem_khz, f.memory_bus_bits = bus;
  return f;
}

std::vector<std::pair<std::string, std::string>> cuda_versions() {
  auto dotted = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  std::vector<std::pair<std::string, std::string>> out;
  int v = 0;
  out.emplace_back("cuda_runtime", cudaRuntimeGetVersion(&v) == cudaSuccess ? dotted(v) : "unavailable");
  v = 0;
  out.emplace_back("cuda_driver", cudaDriverGetVersion(&v) == cudaSuccess && v > 0 ? dotted(v) : "no driver");
  cudaGetLastError();
  v = 0;
  out.emplace_back("cufft", cufftGetVersion(&v) == CUFFT_SUCCESS ? std::to_string(v) : "unavailable");
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  out.emplace_back("cublas", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
  const size_t dnn = cudnnGetVersion();
  out.emplace_back("cudnn", std::to_string(dnn / 10000) + "." + std::to_string(dnn % 10000 / 100) + "." +
                                std::to_string(dnn % 100));
  return out;
}

}  // namespace convbench
