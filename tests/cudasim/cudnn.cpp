// cuDNN's legacy convolution API, as baselines/cudnn.cpp calls it, on the host simulation: the
// descriptors are checked as cuDNN checks them (ranks, data type, layout, groups, the output
// shape), each algorithm declines the configurations cuDNN's documented support tables exclude
// (an approximation: which algorithm runs where on a real GPU is for a GPU to say), and a run
// computes the convolution directly, accumulating in double, operands rounded to TF32 under
// CUDNN_TENSOR_OP_MATH. Workspace sizes are invented but fixed per shape and algorithm, and a
// run checks it was given that much (inside one device allocation, like every tensor) and
// scribbles NaN over it. cudnnFind*AlgorithmEx "times" each algorithm with a number drawn from the
// shape, so different shapes pick different algorithms, and leaves NaN in the output it was given.
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cudasim.hpp"

struct cudnnContext {
  cudaStream_t stream = nullptr;
};
struct cudnnTensorStruct {
  int nb = 0;  // 0: not set
  int dims[CUDNN_DIM_MAX] = {}, strides[CUDNN_DIM_MAX] = {};
};
struct cudnnFilterStruct {
  int nb = 0;
  int dims[CUDNN_DIM_MAX] = {};
};
struct cudnnConvolutionStruct {
  int n = 0;  // spatial dims; 0: not set
  int pad[3] = {}, stride[3] = {}, dil[3] = {};
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace {

thread_local std::string last_message;

cudnnStatus_t fail(cudnnStatus_t st, const std::string& why) {
  last_message = "cudasim cuDNN: " + why;
  return st;
}

// One convolution's geometry, spatial dims padded in front to three (extent 1, pad 0).
struct Geometry {
  int sp = 0;  // spatial dims cuDNN sees (2 or 3)
  int64_t N = 0, C = 0, K = 0, Cg = 0, Kg = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, ker[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t pad[3] = {}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  int64_t xs[5] = {}, ys[5] = {};  // element strides of x and y (n, c, d, h, w)
  int64_t in_vol() const { return in[0] * in[1] * in[2]; }
  int64_t out_vol() const { return out[0] * out[1] * out[2]; }
  int64_t ker_vol() const { return ker[0] * ker[1] * ker[2]; }
  int64_t x_bytes() const { return span(xs, N, C, in); }
  int64_t y_bytes() const { return span(ys, N, K, out); }
  int64_t w_bytes() const { return 4 * K * Cg * ker_vol(); }
  // Bytes from the first element to one past the last of an n x c x e tensor with strides s.
  static int64_t span(const int64_t* s, int64_t n, int64_t c, const int64_t* e) {
    return 4 * (1 + (n - 1) * s[0] + (c - 1) * s[1] + (e[0] - 1) * s[2] + (e[1] - 1) * s[3] + (e[2] - 1) * s[4]);
  }
};

// Strides of a tensor descriptor, padded like Geometry.
void tensor_strides(const cudnnTensorStruct& t, int64_t* s) {
  const int sp = t.nb - 2;
  s[0] = t.strides[0], s[1] = t.strides[1];
  for (int i = 0; i < 3; ++i) s[2 + i] = i < 3 - sp ? 0 : t.strides[2 + i - (3 - sp)];
}

cudnnStatus_t geometry(const cudnnTensorStruct* x, const cudnnFilterStruct* w, const cudnnConvolutionStruct* c,
                       const cudnnTensorStruct* y, Geometry& g) {
  if (!x || !w || !c || !y) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "a descriptor is null");
  if (!x->nb || !w->nb || !c->n || !y->nb) return fail(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED, "a descriptor is not set");
  if (x->nb != w->nb || y->nb != x->nb || c->n != x->nb - 2)
    return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "descriptor ranks differ");
  g.sp = c->n;
  const int off = 3 - g.sp;
  g.N = x->dims[0], g.C = x->dims[1], g.K = w->dims[0], g.Cg = w->dims[1], g.groups = c->groups;
  for (int i = 0; i < g.sp; ++i) {
    g.in[off + i] = x->dims[2 + i], g.ker[off + i] = w->dims[2 + i];
    g.pad[off + i] = c->pad[i], g.stride[off + i] = c->stride[i], g.dil[off + i] = c->dil[i];
    const int64_t span = (g.ker[off + i] - 1) * g.dil[off + i] + 1;
    g.out[off + i] = (g.in[off + i] + 2 * g.pad[off + i] - span) / g.stride[off + i] + 1;
    if (g.in[off + i] + 2 * g.pad[off + i] < span) return fail(CUDNN_STATUS_BAD_PARAM, "filter larger than the padded input");
  }
  if (g.groups < 1 || g.C != g.Cg * g.groups || g.K % g.groups != 0)
    return fail(CUDNN_STATUS_BAD_PARAM, "channels do not split into the groups");
  g.Kg = g.K / g.groups;
  if (y->dims[0] != g.N || y->dims[1] != g.K) return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "y's N or C wrong");
  for (int i = 0; i < g.sp; ++i)
    if (y->dims[2 + i] != g.out[off + i]) return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "y's spatial extent wrong");
  tensor_strides(*x, g.xs);
  tensor_strides(*y, g.ys);
  return CUDNN_STATUS_SUCCESS;
}

enum PassKind { kFwd, kData, kFilter };

bool all_of3(const int64_t* v, int64_t want, int from) {
  for (int i = from; i < 3; ++i)
    if (v[i] != want) return false;
  return true;
}

// CUDNN_STATUS_SUCCESS where the algorithm takes the shape; else why not (cuDNN's tables, roughly).
cudnnStatus_t support(PassKind p, int algo, const Geometry& g) {
  const int first = 3 - g.sp;
  const bool s1 = all_of3(g.stride, 1, first), d1 = all_of3(g.dil, 1, first), two = g.sp == 2;
  const int64_t kh = g.ker[1], kw = g.ker[2];
  const bool k3 = two && kh == 3 && kw == 3, k5 = two && kh == 5 && kw == 5;
  bool pad_lt_ker = true, fits256 = true, ker32 = true, ker16 = true;
  for (int i = first; i < 3; ++i) {
    pad_lt_ker = pad_lt_ker && g.pad[i] < g.ker[i];
    fits256 = fits256 && g.in[i] + 2 * g.pad[i] <= 256;
    ker32 = ker32 && g.ker[i] <= 32, ker16 = ker16 && g.ker[i] <= 16;
  }
  auto no = [](const char* why) { return fail(CUDNN_STATUS_NOT_SUPPORTED, why); };
  auto fft = [&]() -> cudnnStatus_t {
    if (!two) return no("FFT: 2D only");
    if (!s1 || !d1) return no("FFT: stride and dilation 1 only");
    if (!fits256 || !pad_lt_ker) return no("FFT: padded input over 256 or padding not below the filter");
    return CUDNN_STATUS_SUCCESS;
  };
  auto fft_tiling = [&](bool three_d) -> cudnnStatus_t {
    if (!s1 || !d1) return no("FFT_TILING: stride and dilation 1 only");
    if (!two && (!three_d || !ker16)) return no("FFT_TILING: 3D filters of 16 or less only");
    if (two && !ker32) return no("FFT_TILING: filters of 32 or less only");
    if (!pad_lt_ker) return no("FFT_TILING: padding not below the filter");
    return CUDNN_STATUS_SUCCESS;
  };
  auto winograd = [&](bool five) -> cudnnStatus_t {
    if (!(k3 || (five && k5)) || !s1 || !d1) return no(five ? "WINOGRAD_NONFUSED: 2D 3x3 or 5x5 filters, stride and dilation 1" : "WINOGRAD: 2D 3x3 filters, stride and dilation 1");
    return CUDNN_STATUS_SUCCESS;
  };
  switch (p) {
    case kFwd:
      switch (algo) {
        case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return CUDNN_STATUS_SUCCESS;
        case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
          return two || d1 ? CUDNN_STATUS_SUCCESS : no("IMPLICIT_PRECOMP_GEMM: 3D with dilation 1 only");
        case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return two ? CUDNN_STATUS_SUCCESS : no("GEMM: 2D only");
        case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return no("DIRECT: not implemented");
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return fft();
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return fft_tiling(true);
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return winograd(false);
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return winograd(true);
      }
      break;
    case kData:
      switch (algo) {
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return CUDNN_STATUS_SUCCESS;
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return two || d1 ? CUDNN_STATUS_SUCCESS : no("ALGO_1: 3D with dilation 1 only");
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return fft();
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return fft_tiling(true);
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return winograd(false);
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return winograd(true);
      }
      break;
    case kFilter:
      switch (algo) {
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0:
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1:
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3: return CUDNN_STATUS_SUCCESS;
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT: return fft();
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD: return no("BWD_FILTER WINOGRAD: not implemented");
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED: return winograd(true);
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING: return fft_tiling(false);
      }
      break;
  }
  return fail(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND, "no such algorithm");
}

bool is_fft(PassKind p, int algo) {
  switch (p) {
    case kFwd: return algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT || algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING;
    case kData: return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING;
    case kFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING;
  }
  return false;
}

// Invented, but a fixed function of shape and algorithm: what each family would roughly hold.
std::size_t workspace(PassKind p, int algo, const Geometry& g) {
  const int64_t planes = g.N * g.C + g.K * g.Cg + g.N * g.K;
  const int64_t columns = 4 * g.Cg * g.ker_vol() * g.out_vol();  // one image's im2col matrix
  if (is_fft(p, algo)) {
    int64_t bins = 1;
    for (int i = 3 - g.sp; i < 3; ++i) {
      int64_t n = 1;
      while (n < g.in[i] + 2 * g.pad[i]) n *= 2;
      const bool tiled = p == kFwd ? algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING
                         : p == kData ? algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING
                                      : algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING;
      if (tiled) n = std::min<int64_t>(n, 32);
      bins *= i == 2 ? n / 2 + 1 : n;
    }
    return std::size_t(8 * planes * bins);
  }
  const int64_t tiles = (g.out[1] + 3) / 4 * ((g.out[2] + 3) / 4);
  switch (p) {
    case kFwd:
      if (algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) return std::size_t(4 * g.Cg * g.ker_vol());
      if (algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM) return std::size_t(columns);
      if (algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED) return std::size_t(4 * 36 * planes * tiles);
      return 0;
    case kData:
      if (algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1) return std::size_t(4 * g.Cg * g.ker_vol());
      if (algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED) return std::size_t(4 * 36 * planes * tiles);
      return 0;
    case kFilter:
      if (algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1) return std::size_t(columns);
      if (algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3) return std::size_t(4 * g.K * g.Cg * g.ker_vol());
      if (algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED) return std::size_t(4 * 36 * planes * tiles);
      return 0;
  }
  return 0;
}

cudnnStatus_t query(PassKind p, int algo, const Geometry& g, std::size_t* bytes) {
  if (!bytes) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "sizeInBytes is null");
  const cudnnStatus_t st = support(p, algo, g);
  if (st == CUDNN_STATUS_SUCCESS) *bytes = workspace(p, algo, g);
  return st;
}

void fill_nan(void* p, std::size_t bytes) {
  std::fill_n(static_cast<float*>(p), bytes / sizeof(float), std::numeric_limits<float>::quiet_NaN());
}

// Round to nearest, ties away, at TF32's 10 explicit mantissa bits (tensor cores' input rounding).
float tf32(float v) {
  if (!std::isfinite(v)) return v;
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&v, &u, 4);
  return v;
}

// Calls term(x offset, w offset, y offset) for every product of the convolution: image n,
// output channel k, its group's input channel, output position o and tap r whose input position
// o * stride - pad + r * dilation lies inside the input. fprop sums the terms per y, dgrad per
// x, wgrad per w.
template <class Term>
void for_each_term(const Geometry& g, Term&& term) {
  auto at = [&](int i, int64_t o, int64_t r) {
    const int64_t v = o * g.stride[i] - g.pad[i] + r * g.dil[i];
    return v >= 0 && v < g.in[i] ? v : -1;
  };
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t cl = 0; cl < g.Cg; ++cl) {
        const int64_t xc = n * g.xs[0] + (k / g.Kg * g.Cg + cl) * g.xs[1], wk = (k * g.Cg + cl) * g.ker_vol();
        const int64_t yk = n * g.ys[0] + k * g.ys[1];
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
          for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
            for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
              const int64_t yo = yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4];
              for (int64_t r0 = 0; r0 < g.ker[0]; ++r0) {
                const int64_t i0 = at(0, o0, r0);
                if (i0 < 0) continue;
                for (int64_t r1 = 0; r1 < g.ker[1]; ++r1) {
                  const int64_t i1 = at(1, o1, r1);
                  if (i1 < 0) continue;
                  for (int64_t r2 = 0; r2 < g.ker[2]; ++r2) {
                    const int64_t i2 = at(2, o2, r2);
                    if (i2 >= 0)
                      term(xc + i0 * g.xs[2] + i1 * g.xs[3] + i2 * g.xs[4],
                           wk + (r0 * g.ker[1] + r1) * g.ker[2] + r2, yo);
                  }
                }
              }
            }
      }
}

// One call of a pass as the API receives it: handle, the descriptors of x, w, y (dgrad: dx, w,
// dy; wgrad: x, dw, dy), the pass's two inputs among x, w, y (the third null) and its output.
struct Call {
  PassKind p;
  cudnnHandle_t h;
  const cudnnTensorStruct* xd;
  const cudnnFilterStruct* wd;
  const cudnnConvolutionStruct* c;
  const cudnnTensorStruct* yd;
  const void *x, *w, *y;
  void* out;
  std::size_t out_bytes(const Geometry& g) const {
    return std::size_t(p == kFwd ? g.y_bytes() : p == kData ? g.x_bytes() : g.w_bytes());
  }
};

// What every convolution and Find call checks first: the handle and its stream, the geometry,
// and the two inputs and the output of the pass inside device allocations.
cudnnStatus_t prologue(const Call& call, const char* what, Geometry& g) {
  if (!call.h) return fail(CUDNN_STATUS_NOT_INITIALIZED, "handle is null");
  cudasim::check_stream(call.h->stream, what);
  if (const cudnnStatus_t st = geometry(call.xd, call.wd, call.c, call.yd, g); st != CUDNN_STATUS_SUCCESS) return st;
  // (x, w -> y), (w, dy -> dx), (x, dy -> dw)
  if (call.p != kData) cudasim::check_device_range(call.x, std::size_t(g.x_bytes()), "cuDNN x");
  if (call.p != kFilter) cudasim::check_device_range(call.w, std::size_t(g.w_bytes()), "cuDNN w");
  if (call.p != kFwd) cudasim::check_device_range(call.y, std::size_t(g.y_bytes()), "cuDNN dy");
  cudasim::check_device_range(call.out, call.out_bytes(g), "cuDNN output");
  return CUDNN_STATUS_SUCCESS;
}

// The pass, when the handle's stream runs it: out = a * conv + b * out (b 0: out not read), the
// operands rounded to TF32 with `round`; the workspace's `need` bytes scribbled.
void run_pass(PassKind p, const Geometry& g, const float* x, const float* w, const float* y, float* out, float a,
              float b, bool round, void* ws, std::size_t need);

// Checks, then enqueues the pass with what it reads of the host (scalars, descriptors) copied.
cudnnStatus_t execute(const Call& call, int algo, const void* alpha, const void* beta, void* ws, std::size_t ws_bytes) {
  Geometry g;
  if (const cudnnStatus_t st = prologue(call, "cuDNN convolution", g); st != CUDNN_STATUS_SUCCESS) return st;
  const PassKind p = call.p;
  if (const cudnnStatus_t st = support(p, algo, g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!alpha || !beta) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "alpha or beta is null");
  const std::size_t need = workspace(p, algo, g);
  if (ws_bytes < need || (need && !ws))
    return fail(CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT,
                "workspace of " + std::to_string(ws_bytes) + " bytes, the algorithm needs " + std::to_string(need));
  if (need) cudasim::check_device_range(ws, need, "cuDNN workspace");
  const auto* x = static_cast<const float*>(call.x);
  const auto* w = static_cast<const float*>(call.w);
  const auto* y = static_cast<const float*>(call.y);
  auto* out = static_cast<float*>(call.out);
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  const bool round = call.c->math == CUDNN_TENSOR_OP_MATH && !is_fft(p, algo);
  cudasim::enqueue(call.h->stream, [=] { run_pass(p, g, x, w, y, out, a, b, round, ws, need); });
  return CUDNN_STATUS_SUCCESS;
}

void run_pass(PassKind p, const Geometry& g, const float* x, const float* w, const float* y, float* out, float a,
              float b, bool round, void* ws, std::size_t need) {
  if (need) fill_nan(ws, need);
  auto in = [&](float v) { return double(round ? tf32(v) : v); };
  // The output's elements (strided offsets) and the double sums that end up in them.
  const int64_t ws5[5] = {g.Cg * g.ker_vol(), g.ker_vol(), g.ker[1] * g.ker[2], g.ker[2], 1};
  const int64_t* os = p == kFwd ? g.ys : p == kData ? g.xs : ws5;
  const int64_t on = p == kFilter ? g.K : g.N, oc = p == kFwd ? g.K : p == kData ? g.C : g.Cg;
  const int64_t* oe = p == kFwd ? g.out : p == kData ? g.in : g.ker;
  std::vector<double> acc(std::size_t(Geometry::span(os, on, oc, oe) / 4));
  for_each_term(g, [&](int64_t xo, int64_t wo, int64_t yo) {
    if (p == kFwd) acc[std::size_t(yo)] += in(x[xo]) * in(w[wo]);
    else if (p == kData) acc[std::size_t(xo)] += in(y[yo]) * in(w[wo]);
    else acc[std::size_t(wo)] += in(x[xo]) * in(y[yo]);
  });
  for (int64_t n = 0; n < on; ++n)
    for (int64_t ch = 0; ch < oc; ++ch)
      for (int64_t i0 = 0; i0 < oe[0]; ++i0)
        for (int64_t i1 = 0; i1 < oe[1]; ++i1)
          for (int64_t i2 = 0; i2 < oe[2]; ++i2) {
            const int64_t o = n * os[0] + ch * os[1] + i0 * os[2] + i1 * os[3] + i2 * os[4];
            out[o] = float(a * acc[std::size_t(o)] + (b != 0 ? double(b) * out[o] : 0.0));
          }
}

bool deterministic(PassKind p, int algo) {
  if (p == kData) return algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  if (p == kFilter) return algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 && algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  return true;
}

// A "time" in [0.1, 1.1) ms per (shape, pass, algorithm): a hash, so that which algorithm wins
// changes from shape to shape, the same on every run.
float fake_time(PassKind p, int algo, const Geometry& g) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t v : {int64_t(p), int64_t(algo), g.N, g.C, g.K, g.groups, g.in[0], g.in[1], g.in[2], g.ker[0],
                    g.ker[1], g.ker[2], g.stride[2], g.pad[2], g.dil[2]})
    h = (h ^ uint64_t(v)) * 1099511628211ull;
  return 0.1f + float(h >> 40) / float(1 << 24);
}

// cudnnFind*AlgorithmEx: every algorithm of the pass, fastest first, failures after.
template <class Perf>
cudnnStatus_t find(const Call& call, int count, int requested, int* returned, Perf* perf, void* ws,
                   std::size_t ws_bytes) {
  cudasim::setup_call("cudnnFind");
  if (call.h) cudasim::wait_for(call.h->stream);  // Find runs its trials at once and waits for them
  Geometry g;
  if (const cudnnStatus_t st = prologue(call, "cudnnFind", g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!returned || !perf || requested < 1) return fail(CUDNN_STATUS_BAD_PARAM, "no room for results");
  if (ws_bytes) cudasim::check_device_range(ws, ws_bytes, "cuDNN workspace");
  const PassKind p = call.p;
  std::vector<Perf> all;
  for (int a = 0; a < count; ++a) {
    Perf r{};
    using Algo = decltype(r.algo);
    r.algo = Algo(a);
    r.status = support(p, a, g);
    r.memory = r.status == CUDNN_STATUS_SUCCESS ? workspace(p, a, g) : 0;
    if (r.status == CUDNN_STATUS_SUCCESS && r.memory > ws_bytes)
      r.status = CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
    r.time = r.status == CUDNN_STATUS_SUCCESS ? fake_time(p, a, g) : -1.0f;
    r.determinism = deterministic(p, a) ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
    r.mathType = call.c->math;
    all.push_back(r);
  }
  std::stable_sort(all.begin(), all.end(), [](const Perf& l, const Perf& r) {
    const bool lok = l.status == CUDNN_STATUS_SUCCESS, rok = r.status == CUDNN_STATUS_SUCCESS;
    return lok != rok ? lok : lok && l.time < r.time;
  });
  *returned = std::min(requested, count);
  std::copy_n(all.begin(), *returned, perf);
  fill_nan(call.out, call.out_bytes(g));  // the trial runs leave their results there
  if (ws_bytes) fill_nan(ws, ws_bytes);
  last_message.clear();
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

// ---- the API -----------------------------------------------------------------------------------
size_t cudnnGetVersion() { return CUDNN_VERSION; }

const char* cudnnGetErrorString(cudnnStatus_t st) {
  switch (st) {
#define CASE(s) \
  case s: return #s;
    CASE(CUDNN_STATUS_SUCCESS)
    CASE(CUDNN_STATUS_NOT_INITIALIZED)
    CASE(CUDNN_STATUS_BAD_PARAM)
    CASE(CUDNN_STATUS_BAD_PARAM_NULL_POINTER)
    CASE(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED)
    CASE(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND)
    CASE(CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT)
    CASE(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH)
    CASE(CUDNN_STATUS_NOT_SUPPORTED)
    CASE(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE)
    CASE(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT)
    CASE(CUDNN_STATUS_INTERNAL_ERROR)
    CASE(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
    CASE(CUDNN_STATUS_EXECUTION_FAILED)
#undef CASE
    default: return "CUDNN_STATUS_UNKNOWN (cudasim)";
  }
}

void cudnnGetLastErrorString(char* message, size_t max_size) {
  if (!message || max_size == 0) return;
  std::snprintf(message, max_size, "%s", last_message.c_str());
  last_message.clear();
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* h) {
  cudasim::setup_call("cudnnCreate");
  if (!h) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "handle is null");
  *h = new cudnnContext;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) {
  cudasim::setup_call("cudnnDestroy");
  delete h;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
  if (!h) return fail(CUDNN_STATUS_NOT_INITIALIZED, "handle is null");
  h->stream = s;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) { return *d = new cudnnTensorStruct, CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) { return delete d, CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnSetTensorNdDescriptor(cudnnTensorDescriptor_t d, cudnnDataType_t type, int nb, const int dims[],
                                         const int strides[]) {
  if (type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE, "only float is simulated");
  if (nb < 4 || nb > 5) return fail(CUDNN_STATUS_BAD_PARAM, "tensor rank must be 4 or 5");
  for (int i = 0; i < nb; ++i)
    if (dims[i] < 1 || strides[i] < 1) return fail(CUDNN_STATUS_BAD_PARAM, "tensor dims and strides must be positive");
  d->nb = nb;
  std::copy_n(dims, nb, d->dims);
  std::copy_n(strides, nb, d->strides);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) { return *d = new cudnnFilterStruct, CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) { return delete d, CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnSetFilterNdDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format,
                                         int nb, const int dims[]) {
  if (type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE, "only float is simulated");
  if (format != CUDNN_TENSOR_NCHW) return fail(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT, "only NCHW filters are simulated");
  if (nb < 4 || nb > 5) return fail(CUDNN_STATUS_BAD_PARAM, "filter rank must be 4 or 5");
  for (int i = 0; i < nb; ++i)
    if (dims[i] < 1) return fail(CUDNN_STATUS_BAD_PARAM, "filter dims must be positive");
  d->nb = nb;
  std::copy_n(dims, nb, d->dims);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) {
  return *d = new cudnnConvolutionStruct, CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) { return delete d, CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnSetConvolutionNdDescriptor(cudnnConvolutionDescriptor_t d, int n, const int pad[], const int stride[],
                                              const int dil[], cudnnConvolutionMode_t mode, cudnnDataType_t type) {
  if (n < 2 || n > 3) return fail(CUDNN_STATUS_BAD_PARAM, "2 or 3 spatial dims only");
  if (mode != CUDNN_CROSS_CORRELATION) return fail(CUDNN_STATUS_NOT_SUPPORTED, "only cross-correlation is simulated");
  if (type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE, "only float compute is simulated");
  for (int i = 0; i < n; ++i)
    if (pad[i] < 0 || stride[i] < 1 || dil[i] < 1) return fail(CUDNN_STATUS_BAD_PARAM, "pad, stride or dilation out of range");
  d->n = n;
  std::copy_n(pad, n, d->pad);
  std::copy_n(stride, n, d->stride);
  std::copy_n(dil, n, d->dil);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int groups) {
  if (groups < 1) return fail(CUDNN_STATUS_BAD_PARAM, "group count must be positive");
  d->groups = groups;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
  d->math = m;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionNdForwardOutputDim(const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t x,
                                                    const cudnnFilterDescriptor_t w, int nb, int out[]) {
  if (!c || !x || !w || !c->n || !x->nb || !w->nb) return fail(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED, "a descriptor is not set");
  if (nb != x->nb || w->nb != nb || c->n != nb - 2) return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "ranks differ");
  if (x->dims[1] != w->dims[1] * c->groups) return fail(CUDNN_STATUS_BAD_PARAM, "x's channels are not filter channels x groups");
  out[0] = x->dims[0], out[1] = w->dims[0];
  for (int i = 0; i < c->n; ++i) {
    const int span = (w->dims[2 + i] - 1) * c->dil[i] + 1;
    if (x->dims[2 + i] + 2 * c->pad[i] < span) return fail(CUDNN_STATUS_BAD_PARAM, "filter larger than the padded input");
    out[2 + i] = (x->dims[2 + i] + 2 * c->pad[i] - span) / c->stride[i] + 1;
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w, const cudnnConvolutionDescriptor_t c,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  Geometry g;
  if (const cudnnStatus_t st = geometry(x, w, c, y, g); st != CUDNN_STATUS_SUCCESS) return st;
  return query(kFwd, algo, g, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t, const cudnnFilterDescriptor_t w,
                                                           const cudnnTensorDescriptor_t dy,
                                                           const cudnnConvolutionDescriptor_t c,
                                                           const cudnnTensorDescriptor_t dx,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
  Geometry g;
  if (const cudnnStatus_t st = geometry(dx, w, c, dy, g); st != CUDNN_STATUS_SUCCESS) return st;
  return query(kData, algo, g, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t x,
                                                             const cudnnTensorDescriptor_t dy,
                                                             const cudnnConvolutionDescriptor_t c,
                                                             const cudnnFilterDescriptor_t dw,
                                                             cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
  Geometry g;
  if (const cudnnStatus_t st = geometry(x, dw, c, dy, g); st != CUDNN_STATUS_SUCCESS) return st;
  return query(kFilter, algo, g, bytes);
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const void* x,
                                                     const cudnnFilterDescriptor_t wd, const void* w,
                                                     const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t yd,
                                                     void* y, const int requested, int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* perf, void* ws, size_t ws_bytes) {
  return find(Call{kFwd, h, xd, wd, c, yd, x, w, nullptr, y}, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, requested, returned,
              perf, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t h, const cudnnFilterDescriptor_t wd, const void* w,
                                                          const cudnnTensorDescriptor_t dyd, const void* dy,
                                                          const cudnnConvolutionDescriptor_t c,
                                                          const cudnnTensorDescriptor_t dxd, void* dx, const int requested,
                                                          int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf, void* ws,
                                                          size_t ws_bytes) {
  return find(Call{kData, h, dxd, wd, c, dyd, nullptr, w, dy, dx}, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, requested,
              returned, perf, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const void* x,
                                                            const cudnnTensorDescriptor_t dyd, const void* dy,
                                                            const cudnnConvolutionDescriptor_t c,
                                                            const cudnnFilterDescriptor_t dwd, void* dw, const int requested,
                                                            int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf,
                                                            void* ws, size_t ws_bytes) {
  return find(Call{kFilter, h, xd, dwd, c, dyd, x, nullptr, dy, dw}, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
              requested, returned, perf, ws, ws_bytes);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,
                                      const cudnnFilterDescriptor_t wd, const void* w,
                                      const cudnnConvolutionDescriptor_t c, cudnnConvolutionFwdAlgo_t algo, void* ws,
                                      size_t ws_bytes, const void* beta, const cudnnTensorDescriptor_t yd, void* y) {
  return execute(Call{kFwd, h, xd, wd, c, yd, x, w, nullptr, y}, algo, alpha, beta, ws, ws_bytes);
}
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void* alpha, const cudnnFilterDescriptor_t wd,
                                           const void* w, const cudnnTensorDescriptor_t dyd, const void* dy,
                                           const cudnnConvolutionDescriptor_t c, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* ws, size_t ws_bytes, const void* beta, const cudnnTensorDescriptor_t dxd,
                                           void* dx) {
  return execute(Call{kData, h, dxd, wd, c, dyd, nullptr, w, dy, dx}, algo, alpha, beta, ws, ws_bytes);
}
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd,
                                             const void* x, const cudnnTensorDescriptor_t dyd, const void* dy,
                                             const cudnnConvolutionDescriptor_t c, cudnnConvolutionBwdFilterAlgo_t algo,
                                             void* ws, size_t ws_bytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwd, void* dw) {
  return execute(Call{kFilter, h, xd, dwd, c, dyd, x, nullptr, dy, dw}, algo, alpha, beta, ws, ws_bytes);
}
