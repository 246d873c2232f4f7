// Factories of the CUDA algorithms (registered in harness/algorithms.cpp when CUDA is built).
// Their ConvBuffers hold device pointers; run() enqueues on the stream given by set_stream().
#pragma once

#include <atomic>
#include <complex>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"

namespace convbench {

std::unique_ptr<Algorithm> make_cuda_direct(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_im2col(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_fft(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_fbfft(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_fft_tiled(const AlgoOptions& opt);
std::unique_ptr<Algorithm> make_cuda_fbfft_tiled(const AlgoOptions& opt);

// Element counts from which the CUDA kernels index in 64 bits (cuda::index_fits_int32; their
// 32-bit path divides faster): 2^30, or lower where set. Real tensors reach the 64-bit path only
// from 4 GiB, so tests set 0 to run it on small shapes.
inline std::atomic<int64_t>& cuda_wide_index_from() {
  static std::atomic<int64_t> elements{int64_t(1) << 30};
  return elements;
}

// Transform-only benchmark (own small FFT vs cuFFT): a batched R2C of `batch` random real
// planes of n (dims 1) or n x n (dims 2), the same data for the same seed, into plane-major
// half-spectra. impl: one of r2c_transform_impls(). Allocation, upload and planning happen here.
class R2cTransform {
 public:
  virtual ~R2cTransform() = default;
  virtual void run() = 0;                                  // enqueue one batched transform
  virtual std::vector<std::complex<float>> result() = 0;  // host copy (waits for the stream)
  virtual const std::vector<float>& input() const = 0;    // the planes transformed
  virtual std::size_t device_bytes() const = 0;           // inputs, outputs, work area
};
// cuFFT; cuda.fbfft's kernels as cuda.fbfft runs them; the same with 32 and 64 split in two
// levels (only those sizes: above 64 cuda.fbfft splits).
inline const std::vector<std::string>& r2c_transform_impls() {
  static const std::vector<std::string> impls{"cufft", "cuda.fbfft", "cuda.fbfft_split"};
  return impls;
}
// Throws std::runtime_error in a build without CUDA.
std::unique_ptr<R2cTransform> make_r2c_transform(const std::string& impl, int dims, int n, int64_t batch,
                                                 uint64_t seed, void* stream);

}  // namespace convbench
