// cuda.im2col: unfold the input windows of a chunk of images into a column matrix with our own
// kernel, multiply with cuBLAS SGEMM (strided-batched over the chunk's images), fold dgrad back
// with a gather col2im (every dx element sums the column entries taken from it: no atomics).
// The chunk is as many images as fit a fixed column-buffer budget, so huge batches do not need
// huge workspaces. The step pass unfolds x once for fprop and wgrad.
//
// Column matrix of image b, group g: rows = (channel of the group, kernel tap), cols = output
// positions, row-major; images follow each other with all groups: [b][c][tap][o].
#include <algorithm>
#include <optional>
#include <string>

#include "conv_params.cuh"
#include "convbench/cuda_algorithms.hpp"
#include "cublas_handle.hpp"

namespace convbench {
namespace {

using cuda::ConvParams;

constexpr int kBlock = 256;
constexpr int64_t kColBudgetBytes = int64_t(512) << 20;  // column buffer of one chunk

int64_t col_per_image(const Shape& s) { return s.C * s.kernel_volume() * s.out_volume(); }
int64_t chunk_images(const Shape& s) {
  const int64_t per = col_per_image(s) * int64_t(sizeof(float));
  return std::clamp<int64_t>(kColBudgetBytes / std::max<int64_t>(per, 1), 1, s.N);
}

template <class I>
__global__ void im2col_kernel(ConvParams p, const float* __restrict__ x, float* __restrict__ col, I n0, I total) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += I(gridDim.x) * I(blockDim.x)) {
    I t = i / p.out_vol;
    int o = int(i - t * p.out_vol);
    int r = int(t % p.k_vol);
    t /= p.k_vol;
    const int c = int(t % p.C);
    const I n = n0 + t / p.C;
    const int ow = o % p.out[2];
    o /= p.out[2];
    const int oh = o % p.out[1], od = o / p.out[1];
    const int rw = r % p.k[2];
    r /= p.k[2];
    const int rh = r % p.k[1], rd = r / p.k[1];
    const int id = od * p.stride[0] + rd * p.dil[0] - p.pad[0];
    const int ih = oh * p.stride[1] + rh * p.dil[1] - p.pad[1];
    const int iw = ow * p.stride[2] + rw * p.dil[2] - p.pad[2];
    const bool in = id >= 0 && id < p.in[0] && ih >= 0 && ih < p.in[1] && iw >= 0 && iw < p.in[2];
    col[i] = in ? x[(n * p.C + c) * p.in_vol + (I(id) * p.in[1] + ih) * p.in[2] + iw] : 0.0f;
  }
}

// dx of the chunk's images: every element gathers the column entries that were taken from it.
template <class I>
__global__ void col2im_kernel(ConvParams p, const float* __restrict__ dcol, float* __restrict__ dx, I n0, I total) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += I(gridDim.x) * I(blockDim.x)) {
    I t = i / p.in[2];
    const int iw = int(i - t * p.in[2]);
    const int ih = int(t % p.in[1]);
    t /= p.in[1];
    const int id = int(t % p.in[0]);
    const I bc = t / p.in[0];  // image-in-chunk * C + channel
    const float* src = dcol + bc * p.k_vol * p.out_vol;
    float acc = 0.0f;
    for (int rd = 0; rd < p.k[0]; ++rd) {
      const int od = cuda::out_index(id, rd, p.pad[0], p.stride[0], p.dil[0], p.out[0]);
      if (od < 0) continue;
      for (int rh = 0; rh < p.k[1]; ++rh) {
        const int oh = cuda::out_index(ih, rh, p.pad[1], p.stride[1], p.dil[1], p.out[1]);
        if (oh < 0) continue;
        for (int rw = 0; rw < p.k[2]; ++rw) {
          const int ow = cuda::out_index(iw, rw, p.pad[2], p.stride[2], p.dil[2], p.out[2]);
          if (ow < 0) continue;
          const int r = (rd * p.k[1] + rh) * p.k[2] + rw;
          acc += src[I(r) * p.out_vol + (I(od) * p.out[1] + oh) * p.out[2] + ow];
        }
      }
    }
    dx[n0 * p.C * I(p.in_vol) + i] = acc;
  }
}

class CudaIm2col final : public Algorithm {
 public:
  explicit CudaIm2col(const AlgoOptions& opt) : opt_(opt) {}
  std::string name() const override { return "cuda.im2col"; }
  std::string description() const override {
    return "own im2col/col2im kernels + cuBLAS SGEMM strided-batched over images; 1D/2D/3D, pad, stride, dilation, "
           "groups; step unfolds x once";
  }
  Device device() const override { return Device::cuda; }
  std::string supports(const Shape& s, Pass) const override {
    if (std::string why = cuda::conv_params_refusal(s); !why.empty()) return why;
    if (s.Cg() * s.kernel_volume() > INT32_MAX || s.out_volume() > INT32_MAX)
      return "column matrix of " + s.to_string() + " exceeds cuBLAS's int dimensions";
    return {};
  }
  std::size_t workspace_bytes(const Shape& s, Pass) const override {
    return static_cast<std::size_t>(chunk_images(s) * col_per_image(s)) * sizeof(float);
  }
  void set_stream(void* s) override {
    stream_ = cuda::as_stream(s);
    if (blas_) CB_CUBLAS(cublasSetStream(blas_, stream_));  // already prepared: move the handle too
  }
  std::string detail() const override { return cuda::CublasHandle::math_name(opt_.precision); }

  void prepare(const Shape& s, Pass p) override {
    prepared_.reset();
    params_ = cuda::conv_params(s);
    blas_ = handle_.get(stream_, opt_.precision);
    col_.reset();  // the old column buffer goes first: both may be near the 512 MiB cap
    col_ = cuda::DeviceBuffer(workspace_bytes(s, p));
    shape_ = s;
    prepared_ = p;
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(*prepared_, p))
      throw std::logic_error("cuda.im2col: run(" + std::string(to_string(p)) + ") without prepare for it");
    const Shape& s = shape_;
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const int rows = int(s.Cg() * s.kernel_volume()), cols = int(s.out_volume()), Kg = int(s.Kg());
    const int64_t img = col_per_image(s), chunk = chunk_images(s), G = s.groups;
    const float one = 1.0f, zero = 0.0f;
    float* col = col_.as<float>();
    // Indices reach the whole x (dx) and a chunk's columns.
    const bool int32 = cuda::index_fits_int32(std::max(s.x_elems(), chunk * img));
    for (int64_t n0 = 0; n0 < s.N; n0 += chunk) {
      const int B = int(std::min(chunk, s.N - n0));
      if (fp || wg) {
        const int64_t total = B * img;
        if (int32)
          im2col_kernel<int32_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(params_, t.x, col, int32_t(n0),
                                                                                       int32_t(total));
        else
          im2col_kernel<int64_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(params_, t.x, col, n0, total);
        CB_LAUNCH("im2col_kernel");
      }
      for (int64_t g = 0; fp && g < G; ++g)  // y_g (Kg x cols) = w_g (Kg x rows) * col_g (rows x cols)
        CB_CUBLAS(cublasSgemmStridedBatched(blas_, CUBLAS_OP_N, CUBLAS_OP_N, cols, Kg, rows, &one,
                                            col + g * rows * cols, cols, img, t.w + g * Kg * rows, rows, 0, &zero,
                                            t.y + (n0 * s.K + g * Kg) * cols, cols, s.K * cols, B));
      for (int b = 0; wg && b < B; ++b) {  // dw_g (Kg x rows) (+)= dy_g (Kg x cols) * col_g^T, batched over groups
        const int64_t n = n0 + b;
        const float* beta = n == 0 ? &zero : &one;
        CB_CUBLAS(cublasSgemmStridedBatched(blas_, CUBLAS_OP_T, CUBLAS_OP_N, rows, Kg, cols, &one, col + b * img, cols,
                                            int64_t(rows) * cols, t.dy + n * s.K * cols, cols, int64_t(Kg) * cols, beta,
                                            t.dw, rows, int64_t(Kg) * rows, int(G)));
      }
      if (dg) {  // dcol_g (rows x cols) = w_g^T * dy_g into the same buffer, then gathered into dx
        for (int64_t g = 0; g < G; ++g)
          CB_CUBLAS(cublasSgemmStridedBatched(blas_, CUBLAS_OP_N, CUBLAS_OP_T, cols, rows, Kg, &one,
                                              t.dy + (n0 * s.K + g * Kg) * cols, cols, s.K * cols,
                                              t.w + g * Kg * rows, rows, 0, &zero, col + g * rows * cols, cols, img, B));
        const int64_t total = B * s.C * s.in_volume();
        if (int32)
          col2im_kernel<int32_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(params_, col, t.dx, int32_t(n0),
                                                                                       int32_t(total));
        else
          col2im_kernel<int64_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(params_, col, t.dx, n0, total);
        CB_LAUNCH("col2im_kernel");
      }
    }
  }

 private:
  AlgoOptions opt_;
  cudaStream_t stream_ = nullptr;
  cuda::CublasHandle handle_;
  cublasHandle_t blas_ = nullptr;
  std::optional<Pass> prepared_;
  Shape shape_;
  ConvParams params_{};
  cuda::DeviceBuffer col_;
};

}  // namespace

std::unique_ptr<Algorithm> make_cuda_im2col(const AlgoOptions& opt) { return std::make_unique<CudaIm2col>(opt); }

}  // namespace convbench
