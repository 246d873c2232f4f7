// Error checking and device memory for the CUDA code (included only where CUDA is built).
// Every CUDA runtime, cuBLAS and cuFFT call and every kernel launch goes through one of the
// CB_* macros below: a failure throws, naming the call as written, its status, file and line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace convbench::cuda {

// A device allocation (ours or a library's) failed. A std::bad_alloc, so the harness reports
// the case as skipped for memory; what() still names the call.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

// "<call> failed: <status> at <file>:<line>"; throws OutOfMemory when out_of_memory, else
// std::runtime_error.
[[noreturn]] void fail(const char* call, const std::string& status, const char* file, int line, bool out_of_memory);

std::string status_name(cufftResult r);

inline void check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();  // clear a non-sticky error so the next launch check does not see it
  fail(call, std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")", file, line,
       e == cudaErrorMemoryAllocation);
}
inline void check_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  fail(call, std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ")", file, line,
       s == CUBLAS_STATUS_ALLOC_FAILED);
}
inline void check_cufft(cufftResult r, const char* call, const char* file, int line) {
  if (r == CUFFT_SUCCESS) return;
  fail(call, status_name(r), file, line, r == CUFFT_ALLOC_FAILED);
}

// cudaStream_t travels through the CUDA-free Algorithm interface as void*.
inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// Owning device allocation (cudaMalloc), freed on destruction; never inside a timed region.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset() noexcept;
  void* get() const { return p_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace convbench::cuda

#define CB_CUDA(call) ::convbench::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define CB_CUBLAS(call) ::convbench::cuda::check_cublas((call), #call, __FILE__, __LINE__)
#define CB_CUFFT(call) ::convbench::cuda::check_cufft((call), #call, __FILE__, __LINE__)
// After every kernel launch: launch-configuration errors surface here, named by the kernel.
#define CB_LAUNCH(kernel) ::convbench::cuda::check_cuda(cudaGetLastError(), "launch of " kernel, __FILE__, __LINE__)
