// cuDNN baselines through the legacy convolution API that cuDNN 9 still ships
// (cudnnConvolutionForward / BackwardData / BackwardFilter): one convbench algorithm per cuDNN
// algorithm, and cudnn.best, which lets cudnnFind*AlgorithmEx time every algorithm of each pass
// in prepare() and keeps the fastest.
//
// Math: strict fp32 by default. CUDNN_DEFAULT_MATH would let Ampere and later GPUs use TF32
// tensor cores, so fp32 asks for CUDNN_FMA_MATH; "tf32" asks for CUDNN_TENSOR_OP_MATH (on fp32
// data that means TF32). CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION is never used: it permits
// down-conversion to fp16.
//
// Layout: NCHW / NCDHW fully packed, as convbench's tensors. cuDNN's legacy API has no 1D
// convolution, so 1D runs as 2D with H = 1 (Shape already holds 1 and pad 0 there).
#include <cudnn.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "convbench/cuda_check.hpp"
#include "convbench/cuda_info.hpp"
#include "convbench/cudnn_algorithms.hpp"

namespace convbench {
namespace {

std::string last_error() {
  char buf[512] = {};
  cudnnGetLastErrorString(buf, sizeof buf);
  return buf;
}

// CUDNN_STATUS_NOT_SUPPORTED*, except 3005..3009: a driver, runtime, architecture, NVRTC or
// sub-library the installation lacks is a broken environment, not a shape cuDNN declines.
bool broken_environment(cudnnStatus_t st) {
  return st >= CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER && st <= CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE;
}
bool not_supported(cudnnStatus_t st) { return st >= 3000 && st < 4000 && !broken_environment(st); }
bool out_of_memory(cudnnStatus_t st) {
  return st == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
         st == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
}

void check_cudnn(cudnnStatus_t st, const char* call, const char* file, int line) {
  if (st == CUDNN_STATUS_SUCCESS) return;
  std::string status = cudnnGetErrorString(st);
  if (const std::string more = last_error(); !more.empty()) status += " (" + more + ")";
  if (not_supported(st))
    throw Unsupported(std::string(call) + " failed: " + status + " at " + file + ":" + std::to_string(line));
  cuda::fail(call, status, file, line, out_of_memory(st));
}
#define CB_CUDNN(call) check_cudnn((call), #call, __FILE__, __LINE__)

// The three cuDNN passes, indexed like Pass::fprop, dgrad, wgrad.
constexpr int kFwd = 0, kBwdData = 1, kBwdFilter = 2;
constexpr Pass kPassOf[3] = {Pass::fprop, Pass::dgrad, Pass::wgrad};

const char* algo_name(int pass, int algo) {
  static const char* fwd[] = {"FWD_ALGO_IMPLICIT_GEMM", "FWD_ALGO_IMPLICIT_PRECOMP_GEMM", "FWD_ALGO_GEMM",
                              "FWD_ALGO_DIRECT",        "FWD_ALGO_FFT",                   "FWD_ALGO_FFT_TILING",
                              "FWD_ALGO_WINOGRAD",      "FWD_ALGO_WINOGRAD_NONFUSED"};
  static const char* data[] = {"BWD_DATA_ALGO_0",   "BWD_DATA_ALGO_1",        "BWD_DATA_ALGO_FFT",
                               "BWD_DATA_ALGO_FFT_TILING", "BWD_DATA_ALGO_WINOGRAD", "BWD_DATA_ALGO_WINOGRAD_NONFUSED"};
  static const char* filter[] = {"BWD_FILTER_ALGO_0",        "BWD_FILTER_ALGO_1",
                                 "BWD_FILTER_ALGO_FFT",      "BWD_FILTER_ALGO_3",
                                 "BWD_FILTER_ALGO_WINOGRAD", "BWD_FILTER_ALGO_WINOGRAD_NONFUSED",
                                 "BWD_FILTER_ALGO_FFT_TILING"};
  const int counts[3] = {CUDNN_CONVOLUTION_FWD_ALGO_COUNT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                         CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT};
  if (algo < 0 || algo >= counts[pass]) return "unknown";
  return pass == kFwd ? fwd[algo] : pass == kBwdData ? data[algo] : filter[algo];
}

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "DEFAULT_MATH";
    case CUDNN_TENSOR_OP_MATH: return "TENSOR_OP_MATH";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "TENSOR_OP_MATH_ALLOW_CONVERSION";
    case CUDNN_FMA_MATH: return "FMA_MATH";
  }
  return "unknown math";
}

// Per the cuDNN documentation, the only non-deterministic legacy algorithms.
bool deterministic(int pass, int algo) {
  if (pass == kBwdData) return algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  if (pass == kBwdFilter) return algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 && algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  return true;
}

// What one convbench name runs: a cuDNN algorithm per pass (-1: none of that name), or Find.
struct Spec {
  const char* name;
  int algo[3];
  bool best;
};

constexpr int kNone = -1;

// Descriptors of one shape; the convolution descriptor exists per pass so each pass can carry
// the math type its chosen algorithm needs.
class Descriptors {
 public:
  explicit Descriptors(const Shape& s) : shape(s) {
    try {
      create(s);
    } catch (...) {
      destroy();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~Descriptors() { destroy(); }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

 private:
  void create(const Shape& s) {
    CB_CUDNN(cudnnCreateTensorDescriptor(&x));
    CB_CUDNN(cudnnCreateTensorDescriptor(&y));
    CB_CUDNN(cudnnCreateFilterDescriptor(&w));
    for (auto& c : conv) CB_CUDNN(cudnnCreateConvolutionDescriptor(&c));
    const int nb = s.dims == 3 ? 5 : 4, first = kMaxDims - (nb - 2);  // 1D as 2D with H = 1
    std::vector<int> xd{int(s.N), int(s.C)}, yd{int(s.N), int(s.K)}, wd{int(s.K), int(s.Cg())}, pad, stride, dil;
    for (int i = first; i < kMaxDims; ++i) {
      xd.push_back(int(s.in[i])), yd.push_back(int(s.out[i])), wd.push_back(int(s.kernel[i]));
      pad.push_back(int(s.pad[i])), stride.push_back(int(s.stride[i])), dil.push_back(int(s.dilation[i]));
    }
    CB_CUDNN(cudnnSetTensorNdDescriptor(x, CUDNN_DATA_FLOAT, nb, xd.data(), packed(xd).data()));
    CB_CUDNN(cudnnSetTensorNdDescriptor(y, CUDNN_DATA_FLOAT, nb, yd.data(), packed(yd).data()));
    CB_CUDNN(cudnnSetFilterNdDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, nb, wd.data()));
    for (auto& c : conv) {
      CB_CUDNN(cudnnSetConvolutionNdDescriptor(c, nb - 2, pad.data(), stride.data(), dil.data(),
                                               CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
      CB_CUDNN(cudnnSetConvolutionGroupCount(c, int(s.groups)));
    }
    std::vector<int> out(nb);
    CB_CUDNN(cudnnGetConvolutionNdForwardOutputDim(conv[0], x, w, nb, out.data()));
    if (out != yd) throw std::logic_error("cuDNN's output shape differs from convbench's for " + s.to_string());
  }
  void destroy() {
    for (auto& c : conv)
      if (c) cudnnDestroyConvolutionDescriptor(c), c = nullptr;
    if (w) cudnnDestroyFilterDescriptor(w), w = nullptr;
    if (y) cudnnDestroyTensorDescriptor(y), y = nullptr;
    if (x) cudnnDestroyTensorDescriptor(x), x = nullptr;
  }

 public:
  Shape shape;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;  // y also describes dy, x also dx
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv[3] = {};

 private:
  static std::vector<int> packed(const std::vector<int>& d) {
    std::vector<int> st(d.size(), 1);
    for (int i = int(d.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * d[i + 1];
    return st;
  }
};

class Cudnn final : public Algorithm {
 public:
  Cudnn(const Spec& spec, const AlgoOptions& opt) : spec_(spec), opt_(opt) {}
  ~Cudnn() override {
    descs_.reset();
    if (handle_) cudnnDestroy(handle_);
  }
  Cudnn(const Cudnn&) = delete;
  Cudnn& operator=(const Cudnn&) = delete;

  std::string name() const override { return spec_.name; }
  std::string description() const override {
    if (spec_.best) return "cuDNN, fastest algorithm per pass by cudnnFindConvolution*AlgorithmEx (chosen one in detail)";
    std::string d = "cuDNN legacy API:";
    for (int q = 0; q < 3; ++q)
      if (spec_.algo[q] != kNone) d += fmt::format(" {} CUDNN_CONVOLUTION_{}", to_string(kPassOf[q]), algo_name(q, spec_.algo[q]));
    return d;
  }
  Device device() const override { return Device::cuda; }
  bool fft_method() const override {
    return spec_.algo[0] == CUDNN_CONVOLUTION_FWD_ALGO_FFT || spec_.algo[0] == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING;
  }
  void set_stream(void* s) override {
    stream_ = cuda::as_stream(s);
    if (handle_) CB_CUDNN(cudnnSetStream(handle_, stream_));
  }

  std::string supports(const Shape& s, Pass p) const override {
    for (int q = 0; q < 3; ++q)
      if (pass_covered(p, kPassOf[q]) && !spec_.best && spec_.algo[q] == kNone)
        return fmt::format("{} has no {} algorithm of that name in cuDNN", spec_.name, to_string(kPassOf[q]));
    if (s.x_elems() > INT_MAX || s.y_elems() > INT_MAX || s.w_elems() > INT_MAX)
      return "a tensor has more than INT_MAX elements, beyond cuDNN's legacy descriptors";
    if (cuda_device_count() == 0) return cuda_summary();
    try {
      descriptors(s);
    } catch (const Unsupported& e) {
      return e.what();
    } catch (const std::logic_error&) {
      throw;  // our shape and cuDNN's disagree: a bug, never a decline
    } catch (const std::exception& e) {
      if (!handle_) throw;  // cudnnCreate failed: no usable cuDNN here, not a shape it declines
      return e.what();
    }
    if (spec_.best) return {};
    for (int q = 0; q < 3; ++q) {
      if (!pass_covered(p, kPassOf[q])) continue;
      std::size_t bytes = 0;
      const cudnnStatus_t st = workspace_query(q, spec_.algo[q], &bytes);
      if (st == CUDNN_STATUS_SUCCESS) continue;
      if (broken_environment(st)) CB_CUDNN(st);  // throws: the installation, not the shape
      return fmt::format("cuDNN {} for CUDNN_CONVOLUTION_{}", cudnnGetErrorString(st), algo_name(q, spec_.algo[q]));
    }
    return {};
  }

  // cudnn.best learns its workspace in prepare(); before that it reports 0.
  std::size_t workspace_bytes(const Shape& s, Pass p) const override {
    if (prepared_ && *prepared_ == p && shape_ == s) return workspace_.bytes();
    if (spec_.best) return 0;
    descriptors(s);
    std::size_t most = 0;
    for (int q = 0; q < 3; ++q) {
      std::size_t bytes = 0;
      if (pass_covered(p, kPassOf[q]) && workspace_query(q, spec_.algo[q], &bytes) == CUDNN_STATUS_SUCCESS)
        most = std::max(most, bytes);
    }
    return most;
  }

  void prepare(const Shape& s, Pass p) override {
    prepared_.reset();
    workspace_.reset();
    descriptors(s);
    CB_CUDNN(cudnnSetStream(handle_, stream_));
    std::size_t most = 0;
    for (int q = 0; q < 3; ++q) {
      chosen_[q] = kNone;
      if (!pass_covered(p, kPassOf[q])) continue;
      if (spec_.best) {
        find(q);
      } else {
        chosen_[q] = spec_.algo[q];
        math_[q] = opt_.precision == "tf32" ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
        deterministic_[q] = deterministic(q, chosen_[q]);
        CB_CUDNN(cudnnSetConvolutionMathType(descs_->conv[q], math_[q]));
      }
      std::size_t bytes = 0;
      const cudnnStatus_t st = workspace_query(q, chosen_[q], &bytes);
      if (st != CUDNN_STATUS_SUCCESS)
        throw Unsupported(fmt::format("cuDNN {} for CUDNN_CONVOLUTION_{}", cudnnGetErrorString(st), algo_name(q, chosen_[q])));
      most = std::max(most, bytes);
    }
    workspace_ = cuda::DeviceBuffer(most);  // the passes run one after another and share it
    shape_ = s;
    prepared_ = p;
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(*prepared_, p))
      throw std::logic_error(fmt::format("{}: run({}) without prepare for it", spec_.name, to_string(p)));
    if (!descs_ || !(descs_->shape == shape_))  // supports()/workspace_bytes() of another shape replaced them
      throw std::logic_error(fmt::format("{}: run() after a query for another shape; prepare {} again", spec_.name,
                                         shape_.to_string()));
    const float one = 1.0f, zero = 0.0f;
    const Descriptors& d = *descs_;
    void* ws = workspace_.get();
    const std::size_t wsb = workspace_.bytes();
    if (pass_covered(p, Pass::fprop))
      CB_CUDNN(cudnnConvolutionForward(handle_, &one, d.x, t.x, d.w, t.w, d.conv[kFwd],
                                       cudnnConvolutionFwdAlgo_t(chosen_[kFwd]), ws, wsb, &zero, d.y, t.y));
    if (pass_covered(p, Pass::dgrad))
      CB_CUDNN(cudnnConvolutionBackwardData(handle_, &one, d.w, t.w, d.y, t.dy, d.conv[kBwdData],
                                            cudnnConvolutionBwdDataAlgo_t(chosen_[kBwdData]), ws, wsb, &zero, d.x,
                                            t.dx));
    if (pass_covered(p, Pass::wgrad))
      CB_CUDNN(cudnnConvolutionBackwardFilter(handle_, &one, d.x, t.x, d.y, t.dy, d.conv[kBwdFilter],
                                              cudnnConvolutionBwdFilterAlgo_t(chosen_[kBwdFilter]), ws, wsb, &zero,
                                              d.w, t.dw));
  }

  // "fprop FWD_ALGO_FFT_TILING FMA_MATH deterministic; ..." for the prepared passes.
  std::string detail() const override {
    if (!prepared_) return {};
    std::string d;
    for (int q = 0; q < 3; ++q) {
      if (chosen_[q] == kNone) continue;
      if (!d.empty()) d += "; ";
      d += fmt::format("{} {} {} {}", to_string(kPassOf[q]), algo_name(q, chosen_[q]), math_name(math_[q]),
                       deterministic_[q] ? "deterministic" : "non-deterministic");
    }
    return d;
  }

 private:
  // Handle and descriptors of s, made on first use (never inside a timed region).
  const Descriptors& descriptors(const Shape& s) const {
    if (!handle_) CB_CUDNN(cudnnCreate(&handle_));
    if (!descs_ || !(descs_->shape == s)) {
      descs_.reset();
      descs_ = std::make_unique<Descriptors>(s);
      const cudnnMathType_t math = opt_.precision == "tf32" ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
      for (auto& c : descs_->conv) CB_CUDNN(cudnnSetConvolutionMathType(c, math));
    }
    return *descs_;
  }

  cudnnStatus_t workspace_query(int q, int algo, std::size_t* bytes) const {
    const Descriptors& d = *descs_;
    switch (q) {
      case kFwd:
        return cudnnGetConvolutionForwardWorkspaceSize(handle_, d.x, d.w, d.conv[q], d.y,
                                                       cudnnConvolutionFwdAlgo_t(algo), bytes);
      case kBwdData:
        return cudnnGetConvolutionBackwardDataWorkspaceSize(handle_, d.w, d.y, d.conv[q], d.x,
                                                            cudnnConvolutionBwdDataAlgo_t(algo), bytes);
      default:
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle_, d.x, d.y, d.conv[q], d.w,
                                                              cudnnConvolutionBwdFilterAlgo_t(algo), bytes);
    }
  }

  // fp32 accepts only results that ran without tensor cores; tf32 anything but fp16 conversion.
  // (The descriptor's math type already restricts what cudnnFind tries; this guards the rest.)
  bool acceptable(cudnnMathType_t m) const {
    if (opt_.precision == "tf32") return m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    return m == CUDNN_FMA_MATH || m == CUDNN_DEFAULT_MATH;
  }

  // cudnnFind*AlgorithmEx for pass q on scratch tensors of the shape, with as much workspace as
  // the hungriest algorithm asks for (up to 80% of free memory); keeps the fastest acceptable.
  void find(int q) {
    const Shape& s = descs_->shape;
    const Descriptors& d = *descs_;
    const int counts[3] = {CUDNN_CONVOLUTION_FWD_ALGO_COUNT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                           CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT};
    // Scratch tensors: x, w, y; a backward pass writes into the one it does not read.
    cuda::DeviceBuffer x(s.x_elems() * sizeof(float)), w(s.w_elems() * sizeof(float)), y(s.y_elems() * sizeof(float));
    for (auto* b : {&x, &w, &y}) CB_CUDA(cudaMemsetAsync(b->get(), 0x3c, b->bytes(), stream_));  // finite, non-zero
    std::size_t want = 0;
    for (int a = 0; a < counts[q]; ++a) {
      std::size_t bytes = 0;
      if (workspace_query(q, a, &bytes) == CUDNN_STATUS_SUCCESS) want = std::max(want, bytes);
    }
    std::size_t free_b = 0, total_b = 0;
    CB_CUDA(cudaMemGetInfo(&free_b, &total_b));
    cuda::DeviceBuffer ws(std::min(want, free_b / 10 * 8));
    // Find times what the descriptor allows: CUDNN_DEFAULT_MATH would let fp32 run on TF32
    // tensor cores (Ampere and later) and pick an algorithm by a time strict fp32 cannot have.
    CB_CUDNN(cudnnSetConvolutionMathType(d.conv[q], opt_.precision == "tf32" ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    int returned = 0;
    struct Result {
      int algo;
      cudnnStatus_t status;
      cudnnMathType_t math;
      cudnnDeterminism_t det;
    };
    std::vector<Result> results;
    if (q == kFwd) {
      std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT * 2> perf{};
      CB_CUDNN(cudnnFindConvolutionForwardAlgorithmEx(handle_, d.x, x.get(), d.w, w.get(), d.conv[q], d.y, y.get(),
                                                      int(perf.size()), &returned, perf.data(), ws.get(), ws.bytes()));
      for (int i = 0; i < returned; ++i)
        results.push_back({perf[i].algo, perf[i].status, perf[i].mathType, perf[i].determinism});
    } else if (q == kBwdData) {
      std::array<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT * 2> perf{};
      CB_CUDNN(cudnnFindConvolutionBackwardDataAlgorithmEx(handle_, d.w, w.get(), d.y, y.get(), d.conv[q], d.x, x.get(),
                                                           int(perf.size()), &returned, perf.data(), ws.get(),
                                                           ws.bytes()));
      for (int i = 0; i < returned; ++i)
        results.push_back({perf[i].algo, perf[i].status, perf[i].mathType, perf[i].determinism});
    } else {
      std::array<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT * 2> perf{};
      CB_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithmEx(handle_, d.x, x.get(), d.y, y.get(), d.conv[q], d.w,
                                                             w.get(), int(perf.size()), &returned, perf.data(),
                                                             ws.get(), ws.bytes()));
      for (int i = 0; i < returned; ++i)
        results.push_back({perf[i].algo, perf[i].status, perf[i].mathType, perf[i].determinism});
    }
    CB_CUDA(cudaStreamSynchronize(stream_));
    for (const Result& r : results)  // cuDNN sorts them fastest first
      if (r.status == CUDNN_STATUS_SUCCESS && acceptable(r.math)) {
        chosen_[q] = r.algo;
        math_[q] = opt_.precision == "tf32" ? r.math : CUDNN_FMA_MATH;
        deterministic_[q] = r.det == CUDNN_DETERMINISTIC;
        CB_CUDNN(cudnnSetConvolutionMathType(descs_->conv[q], math_[q]));
        return;
      }
    throw Unsupported(fmt::format("cudnnFind: no {} algorithm ran for {} ({} tried)", to_string(kPassOf[q]),
                                  s.to_string(), returned));
  }

  Spec spec_;
  AlgoOptions opt_;
  cudaStream_t stream_ = nullptr;
  mutable cudnnHandle_t handle_ = nullptr;
  mutable std::unique_ptr<Descriptors> descs_;
  std::optional<Pass> prepared_;
  Shape shape_;
  int chosen_[3] = {kNone, kNone, kNone};
  cudnnMathType_t math_[3] = {CUDNN_FMA_MATH, CUDNN_FMA_MATH, CUDNN_FMA_MATH};
  bool deterministic_[3] = {true, true, true};
  cuda::DeviceBuffer workspace_;
};

constexpr Spec kSpecs[] = {
    {"cudnn.implicit_gemm", {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, kNone, kNone}, false},
    {"cudnn.implicit_precomp_gemm", {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, kNone, kNone}, false},
    {"cudnn.gemm", {CUDNN_CONVOLUTION_FWD_ALGO_GEMM, kNone, kNone}, false},
    {"cudnn.direct", {CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, kNone, kNone}, false},
    {"cudnn.fft",
     {CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT},
     false},
    {"cudnn.fft_tiling",
     {CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING,
      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING},
     false},
    {"cudnn.winograd",
     {CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD,
      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD},
     false},
    {"cudnn.winograd_nonfused",
     {CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED,
      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED},
     false},
    {"cudnn.bwd_data_algo_0", {kNone, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, kNone}, false},
    {"cudnn.bwd_data_algo_1", {kNone, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, kNone}, false},
    {"cudnn.bwd_filter_algo_0", {kNone, kNone, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0}, false},
    {"cudnn.bwd_filter_algo_1", {kNone, kNone, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1}, false},
    {"cudnn.bwd_filter_algo_3", {kNone, kNone, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3}, false},
    {"cudnn.best", {kNone, kNone, kNone}, true},
};

std::unique_ptr<Algorithm> make(int i, const AlgoOptions& opt) { return std::make_unique<Cudnn>(kSpecs[i], opt); }

}  // namespace

std::unique_ptr<Algorithm> make_cudnn_implicit_gemm(const AlgoOptions& o) { return make(0, o); }
std::unique_ptr<Algorithm> make_cudnn_implicit_precomp_gemm(const AlgoOptions& o) { return make(1, o); }
std::unique_ptr<Algorithm> make_cudnn_gemm(const AlgoOptions& o) { return make(2, o); }
std::unique_ptr<Algorithm> make_cudnn_direct(const AlgoOptions& o) { return make(3, o); }
std::unique_ptr<Algorithm> make_cudnn_fft(const AlgoOptions& o) { return make(4, o); }
std::unique_ptr<Algorithm> make_cudnn_fft_tiling(const AlgoOptions& o) { return make(5, o); }
std::unique_ptr<Algorithm> make_cudnn_winograd(const AlgoOptions& o) { return make(6, o); }
std::unique_ptr<Algorithm> make_cudnn_winograd_nonfused(const AlgoOptions& o) { return make(7, o); }
std::unique_ptr<Algorithm> make_cudnn_bwd_data_algo_0(const AlgoOptions& o) { return make(8, o); }
std::unique_ptr<Algorithm> make_cudnn_bwd_data_algo_1(const AlgoOptions& o) { return make(9, o); }
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_0(const AlgoOptions& o) { return make(10, o); }
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_1(const AlgoOptions& o) { return make(11, o); }
std::unique_ptr<Algorithm> make_cudnn_bwd_filter_algo_3(const AlgoOptions& o) { return make(12, o); }
std::unique_ptr<Algorithm> make_cudnn_best(const AlgoOptions& o) { return make(13, o); }

}  // namespace convbench
