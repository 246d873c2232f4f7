// cuda.fft: FFT convolution after Mathieu et al. (ICLR 2014) on the GPU; the same method and
// index conventions as kernels/cpu/fft.cpp. Per tensor family, our scatter kernel places the
// tensor in a zero-padded grid (x at offset pad, w with taps dilated, dy with outputs at
// multiples of the stride), cuFFT transforms the whole batch of planes in place (plan many,
// made outside the timed region, work area owned by us), a tiled transpose turns the spectra
// frequency-major (a chunk of planes at a time through one grid: see Layout::grid_cap), and
// each (bin, group) becomes one small complex GEMM over channels in ONE
// cublasCgemmStridedBatched call (or its Gauss 3m twin, where prepare timed that faster: see
// plan_gemms). Results go back through the transpose, the inverse
// transform, and a gather kernel that crops, subsamples and applies the 1/N scale.
//
//   fprop  Y1  = sum_c  XP * conj(WE)   -> y[o]  = y1[o*stride]
//   dgrad  DXP = sum_k  DY1 * WE        -> dx[i] = dxp[i+pad]
//   wgrad  DWE = sum_n  conj(DY1) * XP  -> dw[r] = dwe[r*dil]
//
// Groups: the transpose also permutes planes group-major inside a bin, [bin][g][n][c/g], so
// the (bin, group) blocks sit at one constant stride and a single strided-batched call covers
// them all. In a step FFT(x), FFT(w), FFT(dy) each serve two passes: 6 transforms, not 9.
//
// cuda.fbfft is the same pipeline with our own transforms (small_fft.cuh, 1D/2D, sizes <= 128):
// there one kernel per tensor does scatter + R2C + transpose, and one does transpose + C2R +
// gather, with no spatial grid or cuFFT work area in memory.
//
// The filter's spectra may instead come from a DFT over its taps (AlgoOptions::filter_spectra,
// the planner's cost model by default): a k x k kernel is a tiny corner of its grid, so one GEMM
// (kept bins x taps) writes FFT(w) frequency-major directly, and one more brings dw back from
// its spectrum, where the pipeline above makes three passes over the whole grid each way.
//
// Band-limited (AlgoOptions::compression > 0, Dziedzic et al. 2019): the frequency-major buffers
// and the GEMMs hold only the bins of band_limit_bins() (the same mask as cpu.fft); the
// forward transpose gathers the kept bins through a row -> bin map, and the inverse one writes
// every bin through a bin -> row map, zero where dropped, so a dropped bin is exactly zero in
// every product.
#include <cuComplex.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "conv_params.cuh"
#include "convbench/fft_grid.hpp"
#include "small_fft.cuh"
#include "convbench/band_limit.hpp"
#include "convbench/cuda_algorithms.hpp"
#include "convbench/fft_size.hpp"
#include "cublas_handle.hpp"

namespace convbench {
namespace {

// Stage names (Algorithm::mark_stage) per tensor family: the cuFFT pipeline kernel by kernel,
// our own transforms (cuda.fbfft) as one fused kernel each way.
struct StageNames {
  const char *place, *fft, *to_freq, *forward, *to_spec, *ifft, *crop, *inverse;
};
constexpr StageNames kStages[3] = {
    {"place x", "fft x", "transpose x", "forward x", "transpose dx", "ifft dx", "crop dx", "inverse dx"},
    {"place w", "fft w", "transpose w", "forward w", "transpose dw", "ifft dw", "crop dw", "inverse dw"},
    {"place dy", "fft dy", "transpose dy", "forward dy", "transpose y", "ifft y", "crop y", "inverse y"}};

// Whether the filter's spectra come from the DFT over its taps: forced ("dft", "fft") or by cost.
// The GEMM costs 8 * kept * taps flops per plane; the transform pipeline moves about 32 * bins
// bytes per plane beyond the spectrum both write (grid written, transformed in place, read by
// the transposition). At 10 flops per byte (an A100's FP32 rate over its bandwidth; H100 and
// H200: 14-20) the DFT wins while kept * taps <= 40 * bins: a 2D kernel up to about 6 x 6.
inline bool filter_by_dft(const std::string& choice, int64_t kept, int64_t bins, int64_t taps, int64_t planes) {
  const bool fits = kept <= INT32_MAX && taps <= INT32_MAX && planes <= INT32_MAX;  // cuBLAS's int sizes
  if (choice == "dft") return fits;
  return choice == "planner" && fits && kept * taps <= 40 * bins;
}

// The planner's cost for cuda.fbfft: the operation count, with transforms at lengths the own
// kernels do not compile in (small_fft::fixed_lengths) kRuntimeLengthCost times dearer: on an
// H200 those ran 5-80x slower than cuFFT where the compiled lengths ran at 0.8-1x. The split
// lengths above 64 (small_fft::split_lengths: compiled lengths in two levels, no local memory)
// count kSplitLengthCost times: an estimate, not yet timed on a GPU (two passes through shared
// memory per dimension where a compiled length makes one).
class OwnTransformCost final : public FftCostModel {
 public:
  static constexpr double kRuntimeLengthCost = 8, kSplitLengthCost = 1.5;
  double transform(const Extent& nf) const override {
    const double ops = counted_fft_cost().transform(nf);
    if (nf[0] != 1) return kRuntimeLengthCost * ops;
    if (small_fft::fixed_lengths(int(nf[1]), int(nf[2]))) return ops;
    return small_fft::split_lengths(int(nf[1]), int(nf[2])) ? kSplitLengthCost * ops : kRuntimeLengthCost * ops;
  }
  double gemm(int64_t M, int64_t N, int64_t K) const override { return counted_fft_cost().gemm(M, N, K); }
};

const FftCostModel& transform_cost(bool own_transforms) {
  static const OwnTransformCost own;
  return own_transforms ? static_cast<const FftCostModel&>(own) : counted_fft_cost();
}

// The least the grid holds by default (AlgoOptions::fft_grid_bytes = 0): 8 MiB is about 2 us of
// an H100's or H200's DRAM bandwidth per pass, so each chunk's kernels still fill the GPU.
constexpr int64_t kGridFloorBytes = int64_t{8} << 20;

// Everything sized by (shape, pass, policy): workspace_bytes() and prepare() both read it.
struct Layout {
  Extent nf{1, 1, 1};      // transform size per dim
  int64_t pitch = 0;       // floats per real row in the in-place R2C layout: 2*(Nw/2+1)
  int64_t bins = 0;        // complex bins per plane: Nd*Nh*(Nw/2+1)
  int64_t kept = 0;        // bins the GEMMs see (all of them at compression 0)
  int64_t planes[3] = {};  // per family
  // Plane p of a family is (outer, g, inner); frequency-major order is (g, outer, inner).
  int64_t outer[3] = {}, inner[3] = {};
  int64_t scratch = 0;  // complex elements of the extra GEMM output buffer (step only)
  // Complex elements the grid's chunks may fill: the tensors' planes pass through one in-place
  // grid (cuFFT) or the filter DFT's staging (w as complex, dw's columns) in chunks, so neither
  // holds a family whole: a buffer as large as a family at full size would keep the workspace
  // from shrinking with compression.
  int64_t grid_cap = 0;
  bool own = false;     // own transforms: no in-place grid buffers; a bin -> row map instead
  bool dft_w = false;   // the filter's spectra by the DFT over its taps (filter_by_dft)
  bool w_in = false, w_out = false;  // the pass transforms w, brings dw back
  int64_t taps = 1;     // the kernel's volume

  Layout() = default;
  Layout(const Shape& s, Pass p, FftSizePolicy policy, double compression, bool own_transforms,
         const std::string& filter_spectra, int64_t grid_bytes) {
    own = own_transforms;
    // The planner's cost here is the operation count (no cuFFT timings yet): its cheapest size is
    // the smallest 7-smooth one (for own transforms, the smallest they compile in).
    nf = choose_fft_sizes(s, policy, transform_cost(own));
    pitch = 2 * (nf[2] / 2 + 1);
    bins = half_spectrum_bins(nf);
    kept = compression > 0 ? static_cast<int64_t>(band_limit_bins(nf, compression).size()) : bins;
    planes[fX] = s.N * s.C, outer[fX] = s.N, inner[fX] = s.Cg();
    planes[fW] = s.K * s.Cg(), outer[fW] = 1, inner[fW] = s.Kg() * s.Cg();
    planes[fY] = s.N * s.K, outer[fY] = s.N, inner[fY] = s.Kg();
    // A single pass writes its GEMM result into the frequency-major buffer of the family it
    // does not read; in a step all three are still live when fprop and dgrad run.
    if (p == Pass::step) scratch = std::max(planes[fY], planes[fX]) * kept;
    w_in = pass_covered(p, Pass::fprop) || pass_covered(p, Pass::dgrad), w_out = pass_covered(p, Pass::wgrad);
    taps = s.kernel_volume();
    dft_w = filter_by_dft(filter_spectra, kept, bins, taps, planes[fW]);
    // Given, or a quarter of the largest family's kept spectra, at least the floor.
    const int64_t most = std::max({planes[fX], planes[fW], planes[fY]}) * kept;
    const int64_t elem = sizeof(float2);
    grid_cap = grid_bytes > 0 ? grid_bytes / elem : std::max((most + 3) / 4, (kGridFloorBytes + elem - 1) / elem);
  }
  bool band_limited() const { return kept < bins; }
  // Whether family f passes through the grid: all with cuFFT; with own transforms only w by
  // its DFT. A plane takes its half-spectrum there, or its taps (w by the DFT).
  bool in_grid(int f) const { return own ? f == fW && dft_w : true; }
  int64_t grid_plane(int f) const { return f == fW && dft_w ? taps : bins; }
  // Family f passes through the grid in chunks(f) chunks of chunk(f) planes (the last may hold
  // fewer), balanced so that the last is not a sliver.
  int64_t chunks(int f) const {
    const int64_t per = std::clamp<int64_t>(grid_cap / grid_plane(f), 1, planes[f]);
    return (planes[f] + per - 1) / per;
  }
  int64_t chunk(int f) const { return (planes[f] + chunks(f) - 1) / chunks(f); }
  int64_t last_chunk(int f) const { return planes[f] - (chunks(f) - 1) * chunk(f); }
  // Per family a frequency-major copy of the kept bins; one grid buffer shared by the families
  // (their transforms run one after another on one stream).
  int64_t grid_elems() const {
    int64_t most = 0;
    for (int f = 0; f < 3; ++f)
      if (in_grid(f)) most = std::max(most, chunk(f) * grid_plane(f));
    return most;
  }
  // The DFT over the taps: its matrix per direction (kept x taps).
  int64_t dft_elems() const { return dft_w ? (int64_t(w_in) + int64_t(w_out)) * kept * taps : 0; }
  int64_t complex_elems() const {
    return (planes[fX] + planes[fW] + planes[fY]) * kept + grid_elems() + scratch + dft_elems();
  }
  // Own transforms: bin -> kept row or -1. cuFFT: kept row -> bin (the forward transpose), then
  // the same bin -> row map (the inverse's, which writes every bin, zero where dropped).
  int64_t bin_map_bytes() const { return band_limited() ? (own ? bins : kept + bins) * int64_t(sizeof(int)) : 0; }
  int64_t total() const { return nf[0] * nf[1] * nf[2]; }
};

struct Grid {
  int nf[3];
  int pitch;
  int64_t plane;  // floats per plane: 2*bins
};

// An index split into (plane, d, h, w) by the extents of its array, innermost last: by
// FastDiv when the indices fit 32 bits (int32_t kernels), else by 64-bit division.
struct IndexSplit {
  int ext[3];
  FastDiv div[3];  // by ext[2], ext[1], ext[0]
  IndexSplit(int d, int h, int w) : ext{d, h, w}, div{FastDiv(uint32_t(w)), FastDiv(uint32_t(h)), FastDiv(uint32_t(d))} {}
  template <class I>
  __device__ __forceinline__ I operator()(I i, int& d, int& h, int& w) const {
    if constexpr (sizeof(I) == 4) {
      uint32_t r;
      uint32_t t = div[0].divmod(uint32_t(i), r);
      w = int(r);
      t = div[1].divmod(t, r);
      h = int(r);
      t = div[2].divmod(t, r);
      d = int(r);
      return I(t);
    } else {
      I t = i / ext[2];
      w = int(i - t * ext[2]);
      h = int(t % ext[1]);
      t /= ext[1];
      d = int(t % ext[0]);
      return t / ext[0];
    }
  }
};

// Elements per thread in the placement kernels, all loads issued before the stores: a thread
// with one 4-byte load in flight leaves the memory system mostly idle (Little's law; these
// kernels ran at ~1.2 TB/s of an H200's 4.8).
constexpr int kItems = 8;

// Blocks for a kernel whose threads each take kItems elements of n.
inline unsigned items_grid(int64_t n, int block) { return cuda::grid_for((n + kItems - 1) / kItems, block); }

// Writes the whole grid of every plane, zeros included, so no state survives between runs.
// Thread t takes elements base + j * stride, j < kItems: each load instruction stays coalesced.
template <class I>
__global__ void scatter_kernel(const float* __restrict__ src, float* __restrict__ dst, Placement pl, IndexSplit grid,
                               I total) {
  const I vol = I(pl.ext[0]) * pl.ext[1] * pl.ext[2], stride = I(gridDim.x) * I(blockDim.x);
  for (I base = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); base < total; base += stride * kItems) {
    float v[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const I i = base + j * stride;
      v[j] = 0.0f;
      if (i >= total) continue;
      int gd, gh, gw;
      const I p = grid(i, gd, gh, gw);
      const int id = source_index(gd, pl.off[0], pl.step[0], pl.ext[0]);
      const int ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
      const int iw = source_index(gw, pl.off[2], pl.step[2], pl.ext[2]);
      if (id >= 0 && ih >= 0 && iw >= 0) v[j] = src[p * vol + (I(id) * pl.ext[1] + ih) * pl.ext[2] + iw];
    }
#pragma unroll
    for (int j = 0; j < kItems; ++j)
      if (base + j * stride < total) dst[base + j * stride] = v[j];
  }
}

// Crop (and subsample) the inverse transform into the output tensor, with cuFFT's missing 1/N;
// `tensor` splits the output's indices.
template <class I>
__global__ void gather_kernel(const float* __restrict__ src, float* __restrict__ dst, Placement pl, Grid g,
                              IndexSplit tensor, float scale, I total) {
  const I stride = I(gridDim.x) * I(blockDim.x);
  for (I base = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); base < total; base += stride * kItems) {
    float v[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const I i = base + j * stride;
      if (i >= total) continue;
      int id, ih, iw;
      const I p = tensor(i, id, ih, iw);
      const int gd = pl.off[0] + id * pl.step[0], gh = pl.off[1] + ih * pl.step[1], gw = pl.off[2] + iw * pl.step[2];
      v[j] = src[p * I(g.plane) + (I(gd) * g.nf[1] + gh) * g.pitch + gw];
    }
#pragma unroll
    for (int j = 0; j < kItems; ++j)
      if (base + j * stride < total) dst[base + j * stride] = v[j] * scale;
  }
}

// The filter as the complex operand of its DFT GEMM.
template <class I>
__global__ void to_complex_kernel(const float* __restrict__ src, float2* __restrict__ dst, I total) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += I(gridDim.x) * I(blockDim.x))
    dst[i] = make_float2(src[i], 0.0f);
}

// dw from its DFT GEMM's result, laid out like dw: the real part (the scale is in the matrix).
template <class I>
__global__ void real_part_kernel(const float2* __restrict__ src, float* __restrict__ dst, I total) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += I(gridDim.x) * I(blockDim.x))
    dst[i] = src[i].x;
}

constexpr int kTile = 32, kRowsPerPass = 8;

// Between a chunk's spectra (spec: `count` planes of `plane_bins` bins from plane 0 on) and the
// frequency-major rows (freq: row r holds all `planes`, plane q at order(q)).
// to_freq: freq[r][order(first + p)] = spec[p][map(r)] for the `bins` rows (map: row -> bin;
// nullptr: every bin, bins == plane_bins). Else spec[p][b] = freq[map(b)][order(first + p)] for
// every bin b < bins == plane_bins, zero where map(b) < 0 (map: bin -> row or -1; nullptr: row
// b), so the spectrum is whole without a memset. Tiles of 32 planes x 32 bins through shared
// memory keep both sides coalesced (the mapped side stays mostly so: kept bins are runs of a row).
template <bool to_freq>
__global__ void transpose_kernel(const float2* __restrict__ src, float2* __restrict__ dst, int64_t first,
                                 int64_t count, int64_t planes, int64_t bins, int64_t plane_bins, PlaneOrder order,
                                 const int* __restrict__ bin_map) {
  __shared__ float2 tile[kTile][kTile + 1];
  const int64_t b0 = int64_t(blockIdx.x) * kTile;
  for (int64_t p0 = int64_t(blockIdx.y) * kTile; p0 < count; p0 += int64_t(gridDim.y) * kTile) {
    if (to_freq) {  // read along bins, write along planes
      for (int r = threadIdx.y; r < kTile; r += kRowsPerPass) {
        const int64_t p = p0 + r, b = b0 + threadIdx.x;
        if (p < count && b < bins) tile[r][threadIdx.x] = src[p * plane_bins + (bin_map ? bin_map[b] : b)];
      }
      __syncthreads();
      for (int r = threadIdx.y; r < kTile; r += kRowsPerPass) {
        const int64_t b = b0 + r, p = p0 + threadIdx.x;
        if (p < count && b < bins) dst[b * planes + order(first + p)] = tile[threadIdx.x][r];
      }
    } else {  // read along planes, write along bins
      for (int r = threadIdx.y; r < kTile; r += kRowsPerPass) {
        const int64_t b = b0 + r, p = p0 + threadIdx.x;
        if (p < count && b < bins) {
          const int64_t row = bin_map ? bin_map[b] : b;
          tile[r][threadIdx.x] = row >= 0 ? src[row * planes + order(first + p)] : make_float2(0.0f, 0.0f);
        }
      }
      __syncthreads();
      for (int r = threadIdx.y; r < kTile; r += kRowsPerPass) {
        const int64_t p = p0 + r, b = b0 + threadIdx.x;
        if (p < count && b < bins) dst[p * plane_bins + b] = tile[threadIdx.x][r];
      }
    }
    __syncthreads();  // the tile is reused by the next plane tile
  }
}

constexpr int kBlock = 256;

// Values in [-1, 1) from a hash of the index: operands for timing the complex GEMMs in prepare
// (a GPU's clock, so its speed, depends a little on the data: zeros draw less power).
__global__ void fill_hash_kernel(float* __restrict__ dst, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 0x9E3779B1u ^ uint32_t(i >> 32);
    h ^= h >> 15, h *= 0x2C1B3C6Du, h ^= h >> 12, h *= 0x297A2D39u, h ^= h >> 15;
    dst[i] = float(h >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
}

// One strided-batched complex GEMM as cuBLAS takes it: C = op(A) op(B) for each of `batch`
// entries; `product` names it in the row's detail.
struct ComplexGemm {
  const char* product;
  cublasOperation_t ta, tb;
  int m, n, k;
  const cuComplex* A;
  int lda;
  long long sa;
  const cuComplex* B;
  int ldb;
  long long sb;
  cuComplex* C;
  int ldc;
  long long sc;
  int batch;
  // What its speed depends on: everything but the buffers.
  auto shape() const { return std::make_tuple(int(ta), int(tb), m, n, k, lda, sa, ldb, sb, ldc, sc, batch); }
};
using GemmShape = decltype(std::declval<ComplexGemm>().shape());

// cuFFT plans of one (shape, pass) without work areas; workspace_bytes() makes them to learn
// their exact work size, prepare() reuses them. Per family and direction: [0] for a full chunk
// of planes, [1] for a shorter last one.
struct Plans {
  Shape shape;
  Pass pass = Pass::fprop;
  std::optional<cufftHandle> fwd[3][2], inv[3][2];
  std::size_t work_bytes = 0;

  Plans() = default;
  Plans(const Plans&) = delete;
  Plans& operator=(const Plans&) = delete;
  ~Plans() {
    for (int f = 0; f < 3; ++f)
      for (int k = 0; k < 2; ++k) {
        if (fwd[f][k]) cufftDestroy(*fwd[f][k]);
        if (inv[f][k]) cufftDestroy(*inv[f][k]);
      }
  }
  // The plan for a chunk of `count` planes of family f.
  cufftHandle forward(const Layout& lay, int f, int64_t count) const { return *fwd[f][count == lay.chunk(f) ? 0 : 1]; }
  cufftHandle inverse(const Layout& lay, int f, int64_t count) const { return *inv[f][count == lay.chunk(f) ? 0 : 1]; }
};

class CudaFft final : public Algorithm {
 public:
  CudaFft(const AlgoOptions& opt, bool own_transforms) : opt_(opt), own_(own_transforms) {}
  std::string name() const override { return own_ ? "cuda.fbfft" : "cuda.fft"; }
  std::string description() const override {
    if (own_)
      return "cuda.fft with our own small real transforms (1D/2D, sizes <= 128, fused with padding, "
             "transposition and cropping) instead of cuFFT; band-limited (compression)";
    return "cuFFT R2C/C2R (batched plans) + per-(bin, group) complex GEMMs in one cublasCgemmStridedBatched; "
           "1D/2D/3D, pad, stride, dilation, groups; step reuses FFT(x), FFT(w), FFT(dy); band-limited (compression)";
  }
  bool supports_compression() const override { return true; }
  bool uses_option(std::string_view field) const override {
    return field == "filter_spectra" || field == "fft_grid_bytes" || field == "complex_gemm" ||
           (own_ && field == "small_fft_split");
  }
  bool fft_method() const override { return true; }
  bool plans_fft_sizes() const override { return true; }
  Device device() const override { return Device::cuda; }
  std::string supports(const Shape& s, Pass p) const override {
    if (std::string why = cuda::conv_params_refusal(s); !why.empty()) return why;
    if (std::string why = fft_options_refusal(opt_); !why.empty()) return why;
    if (opt_.filter_spectra != "planner" && opt_.filter_spectra != "dft" && opt_.filter_spectra != "fft")
      return "filter_spectra '" + opt_.filter_spectra + "' is not planner, dft or fft";
    if (opt_.small_fft_split != "planner" && opt_.small_fft_split != "compiled" && opt_.small_fft_split != "split")
      return "small_fft_split '" + opt_.small_fft_split + "' is not planner, compiled or split";
    const Layout lay = layout(s, p);
    if (opt_.filter_spectra == "dft" && !lay.dft_w && (lay.w_in || lay.w_out))
      return "filter spectra by DFT: more bins, taps or planes than cuBLAS's int sizes";
    for (int i = 0; i < kMaxDims; ++i)
      if (lay.nf[i] > INT32_MAX) return "transform size exceeds int range";
    if (own_) {
      if (s.dims == 3) return "own transforms are 1D/2D (3D: cuda.fft)";
      for (int i = kMaxDims - s.dims; i < kMaxDims; ++i)
        if (!small_fft::supported(int(lay.nf[i])))
          return "transform size " + std::to_string(lay.nf[i]) + " above the own kernels' " +
                 std::to_string(small_fft::kMaxSize) + " (or not 7-smooth)";
    }
    if (lay.bins > INT32_MAX || lay.kept * s.groups > INT32_MAX) return "more (bin, group) GEMMs than cuBLAS's int batch count";
    return {};
  }
  std::size_t workspace_bytes(const Shape& s, Pass p) const override {
    const Layout lay = layout(s, p);
    return static_cast<std::size_t>(lay.complex_elems()) * sizeof(cuComplex) + lay.bin_map_bytes() +
           (own_ ? 0 : plans_for(s, p).work_bytes);
  }
  std::string fft_size() const override { return fft_size_; }
  Extent transform_sizes(const Shape& s, Pass p) const override { return layout(s, p).nf; }
  bool filter_spectra_by_dft(const Shape& s, Pass p) const override { return layout(s, p).dft_w; }
  double modelled_cost(const Shape& s, Pass p) const override {
    return fft_conv_cost(s, p, layout(s, p).nf, opt_.compression, transform_cost(own_));
  }
  void set_stream(void* s) override {
    stream_ = cuda::as_stream(s);
    if (blas_) CB_CUBLAS(cublasSetStream(blas_, stream_));  // already prepared: move plans and handle too
    for (int f = 0; active_ && f < 3; ++f)
      for (int k = 0; k < 2; ++k)
        for (auto* plan : {&active_->fwd[f][k], &active_->inv[f][k]})
          if (*plan) CB_CUFFT(cufftSetStream(**plan, stream_));
  }
  std::string detail() const override {
    std::string out = cuda::CublasHandle::math_name(opt_.precision);
    if (!prepared_) return opt_.complex_gemm == "3m" ? out + "; complex GEMMs 3m (Gauss)" : out;
    // The products that run 3m, forced or the planner's choice.
    std::string gauss;
    for (const auto& [shape, product, three] : gemm_plan_)
      if (three && gauss.find(product) == std::string::npos) gauss += (gauss.empty() ? "" : ", ") + product;
    if (!gauss.empty()) out += "; complex GEMMs 3m (Gauss): " + gauss;
    if (layout_.dft_w) out += "; filter spectra by DFT GEMM";
    // The own transforms that run split at 32 or 64, forced or the planner's choice.
    std::string split;
    for (int f = 0; own_ && f < 3; ++f)
      for (int dir = 0; dir < 2 && !(f == fW && layout_.dft_w); ++dir)
        if (geoms_[f][dir].split && !small_fft::split_lengths(int(layout_.nf[1]), int(layout_.nf[2])))
          split += (split.empty() ? "" : ", ") + std::string(dir == 0 ? kStages[f].forward : kStages[f].inverse);
    if (!split.empty()) out += "; small FFTs split in two levels: " + split;
    // The families that went through the grid in more than one chunk (cuda.fft's launches).
    std::string chunked;
    constexpr const char* kTensor[3] = {"x", "w", "dy"};
    for (int f = 0; f < 3; ++f)
      if (layout_.in_grid(f) && layout_.chunks(f) > 1)
        chunked += (chunked.empty() ? "" : ", ") + std::string(kTensor[f]) + " in " + std::to_string(layout_.chunks(f));
    if (!chunked.empty()) {
      char mib[32];
      std::snprintf(mib, sizeof mib, "%.1f", double(layout_.grid_elems()) * sizeof(cuComplex) / double(1 << 20));
      out += "; grid " + std::string(mib) + " MiB, chunks: " + chunked;
    }
    return out;
  }

  void prepare(const Shape& s, Pass p) override {
    prepared_.reset();
    grid_.reset();
    for (auto& b : freq_) b.reset();
    scratch_.reset(), work_.reset(), bin_map_.reset(), dft_fwd_.reset(), dft_inv_.reset();
    kept_columns_ = 0;
    gemm_plan_.clear();
    if (std::string why = supports(s, p); !why.empty()) throw Unsupported(name() + ": " + why);

    const Layout lay = layout(s, p);
    grid_ = cuda::DeviceBuffer(lay.grid_elems() * sizeof(cuComplex));
    for (int f = 0; f < 3; ++f) freq_[f] = cuda::DeviceBuffer(lay.planes[f] * lay.kept * sizeof(cuComplex));
    if (lay.band_limited()) {
      const std::vector<int64_t> kept = band_limit_bins(lay.nf, opt_.compression);
      std::vector<int> map;
      if (own_) {  // bin -> row
        map.assign(static_cast<size_t>(lay.bins), -1);
        for (size_t r = 0; r < kept.size(); ++r) map[static_cast<size_t>(kept[r])] = static_cast<int>(r);
        for (int64_t b : kept) kept_columns_ = std::max(kept_columns_, int(b % (lay.nf[2] / 2 + 1)) + 1);
      } else {  // row -> bin, then bin -> row
        map.assign(kept.begin(), kept.end());
        map.resize(static_cast<size_t>(lay.kept + lay.bins), -1);
        for (size_t r = 0; r < kept.size(); ++r) map[static_cast<size_t>(lay.kept + kept[r])] = static_cast<int>(r);
      }
      bin_map_ = cuda::DeviceBuffer(lay.bin_map_bytes());
      CB_CUDA(cudaMemcpyAsync(bin_map_.get(), map.data(), lay.bin_map_bytes(), cudaMemcpyHostToDevice, stream_));
      CB_CUDA(cudaStreamSynchronize(stream_));  // `map` goes out of scope
    }
    scratch_ = cuda::DeviceBuffer(lay.scratch * sizeof(cuComplex));
    if (lay.dft_w) upload_filter_dft(s, lay);
    if (!own_) {
      if (!(active_ && active_->shape == s && active_->pass == p)) {
        plans_for(s, p);  // made, or found in the cache
        active_ = std::move(cache_);
      }
      Plans& plans = *active_;
      work_ = cuda::DeviceBuffer(plans.work_bytes);
      for (int f = 0; f < 3; ++f)
        for (int k = 0; k < 2; ++k)
          for (auto* plan : {&plans.fwd[f][k], &plans.inv[f][k]})
            if (*plan) {
              CB_CUFFT(cufftSetWorkArea(**plan, work_.get()));
              CB_CUFFT(cufftSetStream(**plan, stream_));
            }
    }
    blas_ = handle_.get(stream_, opt_.precision);

    fft_size_.clear();
    for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
      if (!fft_size_.empty()) fft_size_ += 'x';
      fft_size_ += std::to_string(lay.nf[i]);
    }
    shape_ = s;
    layout_ = lay;
    if (own_) plan_own_transforms();  // the own kernels' geometry, made here rather than in run()
    plan_gemms(p);
    prepared_ = p;
    fprop_spectra_ = false;
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(*prepared_, p))
      throw std::logic_error(name() + ": run(" + std::string(to_string(p)) + ") without prepare for it");
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const bool step = p == Pass::step;
    if (fp || wg) forward(fX, t.x);
    if (fp || dg) forward(fW, t.w);
    if (dg || wg) forward(fY, t.dy);
    // GEMM destinations: see Layout::scratch. wgrad runs last, when W's spectrum is spent.
    if (fp) backward(fY, gemm_fprop(step ? scratch_.as<cuComplex>() : freq_[fY].as<cuComplex>()), t.y);
    if (dg) backward(fX, gemm_dgrad(step ? scratch_.as<cuComplex>() : freq_[fX].as<cuComplex>()), t.dx);
    if (wg) backward(fW, gemm_wgrad(freq_[fW].as<cuComplex>()), t.dw);
    // A lone fprop leaves FFT(x) and FFT(w) in freq_[fX], freq_[fW] for run_backward().
    fprop_spectra_ = p == Pass::fprop && prepared_ == Pass::step;
  }

  // FFT(dy) only, then dgrad into the step's scratch (FFT(x) must survive for wgrad) and wgrad
  // into W's buffer, spent by then.
  void run_backward(const ConvBuffers& t) override {
    if (!fprop_spectra_) return Algorithm::run_backward(t);
    fprop_spectra_ = false;
    forward(fY, t.dy);
    if (t.dx) backward(fX, gemm_dgrad(scratch_.as<cuComplex>()), t.dx);
    if (t.dw) backward(fW, gemm_wgrad(freq_[fW].as<cuComplex>()), t.dw);
  }
  bool reuses_fprop() const override { return true; }

 private:
  // Plans matching (s, p): the prepared ones, the ones a workspace_bytes() query made, or new
  // ones (kept for the next query or prepare). Planning happens only here, from
  // workspace_bytes() or prepare(), never inside run().
  const Plans& plans_for(const Shape& s, Pass p) const {
    if (active_ && active_->shape == s && active_->pass == p) return *active_;
    if (!(cache_ && cache_->shape == s && cache_->pass == p)) {
      cache_.reset();
      cache_ = make_plans(s, p);
    }
    return *cache_;
  }

  std::unique_ptr<Plans> make_plans(const Shape& s, Pass p) const {
    auto plans = std::make_unique<Plans>();
    plans->shape = s, plans->pass = p;
    const Layout lay = layout(s, p);
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    // Which inputs get transformed and which outputs come back by cuFFT (not w by its DFT).
    const bool fwd[3] = {fp || wg, (fp || dg) && !lay.dft_w, dg || wg};
    const bool inv[3] = {dg, wg && !lay.dft_w, fp};
    for (int f = 0; f < 3; ++f) {
      const int64_t counts[2] = {lay.chunk(f), lay.last_chunk(f) == lay.chunk(f) ? 0 : lay.last_chunk(f)};
      for (int k = 0; k < 2; ++k) {
        if (counts[k] == 0) continue;
        if (fwd[f]) plans->fwd[f][k] = make_plan(s, lay, counts[k], true, plans->work_bytes);
        if (inv[f]) plans->inv[f][k] = make_plan(s, lay, counts[k], false, plans->work_bytes);
      }
    }
    // Every plan gets a real work area even when it asks for none: cuFFT may refuse to execute
    // a plan without one once auto-allocation is off.
    plans->work_bytes = std::max<std::size_t>(plans->work_bytes, 256);
    return plans;
  }

  // In-place batched R2C (forward) or C2R over `count` planes in the grid; work_bytes grows to
  // the largest work area any plan needs (they run one after another and share it).
  static cufftHandle make_plan(const Shape& s, const Layout& lay, int64_t count, bool forward, std::size_t& work_bytes) {
    const int rank = s.dims;
    long long n[kMaxDims], real_embed[kMaxDims], cplx_embed[kMaxDims];
    for (int r = 0; r < rank; ++r) {
      const int i = kMaxDims - rank + r;
      n[r] = real_embed[r] = cplx_embed[r] = lay.nf[i];
    }
    real_embed[rank - 1] = lay.pitch;  // in-place R2C pads the last dim
    cplx_embed[rank - 1] = lay.pitch / 2;
    const long long real_dist = 2 * lay.bins, cplx_dist = lay.bins;
    cufftHandle plan = 0;
    CB_CUFFT(cufftCreate(&plan));
    std::size_t work = 0;
    try {
      CB_CUFFT(cufftSetAutoAllocation(plan, 0));  // one shared work area, allocated by prepare()
      if (forward)
        CB_CUFFT(cufftMakePlanMany64(plan, rank, n, real_embed, 1, real_dist, cplx_embed, 1, cplx_dist, CUFFT_R2C, count,
                                     &work));
      else
        CB_CUFFT(cufftMakePlanMany64(plan, rank, n, cplx_embed, 1, cplx_dist, real_embed, 1, real_dist, CUFFT_C2R, count,
                                     &work));
    } catch (...) {
      cufftDestroy(plan);
      throw;
    }
    work_bytes = std::max(work_bytes, work);
    return plan;
  }

  Layout layout(const Shape& s, Pass p) const {
    return Layout(s, p, opt_.fft_size, opt_.compression, own_, opt_.filter_spectra, opt_.fft_grid_bytes);
  }

  // The DFT over the filter's taps for the kept bins, row-major (kept x taps): forward
  // e^{-i theta}, as cuFFT's R2C; inverse c e^{+i theta} / total, c = 2 for the bins whose
  // conjugate partner the half-spectrum leaves out (0 < fw < Nw/2), as a C2R sums them.
  // theta = 2 pi f . r, r the tap's position in the grid (dilated), f the bin's frequency.
  void upload_filter_dft(const Shape& s, const Layout& lay) {
    std::vector<int64_t> rows;
    if (lay.band_limited()) {
      rows = band_limit_bins(lay.nf, opt_.compression);
    } else {
      rows.resize(static_cast<size_t>(lay.bins));
      for (int64_t b = 0; b < lay.bins; ++b) rows[static_cast<size_t>(b)] = b;
    }
    const int64_t nwc = lay.nf[2] / 2 + 1;
    std::vector<cuComplex> fwd(static_cast<size_t>(lay.kept * lay.taps)), inv(fwd.size());
    constexpr double kTwoPi = 6.283185307179586476925;
    for (int64_t row = 0; row < lay.kept; ++row) {
      const int64_t b = rows[static_cast<size_t>(row)];
      const int64_t f[3] = {b / nwc / lay.nf[1], (b / nwc) % lay.nf[1], b % nwc};
      const bool paired = f[2] > 0 && 2 * f[2] < lay.nf[2];  // its partner -f is not stored
      const double c = (paired ? 2.0 : 1.0) / static_cast<double>(lay.total());
      for (int64_t t = 0; t < lay.taps; ++t) {
        const int64_t r[3] = {t / (s.kernel[1] * s.kernel[2]), (t / s.kernel[2]) % s.kernel[1], t % s.kernel[2]};
        double turns = 0;  // theta / 2 pi, each term reduced exactly in integers first
        for (int i = 0; i < kMaxDims; ++i)
          turns += static_cast<double>((f[i] * r[i] * s.dilation[i]) % lay.nf[i]) / static_cast<double>(lay.nf[i]);
        const double cs = std::cos(kTwoPi * turns), sn = std::sin(kTwoPi * turns);
        const size_t at = static_cast<size_t>(row * lay.taps + t);
        fwd[at] = make_cuComplex(static_cast<float>(cs), static_cast<float>(-sn));
        inv[at] = make_cuComplex(static_cast<float>(c * cs), static_cast<float>(c * sn));
      }
    }
    const std::size_t bytes = fwd.size() * sizeof(cuComplex);
    if (lay.w_in) {
      dft_fwd_ = cuda::DeviceBuffer(bytes);
      CB_CUDA(cudaMemcpyAsync(dft_fwd_.get(), fwd.data(), bytes, cudaMemcpyHostToDevice, stream_));
    }
    if (lay.w_out) {
      dft_inv_ = cuda::DeviceBuffer(bytes);
      CB_CUDA(cudaMemcpyAsync(dft_inv_.get(), inv.data(), bytes, cudaMemcpyHostToDevice, stream_));
    }
    CB_CUDA(cudaStreamSynchronize(stream_));  // the host matrices go out of scope
  }

  // FFT(w) frequency-major (kept x planes, row-major) = the DFT (kept x taps) times w^T, a chunk
  // of planes at a time (w as complex in the grid): in cuBLAS's column-major terms the chunk's
  // rows of C (planes x kept, ldc = planes) = op_T(w as complex, taps x count) * DFT^T, the DFT's
  // row-major storage being DFT^T column-major. w's planes keep their order (the filter's
  // group-major order is its natural one).
  void forward_filter_dft(const float* w) {
    const int planes = int(layout_.planes[fW]), taps = int(layout_.taps);
    for (int64_t first = 0; first < planes; first += layout_.chunk(fW)) {
      const int count = int(std::min(layout_.chunk(fW), planes - first));
      const int64_t total = int64_t(count) * taps;
      if (cuda::index_fits_int32(total))
        to_complex_kernel<int32_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(w + first * taps,
                                                                                         grid_.as<float2>(), int32_t(total));
      else
        to_complex_kernel<int64_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(w + first * taps,
                                                                                         grid_.as<float2>(), total);
      CB_LAUNCH("to_complex_kernel");
      cgemm(filter_dft_gemm(first, count));
      mark_stage(kStages[fW].forward);
    }
  }

  // dw (planes x taps, row-major) = Re(DFT^-1 (taps x kept) applied to each plane's kept bins),
  // a chunk at a time: column-major C (taps x count, in the grid) = inverse DFT^T (taps x kept) *
  // op_T(the chunk's rows of the spectrum, count x kept, ld = planes).
  void backward_filter_dft(const cuComplex* freq, float* dw) {
    const int planes = int(layout_.planes[fW]), taps = int(layout_.taps);
    for (int64_t first = 0; first < planes; first += layout_.chunk(fW)) {
      const int count = int(std::min(layout_.chunk(fW), planes - first));
      cgemm(filter_idft_gemm(freq, first, count));
      const int64_t total = int64_t(count) * taps;
      if (cuda::index_fits_int32(total))
        real_part_kernel<int32_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(grid_.as<float2>(),
                                                                                        dw + first * taps, int32_t(total));
      else
        real_part_kernel<int64_t><<<cuda::grid_for(total, kBlock), kBlock, 0, stream_>>>(grid_.as<float2>(),
                                                                                        dw + first * taps, total);
      CB_LAUNCH("real_part_kernel");
      mark_stage(kStages[fW].inverse);
    }
  }
  // The filter's DFT GEMM for `count` planes from `first` (forward_filter_dft), and its inverse
  // (backward_filter_dft).
  ComplexGemm filter_dft_gemm(int64_t first, int count) const {
    const int planes = int(layout_.planes[fW]), kept = int(layout_.kept), taps = int(layout_.taps);
    return {"filter DFT", CUBLAS_OP_T, CUBLAS_OP_N, count, kept, taps, grid_.as<cuComplex>(), taps, 0,
            dft_fwd_.as<cuComplex>(), taps, 0, freq_[fW].as<cuComplex>() + first, planes, 0, 1};
  }
  ComplexGemm filter_idft_gemm(const cuComplex* freq, int64_t first, int count) const {
    const int planes = int(layout_.planes[fW]), kept = int(layout_.kept), taps = int(layout_.taps);
    return {"filter inverse DFT", CUBLAS_OP_N, CUBLAS_OP_T, taps, count, kept, dft_inv_.as<cuComplex>(), taps, 0,
            freq + first, planes, 0, grid_.as<cuComplex>(), taps, 0, 1};
  }

  cublasStatus_t gemm_status(const ComplexGemm& g, bool gauss) {
    const cuComplex one = make_cuComplex(1, 0), zero = make_cuComplex(0, 0);
    if (gauss)
      return cublasCgemm3mStridedBatched(blas_, g.ta, g.tb, g.m, g.n, g.k, &one, g.A, g.lda, g.sa, g.B, g.ldb, g.sb,
                                         &zero, g.C, g.ldc, g.sc, g.batch);
    return cublasCgemmStridedBatched(blas_, g.ta, g.tb, g.m, g.n, g.k, &one, g.A, g.lda, g.sa, g.B, g.ldb, g.sb, &zero,
                                     g.C, g.ldc, g.sc, g.batch);
  }
  void launch_gemm(const ComplexGemm& g, bool gauss) {
    cuda::check_cublas(gemm_status(g, gauss), gauss ? "cublasCgemm3mStridedBatched" : "cublasCgemmStridedBatched",
                       __FILE__, __LINE__);
  }
  // g by cuBLAS's usual complex GEMM (4m) or Gauss's three real products per complex one (3m),
  // as prepare() planned it.
  void cgemm(const ComplexGemm& g) {
    const GemmShape shape = g.shape();
    for (const auto& [planned, product, three] : gemm_plan_)
      if (planned == shape) return launch_gemm(g, three);
    throw std::logic_error(name() + ": a complex GEMM (" + g.product + ") that prepare() did not plan");
  }

  // 4m or 3m for every complex GEMM the pass runs: forced by AlgoOptions::complex_gemm, or the
  // planner's: both timed in place on random operands (events on the stream), alternately, best
  // of three each after a warm-up; 3m where at least 5% faster (kGaussMargin), as cpu.fft
  // decides. Kept per (GEMM shape, math mode, device) for the process.
  void plan_gemms(Pass p) {
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const bool step = p == Pass::step;
    std::vector<ComplexGemm> gemms;
    if (fp) gemms.push_back(fprop_gemm(step ? scratch_.as<cuComplex>() : freq_[fY].as<cuComplex>()));
    if (dg) gemms.push_back(dgrad_gemm(step ? scratch_.as<cuComplex>() : freq_[fX].as<cuComplex>()));
    if (wg) gemms.push_back(wgrad_gemm(freq_[fW].as<cuComplex>()));
    if (layout_.dft_w) {
      const int64_t planes = layout_.planes[fW], chunk = layout_.chunk(fW);
      for (int64_t first : {int64_t{0}, (planes - 1) / chunk * chunk}) {  // a full chunk and the last
        const int count = int(std::min(chunk, planes - first));
        if (layout_.w_in) gemms.push_back(filter_dft_gemm(first, count));
        if (layout_.w_out) gemms.push_back(filter_idft_gemm(freq_[fW].as<cuComplex>(), first, count));
      }
    }

    using Key = std::tuple<GemmShape, std::string, int>;
    static std::mutex mutex;
    static std::map<Key, bool> known;
    int device = 0;
    CB_CUDA(cudaGetDevice(&device));
    bool filled = false;
    for (const ComplexGemm& g : gemms) {
      bool three = opt_.complex_gemm == "3m";
      if (opt_.complex_gemm == "planner") {
        const Key key{g.shape(), opt_.precision, device};
        std::lock_guard lock(mutex);
        if (auto it = known.find(key); it != known.end()) {
          three = it->second;
        } else {
          if (!filled) fill_operands();
          filled = true;
          three = known[key] = gauss_faster(g);
        }
      }
      gemm_plan_.emplace_back(g.shape(), std::string(g.product), three);
    }
  }

  // Random values in the buffers the GEMMs read (run() overwrites them all); the DFT matrices
  // stay.
  void fill_operands() {
    auto fill = [&](const cuda::DeviceBuffer& b) {
      const int64_t n = int64_t(b.bytes() / sizeof(float));
      if (n == 0) return;
      fill_hash_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, stream_>>>(b.as<float>(), n);
      CB_LAUNCH("fill_hash_kernel");
    };
    for (const auto& b : freq_) fill(b);
    fill(scratch_);
    fill(grid_);
  }

  // Whether 3m runs g at least 5% faster than 4m (see plan_gemms); false where cuBLAS declines 3m
  // for it (the row runs 4m, as it would have).
  bool gauss_faster(const ComplexGemm& g) {
    return second_faster([&](int v) {
      if (v == 1) return gemm_status(g, true) == CUBLAS_STATUS_SUCCESS;
      launch_gemm(g, false);
      return true;
    });
  }

  // Whether variant 1 of a launch runs at least 5% faster than variant 0 (kGaussMargin): both
  // timed alternately with events on the stream, best of three each after a warm-up round.
  // launch(v) enqueues variant v, or returns false where it cannot run (then: false).
  template <class Launch>
  bool second_faster(const Launch& launch) {
    struct Events {  // destroyed on every way out
      cudaEvent_t start = nullptr, stop = nullptr;
      ~Events() {
        if (start) cudaEventDestroy(start);
        if (stop) cudaEventDestroy(stop);
      }
    } ev;
    CB_CUDA(cudaEventCreate(&ev.start));
    CB_CUDA(cudaEventCreate(&ev.stop));
    float best[2] = {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
    for (int round = 0; round < 4; ++round)
      for (int v = 0; v < 2; ++v) {
        CB_CUDA(cudaEventRecord(ev.start, stream_));
        if (!launch(v)) return false;
        CB_CUDA(cudaEventRecord(ev.stop, stream_));
        CB_CUDA(cudaEventSynchronize(ev.stop));
        float ms = 0;
        CB_CUDA(cudaEventElapsedTime(&ms, ev.start, ev.stop));
        if (round > 0) best[v] = std::min(best[v], ms);  // round 0 warms up
      }
    return best[1] < kGaussMargin * best[0];
  }

  // The own kernels' geometry per family and direction. Lengths 32 and 64 (both dims, or 1D)
  // can run in their compiled buckets or split in two levels (fewer registers a thread, two
  // more passes through shared memory): forced by AlgoOptions::small_fft_split, or the
  // planner's, which times both on this layer's buffers (events on the stream, alternately, best
  // of three after a warm-up) and splits where at least 5% faster (kGaussMargin), as for 3m.
  void plan_own_transforms() {
    const int nh = int(layout_.nf[1]), nw = int(layout_.nf[2]);
    const bool choice = small_fft::split_lengths(nh, nw, true) && !small_fft::split_lengths(nh, nw);
    for (int f = 0; f < 3; ++f)
      for (int dir = 0; dir < 2; ++dir)
        geoms_[f][dir] = small_fft::block_geom(nh, nw, layout_.planes[f], choice && opt_.small_fft_split == "split");
    if (!choice || opt_.small_fft_split != "planner") return;
    int64_t floats = 0;  // a tensor to read from and write to: the largest family's
    for (int f = 0; f < 3; ++f) {
      const Placement pl = placement(shape_, Family(f));
      floats = std::max(floats, layout_.planes[f] * pl.ext[0] * pl.ext[1] * pl.ext[2]);
    }
    cuda::DeviceBuffer tensor;
    try {
      tensor = cuda::DeviceBuffer(floats * int64_t(sizeof(float)));
    } catch (const std::bad_alloc&) {
      (void)cudaGetLastError();  // the failed allocation's status, not an error of what follows
      return;                    // no room to time: the compiled kernels, as by default
    }
    CB_CUDA(cudaMemsetAsync(tensor.get(), 0, tensor.bytes(), stream_));
    for (int f = 0; f < 3; ++f) {
      if (f == fW && layout_.dft_w) continue;  // w's spectra come from the DFT GEMM
      for (int dir = 0; dir < 2; ++dir) {
        const cuda::BlockGeom split = small_fft::block_geom(nh, nw, layout_.planes[f], true);
        if (split_faster(f, dir == 0, geoms_[f][dir], split, tensor.as<float>())) geoms_[f][dir] = split;
      }
    }
  }

  // Whether family f's forward (or inverse) transform runs at least 5% faster split.
  bool split_faster(int f, bool forward, const cuda::BlockGeom& compiled, const cuda::BlockGeom& split,
                    float* tensor) {
    const Placement pl = placement(shape_, Family(f));
    const cuda::SpectrumAddr spec = freq_addr(f, freq_[f].as<cuComplex>());
    return second_faster([&](int v) {
      cuda::launch_small_fft(forward, forward ? tensor : nullptr, forward ? nullptr : tensor, spec, pl,
                             v ? split : compiled, 1.0f, stream_);
      CB_LAUNCH("small_fft (split or compiled)");
      return true;
    });
  }

  // cuFFT's transposes, band-limited: kept row -> bin (forward), bin -> row or -1 (inverse).
  const int* row_to_bin() const { return layout_.band_limited() ? bin_map_.as<int>() : nullptr; }
  const int* bin_to_row() const { return layout_.band_limited() ? bin_map_.as<int>() + layout_.kept : nullptr; }

  Grid grid() const {
    return {{int(layout_.nf[0]), int(layout_.nf[1]), int(layout_.nf[2])}, int(layout_.pitch), 2 * layout_.bins};
  }
  PlaneOrder order(int f) const { return {shape_.groups, layout_.outer[f], layout_.inner[f]}; }
  // A tile per 32 of `bins` x 32 of `count` planes (the planes by a grid-stride loop past 65535).
  dim3 transpose_grid(int64_t bins, int64_t count) const {
    const int64_t bt = (bins + kTile - 1) / kTile, pt = (count + kTile - 1) / kTile;
    return dim3(unsigned(bt), unsigned(std::min<int64_t>(pt, 65535)));
  }

  // Own transforms read and write the frequency-major rows directly.
  cuda::SpectrumAddr freq_addr(int f, cuComplex* freq) const {
    return {reinterpret_cast<small_fft::Cf*>(freq), layout_.planes[f], layout_.bins, order(f),
            layout_.band_limited() ? bin_map_.as<int>() : nullptr, true, kept_columns_};
  }

  // Input tensor -> zero-padded grid -> spectrum -> frequency-major [bin][g][outer][inner].
  void forward(int f, const float* src) {
    if (!src) throw std::invalid_argument(name() + ": missing input tensor");
    if (f == fW && layout_.dft_w) return forward_filter_dft(src);
    if (own_) {
      cuda::launch_small_fft(true, src, nullptr, freq_addr(f, freq_[f].as<cuComplex>()), placement(shape_, Family(f)),
                             geoms_[f][0], 1.0f, stream_);
      CB_LAUNCH("small_r2c");
      mark_stage(kStages[f].forward);  // placement, transform and transposition in one kernel
      return;
    }
    float* spec = grid_.as<float>();
    const Placement pl = placement(shape_, Family(f));
    const int64_t vol = int64_t(pl.ext[0]) * pl.ext[1] * pl.ext[2];
    const IndexSplit split(int(layout_.nf[0]), int(layout_.nf[1]), int(layout_.pitch));
    for (int64_t first = 0; first < layout_.planes[f]; first += layout_.chunk(f)) {
      const int64_t count = std::min(layout_.chunk(f), layout_.planes[f] - first);
      const int64_t total = count * 2 * layout_.bins;  // the tensor lies inside: its indices are smaller
      const float* chunk_src = src + first * vol;
      if (cuda::index_fits_int32(total))
        scatter_kernel<int32_t><<<items_grid(total, kBlock), kBlock, 0, stream_>>>(chunk_src, spec, pl, split,
                                                                                  int32_t(total));
      else
        scatter_kernel<int64_t><<<items_grid(total, kBlock), kBlock, 0, stream_>>>(chunk_src, spec, pl, split, total);
      CB_LAUNCH("scatter_kernel");
      mark_stage(kStages[f].place);
      CB_CUFFT(cufftExecR2C(active_->forward(layout_, f, count), spec, grid_.as<cufftComplex>()));
      mark_stage(kStages[f].fft);
      transpose_kernel<true><<<transpose_grid(layout_.kept, count), dim3(kTile, kRowsPerPass), 0, stream_>>>(
          grid_.as<float2>(), freq_[f].as<float2>(), first, count, layout_.planes[f], layout_.kept, layout_.bins,
          order(f), row_to_bin());
      CB_LAUNCH("transpose_kernel<to_freq>");
      mark_stage(kStages[f].to_freq);
    }
  }

  // Frequency-major GEMM result -> plane-major spectrum -> inverse -> cropped output tensor.
  void backward(int f, const cuComplex* freq, float* dst) {
    if (!dst) throw std::invalid_argument(name() + ": missing output tensor");
    if (f == fW && layout_.dft_w) return backward_filter_dft(freq, dst);
    if (own_) {
      cuda::launch_small_fft(false, nullptr, dst, freq_addr(f, const_cast<cuComplex*>(freq)),
                             placement(shape_, Family(f)), geoms_[f][1],
                             1.0f / static_cast<float>(layout_.total()), stream_);
      CB_LAUNCH("small_c2r");
      mark_stage(kStages[f].inverse);
      return;
    }
    const Placement pl = placement(shape_, Family(f));
    const int64_t vol = int64_t(pl.ext[0]) * pl.ext[1] * pl.ext[2];
    const float scale = 1.0f / static_cast<float>(layout_.total());
    const IndexSplit split(pl.ext[0], pl.ext[1], pl.ext[2]);
    for (int64_t first = 0; first < layout_.planes[f]; first += layout_.chunk(f)) {
      const int64_t count = std::min(layout_.chunk(f), layout_.planes[f] - first);
      transpose_kernel<false><<<transpose_grid(layout_.bins, count), dim3(kTile, kRowsPerPass), 0, stream_>>>(
          reinterpret_cast<const float2*>(freq), grid_.as<float2>(), first, count, layout_.planes[f], layout_.bins,
          layout_.bins, order(f), bin_to_row());
      CB_LAUNCH("transpose_kernel<to_spec>");
      mark_stage(kStages[f].to_spec);
      CB_CUFFT(cufftExecC2R(active_->inverse(layout_, f, count), grid_.as<cufftComplex>(), grid_.as<cufftReal>()));
      mark_stage(kStages[f].ifft);
      const int64_t total = count * vol;
      float* chunk_dst = dst + first * vol;
      if (cuda::index_fits_int32(count * 2 * layout_.bins))  // the grid, larger than the tensor
        gather_kernel<int32_t><<<items_grid(total, kBlock), kBlock, 0, stream_>>>(grid_.as<float>(), chunk_dst, pl,
                                                                                 grid(), split, scale, int32_t(total));
      else
        gather_kernel<int64_t><<<items_grid(total, kBlock), kBlock, 0, stream_>>>(grid_.as<float>(), chunk_dst, pl,
                                                                                 grid(), split, scale, total);
      CB_LAUNCH("gather_kernel");
      mark_stage(kStages[f].crop);
    }
  }

  int batch() const { return static_cast<int>(layout_.kept * shape_.groups); }

  // Per (bin, group), row-major: Y (N x Kg) = X (N x Cg) * W^H. cuBLAS is column-major, so it
  // computes Y^T (Kg x N) = conj(W) (Kg x Cg) * X^T (Cg x N), W stored as W^T (Cg x Kg).
  ComplexGemm fprop_gemm(cuComplex* Y) const {
    const int N = int(shape_.N), Cg = int(shape_.Cg()), Kg = int(shape_.Kg());
    return {"fprop", CUBLAS_OP_C, CUBLAS_OP_N, Kg, N, Cg, freq_[fW].as<cuComplex>(), Cg, int64_t(Kg) * Cg,
            freq_[fX].as<cuComplex>(), Cg, int64_t(N) * Cg, Y, Kg, int64_t(N) * Kg, batch()};
  }
  cuComplex* gemm_fprop(cuComplex* Y) {
    cgemm(fprop_gemm(Y));
    mark_stage("gemm fprop");
    return Y;
  }

  // DX (N x Cg) = DY (N x Kg) * W (Kg x Cg): column-major DX^T = W^T * DY^T.
  ComplexGemm dgrad_gemm(cuComplex* DX) const {
    const int N = int(shape_.N), Cg = int(shape_.Cg()), Kg = int(shape_.Kg());
    return {"dgrad", CUBLAS_OP_N, CUBLAS_OP_N, Cg, N, Kg, freq_[fW].as<cuComplex>(), Cg, int64_t(Kg) * Cg,
            freq_[fY].as<cuComplex>(), Kg, int64_t(N) * Kg, DX, Cg, int64_t(N) * Cg, batch()};
  }
  cuComplex* gemm_dgrad(cuComplex* DX) {
    cgemm(dgrad_gemm(DX));
    mark_stage("gemm dgrad");
    return DX;
  }

  // DW (Kg x Cg) = DY^H (Kg x N) * X (N x Cg): column-major DW^T (Cg x Kg) = X^T * conj(DY).
  ComplexGemm wgrad_gemm(cuComplex* DW) const {
    const int N = int(shape_.N), Cg = int(shape_.Cg()), Kg = int(shape_.Kg());
    return {"wgrad", CUBLAS_OP_N, CUBLAS_OP_C, Cg, Kg, N, freq_[fX].as<cuComplex>(), Cg, int64_t(N) * Cg,
            freq_[fY].as<cuComplex>(), Kg, int64_t(N) * Kg, DW, Cg, int64_t(Kg) * Cg, batch()};
  }
  cuComplex* gemm_wgrad(cuComplex* DW) {
    cgemm(wgrad_gemm(DW));
    mark_stage("gemm wgrad");
    return DW;
  }

  AlgoOptions opt_;
  bool own_ = false;  // cuda.fbfft: own transforms instead of cuFFT
  cudaStream_t stream_ = nullptr;
  cuda::CublasHandle handle_;
  cublasHandle_t blas_ = nullptr;
  mutable std::unique_ptr<Plans> cache_;  // made by a workspace_bytes() query
  std::unique_ptr<Plans> active_;         // those of the prepared (shape, pass)
  std::optional<Pass> prepared_;
  bool fprop_spectra_ = false;  // freq_[fX], freq_[fW] hold the last fprop's FFT(x), FFT(w)
  Shape shape_;
  Layout layout_;
  std::string fft_size_;
  cuda::DeviceBuffer grid_, freq_[3], scratch_, work_;  // in-place grid/spectrum (cuFFT); per family: frequency-major
  cuda::DeviceBuffer bin_map_;                             // kept bins (band-limited only)
  int kept_columns_ = 0;  // own transforms, band-limited: the half-spectrum columns with kept bins
  cuda::BlockGeom geoms_[3][2];  // own transforms: each family's, forward and inverse (prepare)
  cuda::DeviceBuffer dft_fwd_, dft_inv_;                   // the filter's DFT over its taps (Layout::dft_w)
  std::vector<std::tuple<GemmShape, std::string, bool>> gemm_plan_;  // per complex GEMM: its product, 3m
};

}  // namespace

std::unique_ptr<Algorithm> make_cuda_fft(const AlgoOptions& opt) { return std::make_unique<CudaFft>(opt, false); }
std::unique_ptr<Algorithm> make_cuda_fbfft(const AlgoOptions& opt) { return std::make_unique<CudaFft>(opt, true); }

}  // namespace convbench
