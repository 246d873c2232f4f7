// The host simulation's own checks bite (tests/cudasim/README.md): barriers order shared
// memory and a missing one shows, bad launches are errors, a stream's work is seen only after
// waiting for it, fresh memory is NaN, library calls outside an allocation stop the run, and the
// simulated cuDNN refuses what cuDNN refuses.
// Built only with CONVBENCH_CUDA=SIM; translated by translate.py like the kernels.
#include <cublas_v2.h>
#include <cudnn.h>
#include <cufft.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

constexpr int kThreads = 64;

// Each thread writes its slot, then reads its neighbour's, after a barrier if `sync`. The
// simulation knows a kernel by the name at its launch: rotate<1> is the one the missing-barrier
// test marks barrier-free.
template <int Tag>
__global__ void rotate(float* out, bool sync) {
  extern __shared__ float slot[];
  const unsigned t = threadIdx.x;
  slot[t] = float(t);
  if (sync) __syncthreads();
  out[blockIdx.x * blockDim.x + t] = slot[(t + 1) % blockDim.x];
}

__global__ void count(int* n) { ++*n; }

// Two blocks of rotate<0> or rotate<1>, read back.
std::vector<float> rotated(int tag, bool sync) {
  float* d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, 2 * kThreads * sizeof(float)), cudaSuccess);
  if (tag == 0)
    rotate<0><<<2, kThreads, kThreads * sizeof(float)>>>(d, sync);
  else
    rotate<1><<<2, kThreads, kThreads * sizeof(float)>>>(d, sync);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  std::vector<float> h(2 * kThreads);
  EXPECT_EQ(cudaMemcpy(h.data(), d, h.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(d);
  return h;
}

TEST(Cudasim, BarrierOrdersSharedMemory) {
  const std::vector<float> h = rotated(0, true);
  for (int i = 0; i < 2 * kThreads; ++i) EXPECT_EQ(h[i], float((i % kThreads + 1) % kThreads)) << i;
}

// Without the barrier, the in-order block reads slots not yet written (NaN) and the reversed
// one the last thread's; either way the result is wrong, and a later launch that does take the
// barrier stops the simulation (the kernel was marked barrier-free).
TEST(Cudasim, MissingBarrierShowsAndALaterBarrierStops) {
  const std::vector<float> h = rotated(1, false);
  int wrong = 0;
  for (int i = 0; i < 2 * kThreads; ++i) wrong += !(h[i] == float((i % kThreads + 1) % kThreads));
  EXPECT_GT(wrong, 0);
  EXPECT_DEATH(rotated(1, true), "reached __syncthreads\\(\\) in a launch run without fibers");
}

TEST(Cudasim, BadLaunchesAreErrors) {
  int* n = nullptr;
  ASSERT_EQ(cudaMalloc(&n, sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(n, 0, sizeof(int), nullptr), cudaSuccess);
  count<<<1, 2048>>>(n);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  count<<<dim3(1, 70000), 1>>>(n);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  count<<<1, 1, 64 << 10>>>(n);  // over 48 KiB without the opt-in
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  ASSERT_EQ(cudaFuncSetAttribute(reinterpret_cast<const void*>(count), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 64 << 10),
            cudaSuccess);
  count<<<3, 2, 64 << 10>>>(n);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  int h = 0;
  ASSERT_EQ(cudaMemcpy(&h, n, sizeof(int), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(h, 6);  // only the launch that was accepted ran
  cudaFree(n);
}

// convbench runs everything on one non-blocking stream; work left on the legacy default stream
// would race with it on a GPU, so the simulation stops there.
TEST(Cudasim, DefaultStreamWorkBesideANonBlockingStreamStops) {
  int* n = nullptr;
  ASSERT_EQ(cudaMalloc(&n, sizeof(int)), cudaSuccess);
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  count<<<1, 1, 0, s>>>(n);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_DEATH(count<<<1, 1>>>(n), "legacy default stream");
  cublasHandle_t blas = nullptr;
  ASSERT_EQ(cublasCreate(&blas), CUBLAS_STATUS_SUCCESS);
  const float one = 1, zero = 0;
  float* d = reinterpret_cast<float*>(n);
  EXPECT_DEATH(cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, d, 1, 0, d, 1, 0, &zero, d, 1, 0, 1),
               "cuBLAS GEMM enqueued on the legacy default stream");
  ASSERT_EQ(cublasSetStream(blas, s), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, d, 1, 0, d, 1, 0, &zero, d, 1, 0, 1),
            CUBLAS_STATUS_SUCCESS);
  cublasDestroy(blas);
  cudaStreamDestroy(s);
  count<<<1, 1>>>(n);  // no non-blocking stream left: the default stream orders everything
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  cudaFree(n);
}

// DESIGN's timing rules: no allocation, plan, handle or cudnnFind between the events a
// benchmark times.
TEST(Cudasim, SetupInsideATimedRegionStops) {
  cudaEvent_t start = nullptr, stop = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  float ms = 0, *d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 64), cudaSuccess);  // before the region: fine
  cudaEventRecord(start, nullptr);
  cudaEventRecord(stop, nullptr);
  cudaEventSynchronize(stop);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_DEATH(
      {
        cudaEventRecord(start, nullptr);
        cudaFree(d);
        cudaEventRecord(stop, nullptr);
        cudaEventElapsedTime(&ms, start, stop);
      },
      "cudaFree inside a timed region");
  cudaFree(d);  // between timed regions: fine
  cudaEventRecord(start, nullptr);
  cudaEventRecord(stop, nullptr);
  cudaEventSynchronize(stop);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  cudaEventDestroy(start), cudaEventDestroy(stop);
}

__global__ void store(int* p, int v) { *p = v; }

// A stream's work runs when the host waits for it: a synchronous copy (the legacy stream's) does
// not wait for a non-blocking stream, so it reads what was there before; the launch's arguments
// and a copy's pageable source are taken at the call.
TEST(Cudasim, NonBlockingStreamsWorkIsSeenOnlyAfterWaitingForIt) {
  int* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 2 * sizeof(int)), cudaSuccess);
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  int h[2] = {5, 0}, v = 7;
  ASSERT_EQ(cudaMemcpyAsync(d, h, sizeof(int), cudaMemcpyHostToDevice, s), cudaSuccess);
  store<<<1, 1, 0, s>>>(d + 1, v);
  h[0] = 6, v = 8;  // after the calls: neither the copy nor the kernel sees it
  int seen[2] = {0, 0};
  ASSERT_EQ(cudaMemcpy(seen, d, sizeof seen, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(seen[0], -1);  // fresh memory, all ones: neither has run
  EXPECT_EQ(seen[1], -1);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(seen, d, sizeof seen, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(seen[0], 5);
  EXPECT_EQ(seen[1], 7);
  // A device-to-host copy on the stream waits for the stream's work before it.
  store<<<1, 1, 0, s>>>(d, 9);
  ASSERT_EQ(cudaMemcpyAsync(seen, d, sizeof(int), cudaMemcpyDeviceToHost, s), cudaSuccess);
  EXPECT_EQ(seen[0], 9);
  cudaStreamDestroy(s);
  cudaFree(d);
}

// The timer's rule: an event is read after the host has waited for it.
TEST(Cudasim, ElapsedTimeOfAnEventNotReachedStops) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, stop = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  float ms = -1;
  cudaEventRecord(start, s);
  cudaEventRecord(stop, s);
  EXPECT_DEATH(cudaEventElapsedTime(&ms, start, stop), "has not reached .*cudaEventSynchronize");
  ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  cudaEventDestroy(start), cudaEventDestroy(stop);
  cudaStreamDestroy(s);
}

TEST(Cudasim, FreshDeviceMemoryIsNaN) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 100 * sizeof(float)), cudaSuccess);
  std::vector<float> h(100, 0.0f);
  ASSERT_EQ(cudaMemcpy(h.data(), d, h.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  for (float v : h) EXPECT_TRUE(std::isnan(v));
  cudaFree(d);
}

TEST(Cudasim, CopiesAndGemmsOutsideAnAllocationStop) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 16 * sizeof(float)), cudaSuccess);
  std::vector<float> h(16, 1.0f);
  EXPECT_DEATH(cudaMemcpy(d + 1, h.data(), 16 * sizeof(float), cudaMemcpyHostToDevice), "not inside one device allocation");
  cublasHandle_t blas = nullptr;
  ASSERT_EQ(cublasCreate(&blas), CUBLAS_STATUS_SUCCESS);
  const float one = 1, zero = 0;
  // 4x4 = 4x2 * 2x4 in one 16-float buffer is fine; C one row of floats too far is not.
  EXPECT_EQ(cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 2, &one, d, 4, 0, d, 2, 0, &zero, d, 4, 0, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_DEATH(cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 2, &one, d, 4, 0, d, 2, 0, &zero, d, 5, 0, 1),
               "not inside one device allocation");
  cublasDestroy(blas);
  cudaFree(d);
}

TEST(Cudasim, CufftNeedsItsWorkAreaAndLeavesNaNInItAndInAC2rInput) {
  cufftHandle plan = 0;
  ASSERT_EQ(cufftCreate(&plan), CUFFT_SUCCESS);
  ASSERT_EQ(cufftSetAutoAllocation(plan, 0), CUFFT_SUCCESS);
  long long n[1] = {8};
  size_t work_bytes = 0;
  ASSERT_EQ(cufftMakePlanMany64(plan, 1, n, nullptr, 1, 5, nullptr, 1, 8, CUFFT_C2R, 1, &work_bytes), CUFFT_SUCCESS);
  cufftComplex* in = nullptr;
  float *out = nullptr, *work = nullptr;
  ASSERT_EQ(cudaMalloc(&in, 5 * sizeof(cufftComplex)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&out, 8 * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&work, work_bytes), cudaSuccess);
  EXPECT_DEATH(cufftExecC2R(plan, in, out), "without a work area");
  ASSERT_EQ(cufftSetWorkArea(plan, work), CUFFT_SUCCESS);
  std::vector<cufftComplex> spectrum(5, cufftComplex{0, 0});
  spectrum[0] = {1, 0};  // DC only: every output is 1 (cuFFT does not normalise)
  cudaMemcpy(in, spectrum.data(), 5 * sizeof(cufftComplex), cudaMemcpyHostToDevice);
  cudaMemsetAsync(work, 0, work_bytes, nullptr);
  ASSERT_EQ(cufftExecC2R(plan, in, out), CUFFT_SUCCESS);
  std::vector<float> h(8), w(work_bytes / sizeof(float));
  cudaMemcpy(h.data(), out, 8 * sizeof(float), cudaMemcpyDeviceToHost);
  for (float v : h) EXPECT_FLOAT_EQ(v, 1.0f);
  cudaMemcpy(spectrum.data(), in, 5 * sizeof(cufftComplex), cudaMemcpyDeviceToHost);
  for (const cufftComplex& c : spectrum) EXPECT_TRUE(std::isnan(c.x) && std::isnan(c.y));
  cudaMemcpy(w.data(), work, work_bytes, cudaMemcpyDeviceToHost);
  EXPECT_TRUE(std::isnan(w.front()) && std::isnan(w.back()));
  cufftDestroy(plan);
  for (void* p : {static_cast<void*>(in), static_cast<void*>(out), static_cast<void*>(work)}) cudaFree(p);
}

// A 2D convolution N=1, C=K=2, 6x6, k 3x3, described as baselines/cudnn.cpp describes it.
struct Conv {
  cudnnHandle_t h = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t c = nullptr;
  Conv(int stride) {
    const int xd[] = {1, 2, 6, 6}, xs[] = {72, 36, 6, 1}, wd[] = {2, 2, 3, 3}, pad[] = {1, 1}, st[] = {stride, stride},
              dil[] = {1, 1};
    const int o = (6 + 2 - 3) / stride + 1, yd[] = {1, 2, o, o}, ys[] = {2 * o * o, o * o, o, 1};
    EXPECT_EQ(cudnnCreate(&h), CUDNN_STATUS_SUCCESS);
    cudnnCreateTensorDescriptor(&x), cudnnCreateTensorDescriptor(&y), cudnnCreateFilterDescriptor(&w);
    cudnnCreateConvolutionDescriptor(&c);
    EXPECT_EQ(cudnnSetTensorNdDescriptor(x, CUDNN_DATA_FLOAT, 4, xd, xs), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetTensorNdDescriptor(y, CUDNN_DATA_FLOAT, 4, yd, ys), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetFilterNdDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 4, wd), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetConvolutionNdDescriptor(c, 2, pad, st, dil, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              CUDNN_STATUS_SUCCESS);
  }
  ~Conv() {
    cudnnDestroyConvolutionDescriptor(c), cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y), cudnnDestroyTensorDescriptor(x), cudnnDestroy(h);
  }
};

TEST(CudasimCudnn, DeclinesAndWorkspaceChecks) {
  size_t bytes = 0;
  Conv strided(2);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(strided.h, strided.x, strided.w, strided.c, strided.y,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_FFT, &bytes),
            CUDNN_STATUS_NOT_SUPPORTED);
  Conv conv(1);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(conv.h, conv.x, conv.w, conv.c, conv.y,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, &bytes),
            CUDNN_STATUS_NOT_SUPPORTED);
  ASSERT_EQ(cudnnGetConvolutionForwardWorkspaceSize(conv.h, conv.x, conv.w, conv.c, conv.y,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &bytes),
            CUDNN_STATUS_SUCCESS);
  ASSERT_GT(bytes, 0u);
  float *x, *w, *y, *ws;
  ASSERT_EQ(cudaMalloc(&x, 72 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&w, 36 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&y, 72 * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&ws, bytes), cudaSuccess);
  std::vector<float> ones(72, 1.0f);
  cudaMemcpy(x, ones.data(), 72 * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(w, ones.data(), 36 * 4, cudaMemcpyHostToDevice);
  cudaMemsetAsync(ws, 0, bytes, nullptr);
  const float one = 1, zero = 0;
  EXPECT_EQ(cudnnConvolutionForward(conv.h, &one, conv.x, x, conv.w, w, conv.c, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws,
                                    bytes - 1, &zero, conv.y, y),
            CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT);
  ASSERT_EQ(cudnnConvolutionForward(conv.h, &one, conv.x, x, conv.w, w, conv.c, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws,
                                    bytes, &zero, conv.y, y),
            CUDNN_STATUS_SUCCESS);
  std::vector<float> out(72), scratch(bytes / 4);
  cudaMemcpy(out.data(), y, 72 * 4, cudaMemcpyDeviceToHost);
  EXPECT_EQ(out[0], 8.0f);    // corner: 2 channels x 2x2 taps inside
  EXPECT_EQ(out[7], 18.0f);   // interior: 2 x 3x3
  cudaMemcpy(scratch.data(), ws, bytes, cudaMemcpyDeviceToHost);
  EXPECT_TRUE(std::isnan(scratch[0]));  // the workspace holds nothing a caller may rely on
  for (float* p : {x, w, y, ws}) cudaFree(p);
}

}  // namespace
