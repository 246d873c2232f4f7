// cuda.direct: the naive GPU baseline. One thread per output element for fprop and dgrad (the
// gather form: every dx element sums the taps that reach it, no atomics, so every element is
// written once and the result is deterministic). wgrad reduces over N x output positions, a
// long sum for few outputs, so one block per dw element with a tree reduction in shared memory.
#include <algorithm>
#include <optional>
#include <string>

#include "conv_params.cuh"
#include "convbench/cuda_algorithms.hpp"

namespace convbench {
namespace {

using cuda::ConvParams;
using cuda::out_index;

constexpr int kBlock = 256;

__global__ void fprop_kernel(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
                             float* __restrict__ y, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t t = i;
    const int ow = int(t % p.out[2]);
    t /= p.out[2];
    const int oh = int(t % p.out[1]);
    t /= p.out[1];
    const int od = int(t % p.out[0]);
    t /= p.out[0];
    const int k = int(t % p.K);
    const int64_t n = t / p.K;
    const int g = k / p.Kg;
    const float* xg = x + (n * p.C + int64_t(g) * p.Cg) * p.in_vol;
    const float* wk = w + int64_t(k) * p.Cg * p.k_vol;
    float acc = 0.0f;
    for (int c = 0; c < p.Cg; ++c) {
      const float* xc = xg + int64_t(c) * p.in_vol;
      const float* wc = wk + int64_t(c) * p.k_vol;
      for (int rd = 0; rd < p.k[0]; ++rd) {
        const int id = od * p.stride[0] + rd * p.dil[0] - p.pad[0];
        if (id < 0 || id >= p.in[0]) continue;
        for (int rh = 0; rh < p.k[1]; ++rh) {
          const int ih = oh * p.stride[1] + rh * p.dil[1] - p.pad[1];
          if (ih < 0 || ih >= p.in[1]) continue;
          const float* xrow = xc + (int64_t(id) * p.in[1] + ih) * p.in[2];
          const float* wrow = wc + (rd * p.k[1] + rh) * p.k[2];
          for (int rw = 0; rw < p.k[2]; ++rw) {
            const int iw = ow * p.stride[2] + rw * p.dil[2] - p.pad[2];
            if (iw < 0 || iw >= p.in[2]) continue;
            acc = fmaf(xrow[iw], wrow[rw], acc);
          }
        }
      }
    }
    y[i] = acc;
  }
}

__global__ void dgrad_kernel(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w,
                             float* __restrict__ dx, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t t = i;
    const int iw = int(t % p.in[2]);
    t /= p.in[2];
    const int ih = int(t % p.in[1]);
    t /= p.in[1];
    const int id = int(t % p.in[0]);
    t /= p.in[0];
    const int c = int(t % p.C);
    const int64_t n = t / p.C;
    const int g = c / p.Cg, cl = c % p.Cg;
    float acc = 0.0f;
    for (int rd = 0; rd < p.k[0]; ++rd) {
      const int od = out_index(id, rd, p.pad[0], p.stride[0], p.dil[0], p.out[0]);
      if (od < 0) continue;
      for (int rh = 0; rh < p.k[1]; ++rh) {
        const int oh = out_index(ih, rh, p.pad[1], p.stride[1], p.dil[1], p.out[1]);
        if (oh < 0) continue;
        for (int rw = 0; rw < p.k[2]; ++rw) {
          const int ow = out_index(iw, rw, p.pad[2], p.stride[2], p.dil[2], p.out[2]);
          if (ow < 0) continue;
          const int64_t o = (int64_t(od) * p.out[1] + oh) * p.out[2] + ow;
          const int r = (rd * p.k[1] + rh) * p.k[2] + rw;
          for (int k = g * p.Kg; k < (g + 1) * p.Kg; ++k)
            acc = fmaf(dy[(n * p.K + k) * p.out_vol + o], w[(int64_t(k) * p.Cg + cl) * p.k_vol + r], acc);
        }
      }
    }
    dx[i] = acc;
  }
}

// One block per dw element (k, c, r): the block's threads stride over (n, output position).
__global__ void wgrad_kernel(ConvParams p, const float* __restrict__ x, const float* __restrict__ dy,
                             float* __restrict__ dw, int64_t total) {
  __shared__ float partial[kBlock];
  for (int64_t e = blockIdx.x; e < total; e += gridDim.x) {
    int64_t t = e;
    const int rw = int(t % p.k[2]);
    t /= p.k[2];
    const int rh = int(t % p.k[1]);
    t /= p.k[1];
    const int rd = int(t % p.k[0]);
    t /= p.k[0];
    const int c = int(t % p.Cg);
    const int k = int(t / p.Cg);
    const int ci = (k / p.Kg) * p.Cg + c;
    const int64_t len = int64_t(p.N) * p.out_vol;
    float acc = 0.0f;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
      const int64_t n = j / p.out_vol;
      int o = int(j % p.out_vol);
      const int ow = o % p.out[2];
      o /= p.out[2];
      const int oh = o % p.out[1];
      const int od = o / p.out[1];
      const int id = od * p.stride[0] + rd * p.dil[0] - p.pad[0];
      const int ih = oh * p.stride[1] + rh * p.dil[1] - p.pad[1];
      const int iw = ow * p.stride[2] + rw * p.dil[2] - p.pad[2];
      if (id < 0 || id >= p.in[0] || ih < 0 || ih >= p.in[1] || iw < 0 || iw >= p.in[2]) continue;
      acc = fmaf(dy[(n * p.K + k) * p.out_vol + (j % p.out_vol)],
                 x[(n * p.C + ci) * p.in_vol + (int64_t(id) * p.in[1] + ih) * p.in[2] + iw], acc);
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (int(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) dw[e] = partial[0];
    __syncthreads();  // partial[] is reused by the next element
  }
}

class CudaDirect final : public Algorithm {
 public:
  std::string name() const override { return "cuda.direct"; }
  std::string description() const override {
    return "naive CUDA kernels: one thread per y/dx element (gather, no atomics), one block per dw element; "
           "1D/2D/3D, pad, stride, dilation, groups";
  }
  Device device() const override { return Device::cuda; }
  std::string supports(const Shape& s, Pass) const override {
    return cuda::conv_params_refusal(s);
  }
  std::size_t workspace_bytes(const Shape&, Pass) const override { return 0; }
  void set_stream(void* s) override { stream_ = cuda::as_stream(s); }
  void prepare(const Shape& s, Pass p) override {
    params_ = cuda::conv_params(s);
    shape_ = s;
    prepared_ = p;
  }
  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(*prepared_, p))
      throw std::logic_error("cuda.direct: run(" + std::string(to_string(p)) + ") without prepare for it");
    const Shape& s = shape_;
    if (pass_covered(p, Pass::fprop)) {
      fprop_kernel<<<cuda::grid_for(s.y_elems(), kBlock), kBlock, 0, stream_>>>(params_, t.x, t.w, t.y, s.y_elems());
      CB_LAUNCH("fprop_kernel");
    }
    if (pass_covered(p, Pass::dgrad)) {
      dgrad_kernel<<<cuda::grid_for(s.x_elems(), kBlock), kBlock, 0, stream_>>>(params_, t.dy, t.w, t.dx, s.x_elems());
      CB_LAUNCH("dgrad_kernel");
    }
    if (pass_covered(p, Pass::wgrad)) {
      const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(s.w_elems(), 1 << 24));
      wgrad_kernel<<<blocks, kBlock, 0, stream_>>>(params_, t.x, t.dy, t.dw, s.w_elems());
      CB_LAUNCH("wgrad_kernel");
    }
  }

 private:
  cudaStream_t stream_ = nullptr;
  std::optional<Pass> prepared_;
  Shape shape_;
  ConvParams params_{};
};

}  // namespace

std::unique_ptr<Algorithm> make_cuda_direct(const AlgoOptions&) { return std::make_unique<CudaDirect>(); }

}  // namespace convbench
