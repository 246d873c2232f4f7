// Transform-only runners for the own-FFT-vs-cuFFT benchmark: the same batched R2C of the same
// random planes by cuFFT (one plan many, made here) or by cuda.fbfft's kernels
// (small_fft_kernels.cu), as cuda.fbfft runs them or, cuda.fbfft_split, with 32 and 64 split
// into two levels (small_fft::block_geom's split_small), so that one run times both.
#include <cufft.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_check.hpp"
#include "small_fft.cuh"

namespace convbench {
namespace {

class R2cRunner final : public R2cTransform {
 public:
  R2cRunner(bool own, bool split_small, int dims, int n, int64_t batch, uint64_t seed, void* stream)
      : own_(own), dims_(dims), n_(n), batch_(batch), stream_(cuda::as_stream(stream)) {
    if (dims != 1 && dims != 2) throw std::invalid_argument("transform dims must be 1 or 2, got " + std::to_string(dims));
    if (n < 2 || (own && !small_fft::supported(n)))
      throw std::invalid_argument("transform size " + std::to_string(n) + (own ? " not 7-smooth in 2..128" : " < 2"));
    if (batch < 1) throw std::invalid_argument("transform batch must be >= 1");
    if (split_small && !(n <= small_fft::kMaxFixed && small_fft::split_capable(n)))
      throw std::invalid_argument("cuda.fbfft_split: no split variant of size " + std::to_string(n) +
                                  " beside cuda.fbfft's own (those of 32 and 64; above 64 cuda.fbfft splits)");
    if (own_) geom_ = small_fft::block_geom(dims == 2 ? n : 1, n, batch, split_small);  // the plan: not in run()
    const int64_t real = batch * plane_elems(), cplx = batch * bins();
    host_in_.resize(static_cast<size_t>(real));
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : host_in_) v = u(rng);
    in_ = cuda::DeviceBuffer(real * sizeof(float));
    out_ = cuda::DeviceBuffer(cplx * sizeof(float2));
    CB_CUDA(cudaMemcpyAsync(in_.get(), host_in_.data(), host_in_.size() * sizeof(float), cudaMemcpyHostToDevice,
                            stream_));
    CB_CUDA(cudaStreamSynchronize(stream_));
    if (!own_) {
      long long dims_n[2] = {n, n};
      long long inembed[2] = {n, n}, onembed[2] = {n, n / 2 + 1};
      CB_CUFFT(cufftCreate(&plan_));
      std::size_t work = 0;
      CB_CUFFT(cufftMakePlanMany64(plan_, dims, dims_n, inembed, 1, plane_elems(), onembed, 1, bins(), CUFFT_R2C,
                                   batch, &work));
      CB_CUFFT(cufftSetStream(plan_, stream_));
      work_bytes_ = work;
    }
  }
  ~R2cRunner() override {
    if (plan_) cufftDestroy(plan_);
  }
  R2cRunner(const R2cRunner&) = delete;
  R2cRunner& operator=(const R2cRunner&) = delete;

  void run() override {
    if (!own_) {
      CB_CUFFT(cufftExecR2C(plan_, in_.as<cufftReal>(), out_.as<cufftComplex>()));
      return;
    }
    Placement pl{};
    pl.ext[0] = 1, pl.ext[1] = dims_ == 2 ? n_ : 1, pl.ext[2] = n_;
    for (int i = 0; i < 3; ++i) pl.step[i] = 1;
    const cuda::SpectrumAddr spec{out_.as<small_fft::Cf>(), batch_, bins(), PlaneOrder{1, 1, 1}, nullptr, false};
    cuda::launch_small_fft(true, in_.as<float>(), nullptr, spec, pl, geom_, 1.0f, stream_);
    CB_LAUNCH("small_r2c");
  }

  std::vector<std::complex<float>> result() override {
    CB_CUDA(cudaStreamSynchronize(stream_));
    std::vector<std::complex<float>> host(static_cast<size_t>(batch_ * bins()));
    CB_CUDA(cudaMemcpy(host.data(), out_.get(), host.size() * sizeof(float2), cudaMemcpyDeviceToHost));
    return host;
  }

  const std::vector<float>& input() const override { return host_in_; }

  std::size_t device_bytes() const override { return in_.bytes() + out_.bytes() + work_bytes_; }

 private:
  int64_t plane_elems() const { return dims_ == 2 ? int64_t(n_) * n_ : n_; }
  int64_t bins() const { return (dims_ == 2 ? n_ : 1) * int64_t(n_ / 2 + 1); }

  bool own_;
  int dims_, n_;
  int64_t batch_;
  cudaStream_t stream_;
  cuda::BlockGeom geom_;  // own transforms
  cufftHandle plan_ = 0;
  std::size_t work_bytes_ = 0;  // cuFFT's own work area (auto-allocated)
  cuda::DeviceBuffer in_, out_;
  std::vector<float> host_in_;
};

}  // namespace

std::unique_ptr<R2cTransform> make_r2c_transform(const std::string& impl, int dims, int n, int64_t batch,
                                                 uint64_t seed, void* stream) {
  const auto& impls = r2c_transform_impls();
  if (std::find(impls.begin(), impls.end(), impl) == impls.end()) {
    std::string known;
    for (const auto& i : impls) known += (known.empty() ? "" : ", ") + i;
    throw std::invalid_argument("unknown transform implementation '" + impl + "' (" + known + ")");
  }
  return std::make_unique<R2cRunner>(impl != "cufft", impl == "cuda.fbfft_split", dims, n, batch, seed, stream);
}

}  // namespace convbench
