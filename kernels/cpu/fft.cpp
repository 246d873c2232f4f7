// cpu.fft: FFT convolution after Mathieu et al. (ICLR 2014). Every tensor is transformed with
// FFTW (r2c, in place), the spectra are transposed to frequency-major order so that each bin is
// one small complex GEMM over channels (OpenBLAS cgemm), then transposed back, inverse
// transformed and cropped. In a training step each forward spectrum serves two passes.
//
// Index conventions (per dim; P = padded input, ke = dilated kernel, Nf >= P transform size):
//   XP  = FFT(x placed at offset pad),  WE = FFT(w with tap r at r*dil),
//   DY1 = FFT(dy with output o at o*stride)
//   fprop  Y1  = sum_c  XP * conj(WE)   -> y[o]  = y1[o*stride]
//   dgrad  DXP = sum_k  DY1 * WE        -> dx[i] = dxp[i+pad]
//   wgrad  DWE = sum_n  conj(DY1) * XP  -> dw[r] = dwe[r*dil]
// With Nf >= P the circular wrap-around never reaches an index that is kept.
#include <cblas.h>
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <complex>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "convbench/cpu_algorithms.hpp"
#include "convbench/fft_size.hpp"

namespace convbench {
namespace {

using cf = std::complex<float>;

// FFTW's planner keeps global state: every plan creation and destruction goes through here.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

void destroy_plan(fftwf_plan& p) {
  if (!p) return;
  std::lock_guard lock(planner_mutex());
  fftwf_destroy_plan(p);
  p = nullptr;
}

struct FftwFree {
  void operator()(cf* p) const { fftwf_free(p); }
};
using Buffer = std::unique_ptr<cf[], FftwFree>;

Buffer alloc(int64_t n) {
  if (n == 0) return nullptr;
  auto* p = reinterpret_cast<cf*>(fftwf_alloc_complex(static_cast<size_t>(n)));
  if (!p) throw std::bad_alloc();
  return Buffer(p);
}

// The three tensor families, each a batch of planes sharing one transform size:
// X (x, dx: N*C planes), W (w, dw: K*Cg planes), Y (y, dy: N*K planes).
enum Family { fX = 0, fW = 1, fY = 2 };

// Everything sized by (shape, pass); workspace_bytes() and prepare() both read it.
struct Layout {
  Extent nf{1, 1, 1};       // transform size per dim
  int64_t pitch = 0;        // floats per real row in the in-place r2c layout: 2*(Nw/2+1)
  int64_t bins = 0;         // complex bins per plane: Nd*Nh*(Nw/2+1)
  int64_t planes[3] = {};   // per family
  int64_t scratch = 0;      // complex elements of the extra GEMM output buffer (step only)

  Layout() = default;
  Layout(const Shape& s, Pass p, FftSizePolicy policy) {
    for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) nf[i] = fft_size(s.padded(i), policy);
    pitch = 2 * (nf[2] / 2 + 1);
    bins = nf[0] * nf[1] * (nf[2] / 2 + 1);
    planes[fX] = s.N * s.C;
    planes[fW] = s.K * s.Cg();
    planes[fY] = s.N * s.K;
    // A single pass writes its GEMM result into the frequency-major buffer of the family it
    // does not read. In a step all three are still live when fprop and dgrad run.
    if (p == Pass::step) scratch = std::max(planes[fY], planes[fX]) * bins;
  }
  // Each family: one in-place spatial/spectral buffer plus one frequency-major copy.
  int64_t complex_elems() const { return 2 * (planes[fX] + planes[fW] + planes[fY]) * bins + scratch; }
  int64_t total() const { return nf[0] * nf[1] * nf[2]; }
};

// Where a tensor lives inside the zero-padded transform grid: element i of dim d sits at
// off[d] + i*step[d].
struct Placement {
  Extent ext, off, step;
};

// Index along one dim of the source element placed at grid position g, or -1.
inline int64_t source_index(int64_t g, int64_t off, int64_t step, int64_t ext) {
  const int64_t t = g - off;
  if (t < 0 || t % step != 0 || t / step >= ext) return -1;
  return t / step;
}

// Writes the whole grid of every plane (zeros included), so no state survives between runs.
void scatter(const float* src, cf* dst_c, int64_t planes, const Placement& pl, const Layout& lay, int threads) {
  float* dst = reinterpret_cast<float*>(dst_c);
  const int64_t vol = pl.ext[0] * pl.ext[1] * pl.ext[2];
  // Collapsed with the outermost grid dim so a single large plane still spreads over threads.
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t gd = 0; gd < lay.nf[0]; ++gd) {
      const float* s = src + p * vol;
      float* d = dst + p * 2 * lay.bins;
      const int64_t id = source_index(gd, pl.off[0], pl.step[0], pl.ext[0]);
      for (int64_t gh = 0; gh < lay.nf[1]; ++gh) {
        float* row = d + (gd * lay.nf[1] + gh) * lay.pitch;
        std::fill(row, row + lay.pitch, 0.0f);
        const int64_t ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
        if (id < 0 || ih < 0) continue;
        const float* srow = s + (id * pl.ext[1] + ih) * pl.ext[2];
        for (int64_t iw = 0; iw < pl.ext[2]; ++iw) row[pl.off[2] + iw * pl.step[2]] = srow[iw];
      }
    }
}

// Crop (and subsample) the inverse transform, folding in FFTW's missing 1/Ntotal.
void gather(const cf* src_c, float* dst, int64_t planes, const Placement& pl, const Layout& lay, int threads) {
  const float* src = reinterpret_cast<const float*>(src_c);
  const float scale = 1.0f / static_cast<float>(lay.total());
  const int64_t vol = pl.ext[0] * pl.ext[1] * pl.ext[2];
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t id = 0; id < pl.ext[0]; ++id) {
      const float* s = src + p * 2 * lay.bins;
      float* d = dst + p * vol;
      for (int64_t ih = 0; ih < pl.ext[1]; ++ih) {
        const int64_t gd = pl.off[0] + id * pl.step[0], gh = pl.off[1] + ih * pl.step[1];
        const float* srow = s + (gd * lay.nf[1] + gh) * lay.pitch + pl.off[2];
        float* drow = d + (id * pl.ext[1] + ih) * pl.ext[2];
        for (int64_t iw = 0; iw < pl.ext[2]; ++iw) drow[iw] = srow[iw * pl.step[2]] * scale;
      }
    }
}

// dst (cols x rows) = src (rows x cols)^T, in square tiles that stay in L1 on both sides.
void transpose(const cf* src, cf* dst, int64_t rows, int64_t cols, int threads) {
  if (rows == 1 || cols == 1) {
    std::memcpy(static_cast<void*>(dst), src, sizeof(cf) * rows * cols);
    return;
  }
  constexpr int64_t kTile = 32;
  const int64_t rt = (rows + kTile - 1) / kTile, ct = (cols + kTile - 1) / kTile;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int64_t bi = 0; bi < rt; ++bi)
    for (int64_t bj = 0; bj < ct; ++bj) {
      const int64_t i1 = std::min(rows, (bi + 1) * kTile), j1 = std::min(cols, (bj + 1) * kTile);
      for (int64_t j = bj * kTile; j < j1; ++j)
        for (int64_t i = bi * kTile; i < i1; ++i) dst[j * rows + i] = src[i * cols + j];
    }
}

// Row-major C (M x N) = op(A) * op(B), op = identity or conjugate transpose. Per-bin products
// are often tiny (single channel, depthwise groups) and a BLAS call would cost more than the
// arithmetic, so those run inline; real/imag parts are spelled out to avoid __mulsc3.
void cgemm(bool conj_a, bool conj_b, int64_t M, int64_t N, int64_t K, const cf* A, int64_t lda, const cf* B,
           int64_t ldb, cf* C, int64_t ldc) {
  if (M * N * K > 64) {
    const cf one{1.0f, 0.0f}, zero{0.0f, 0.0f};
    cblas_cgemm(CblasRowMajor, conj_a ? CblasConjTrans : CblasNoTrans, conj_b ? CblasConjTrans : CblasNoTrans,
                blasint(M), blasint(N), blasint(K), &one, A, blasint(lda), B, blasint(ldb), &zero, C,
                blasint(ldc));
    return;
  }
  const float sa = conj_a ? -1.0f : 1.0f, sb = conj_b ? -1.0f : 1.0f;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float re = 0, im = 0;
      for (int64_t l = 0; l < K; ++l) {
        const cf a = conj_a ? A[l * lda + i] : A[i * lda + l];
        const cf b = conj_b ? B[j * ldb + l] : B[l * ldb + j];
        const float ar = a.real(), ai = sa * a.imag(), br = b.real(), bi = sb * b.imag();
        re += ar * br - ai * bi;
        im += ar * bi + ai * br;
      }
      C[i * ldc + j] = {re, im};
    }
}

class CpuFft final : public Algorithm {
 public:
  explicit CpuFft(const AlgoOptions& opt) : opt_(opt) {}
  ~CpuFft() override { release(); }
  CpuFft(const CpuFft&) = delete;
  CpuFft& operator=(const CpuFft&) = delete;

  std::string name() const override { return "cpu.fft"; }
  std::string description() const override {
    return "FFTW r2c/c2r + per-frequency complex GEMM (OpenBLAS cgemm); 1D/2D/3D, pad, stride, dilation, "
           "groups; step reuses FFT(x), FFT(w), FFT(dy)";
  }
  std::string supports(const Shape&, Pass) const override { return {}; }
  std::size_t workspace_bytes(const Shape& s, Pass p) const override {
    return static_cast<std::size_t>(Layout(s, p, opt_.fft_size).complex_elems()) * sizeof(cf);
  }
  std::string fft_size() const override { return fft_size_; }

  void prepare(const Shape& s, Pass p) override {
    release();
    const Layout lay(s, p, opt_.fft_size);
    if (2 * lay.bins > std::numeric_limits<int>::max() || lay.planes[fX] > std::numeric_limits<int>::max() ||
        lay.planes[fW] > std::numeric_limits<int>::max() || lay.planes[fY] > std::numeric_limits<int>::max())
      throw std::length_error("cpu.fft: " + s.to_string() + " exceeds FFTW's int-sized plan interface");
    threads_ = opt_.threads > 0 ? opt_.threads : omp_get_max_threads();
    for (int f = 0; f < 3; ++f) {
      spec_[f] = alloc(lay.planes[f] * lay.bins);
      freq_[f] = alloc(lay.planes[f] * lay.bins);
    }
    scratch_ = alloc(lay.scratch);

    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const bool fwd[3] = {fp || wg, fp || dg, dg || wg};  // which inputs get transformed
    const bool inv[3] = {dg, wg, fp};                     // which outputs come back
    for (int f = 0; f < 3; ++f) {
      if (fwd[f]) fwd_[f] = make_plan(s, lay, f, true);
      if (inv[f]) inv_[f] = make_plan(s, lay, f, false);
    }

    fft_size_.clear();
    for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
      if (!fft_size_.empty()) fft_size_ += 'x';
      fft_size_ += std::to_string(lay.nf[i]);
    }
    shape_ = s;
    layout_ = lay;
    prepared_ = p;
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_) throw std::logic_error("cpu.fft: run() before prepare()");
    if (!pass_covered(*prepared_, p))
      throw std::logic_error("cpu.fft: prepared for " + std::string(to_string(*prepared_)) + ", cannot run " +
                             std::string(to_string(p)));
    const Shape& s = shape_;
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const Placement px{s.in, s.pad, {1, 1, 1}}, pw{s.kernel, {0, 0, 0}, s.dilation}, py{s.out, {0, 0, 0}, s.stride};

    if (fp || wg) forward(fX, t.x, px);
    if (fp || dg) forward(fW, t.w, pw);
    if (dg || wg) forward(fY, t.dy, py);
    // GEMM destinations: see Layout::scratch. wgrad runs last, when W's spectrum is spent.
    if (fp) backward(fY, gemm_fprop(p == Pass::step ? scratch_.get() : freq_[fY].get()), t.y, py);
    if (dg) backward(fX, gemm_dgrad(p == Pass::step ? scratch_.get() : freq_[fX].get()), t.dx, px);
    if (wg) backward(fW, gemm_wgrad(freq_[fW].get()), t.dw, pw);
  }

 private:
  fftwf_plan make_plan(const Shape& s, const Layout& lay, int f, bool forward) {
    static std::once_flag threads_init;
    std::call_once(threads_init, [] { fftwf_init_threads(); });
    const int rank = s.dims;
    int n[kMaxDims], real_embed[kMaxDims], cplx_embed[kMaxDims];
    for (int r = 0; r < rank; ++r) {
      const int i = kMaxDims - rank + r;
      n[r] = static_cast<int>(lay.nf[i]);
      real_embed[r] = cplx_embed[r] = n[r];
    }
    real_embed[rank - 1] = static_cast<int>(lay.pitch);  // in-place r2c pads the last dim
    cplx_embed[rank - 1] = static_cast<int>(lay.pitch / 2);
    const int howmany = static_cast<int>(lay.planes[f]);
    const int real_dist = static_cast<int>(2 * lay.bins), cplx_dist = static_cast<int>(lay.bins);
    float* real = reinterpret_cast<float*>(spec_[f].get());
    auto* cplx = reinterpret_cast<fftwf_complex*>(spec_[f].get());
    const unsigned flags = opt_.fft_measure ? FFTW_MEASURE : FFTW_ESTIMATE;

    std::lock_guard lock(planner_mutex());
    fftwf_plan_with_nthreads(threads_);
    fftwf_plan plan =
        forward ? fftwf_plan_many_dft_r2c(rank, n, howmany, real, real_embed, 1, real_dist, cplx, cplx_embed, 1,
                                          cplx_dist, flags)
                : fftwf_plan_many_dft_c2r(rank, n, howmany, cplx, cplx_embed, 1, cplx_dist, real, real_embed, 1,
                                          real_dist, flags);
    if (!plan) throw std::runtime_error("cpu.fft: FFTW could not create a plan for " + s.to_string());
    return plan;
  }

  // Input tensor -> zero-padded grid -> spectrum -> frequency-major [bin][plane].
  void forward(int f, const float* src, const Placement& pl) {
    if (!src) throw std::invalid_argument("cpu.fft: missing input tensor");
    scatter(src, spec_[f].get(), layout_.planes[f], pl, layout_, threads_);
    fftwf_execute(fwd_[f]);
    transpose(spec_[f].get(), freq_[f].get(), layout_.planes[f], layout_.bins, threads_);
  }

  // Frequency-major GEMM result -> plane-major spectrum -> inverse -> cropped output tensor.
  void backward(int f, const cf* freq, float* dst, const Placement& pl) {
    if (!dst) throw std::invalid_argument("cpu.fft: missing output tensor");
    transpose(freq, spec_[f].get(), layout_.bins, layout_.planes[f], threads_);
    fftwf_execute(inv_[f]);
    gather(spec_[f].get(), dst, layout_.planes[f], pl, layout_, threads_);
  }

  // Runs body(b) for every bin. Few bins: one at a time, so OpenBLAS may thread each GEMM
  // itself; otherwise across bins, where OpenBLAS (OpenMP build) stays single-threaded.
  template <class Body>
  void for_each_bin(const Body& body) const {
    const int64_t bins = layout_.bins;
#pragma omp parallel for schedule(dynamic) num_threads(threads_) if (bins >= threads_)
    for (int64_t b = 0; b < bins; ++b) body(b);
  }

  // Y_b (N x K) = X_b (N x C) * W_b^H, block-diagonal over groups.
  cf* gemm_fprop(cf* dst) const {
    const Shape& s = shape_;
    const int64_t N = s.N, C = s.C, K = s.K, Cg = s.Cg(), Kg = s.Kg();
    const cf *X = freq_[fX].get(), *W = freq_[fW].get();
    for_each_bin([&](int64_t b) {
      for (int64_t g = 0; g < s.groups; ++g)
        cgemm(false, true, N, Kg, Cg, X + b * N * C + g * Cg, C, W + b * K * Cg + g * Kg * Cg, Cg,
              dst + b * N * K + g * Kg, K);
    });
    return dst;
  }

  // DX_b (N x C) = DY_b (N x K) * W_b (K x Cg per group).
  cf* gemm_dgrad(cf* dst) const {
    const Shape& s = shape_;
    const int64_t N = s.N, C = s.C, K = s.K, Cg = s.Cg(), Kg = s.Kg();
    const cf *DY = freq_[fY].get(), *W = freq_[fW].get();
    for_each_bin([&](int64_t b) {
      for (int64_t g = 0; g < s.groups; ++g)
        cgemm(false, false, N, Cg, Kg, DY + b * N * K + g * Kg, K, W + b * K * Cg + g * Kg * Cg, Cg,
              dst + b * N * C + g * Cg, C);
    });
    return dst;
  }

  // DW_b (K x Cg) = DY_b^H (K x N) * X_b (N x C per group).
  cf* gemm_wgrad(cf* dst) const {
    const Shape& s = shape_;
    const int64_t N = s.N, C = s.C, K = s.K, Cg = s.Cg(), Kg = s.Kg();
    const cf *DY = freq_[fY].get(), *X = freq_[fX].get();
    for_each_bin([&](int64_t b) {
      for (int64_t g = 0; g < s.groups; ++g)
        cgemm(true, false, Kg, Cg, N, DY + b * N * K + g * Kg, K, X + b * N * C + g * Cg, C,
              dst + b * K * Cg + g * Kg * Cg, Cg);
    });
    return dst;
  }

  void release() {
    for (int f = 0; f < 3; ++f) {
      destroy_plan(fwd_[f]);
      destroy_plan(inv_[f]);
      spec_[f].reset();
      freq_[f].reset();
    }
    scratch_.reset();
    prepared_.reset();
    fft_size_.clear();
  }

  AlgoOptions opt_;
  std::optional<Pass> prepared_;
  Shape shape_;
  Layout layout_;
  int threads_ = 1;
  std::string fft_size_;
  Buffer spec_[3], freq_[3], scratch_;     // per family: in-place real/spectrum, frequency-major
  fftwf_plan fwd_[3] = {}, inv_[3] = {};  // r2c / c2r, in place on spec_[f]
};

}  // namespace

std::unique_ptr<Algorithm> make_cpu_fft(const AlgoOptions& opt) { return std::make_unique<CpuFft>(opt); }

}  // namespace convbench
