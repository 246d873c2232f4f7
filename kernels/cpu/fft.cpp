// cpu.fft: FFT convolution after Mathieu et al. (ICLR 2014). Every tensor is transformed with
// FFTW, the spectra are laid out frequency-major so that each bin is one small complex GEMM over
// channels (OpenBLAS cgemm), then laid back, inverse transformed and cropped. In a training step
// each forward spectrum serves two passes.
//
// Transforms run on chunks of planes in small per-thread buffers, so only the frequency-major
// copies scale with the batch. Two real planes share one complex transform (plane i as the real
// part, plane i+m as the imaginary), and a chunk is stored plane-innermost ([grid point][m], rows
// and slabs padded: GridPitch): every stage is then a complex FFT vectorised across planes
// (FFTW's SIMD codelets; its real transforms are scalar), and the copies to and from the
// frequency-major buffers are contiguous runs. Each transform is separable 1D stages that skip
// zero padding and columns without kept bins (see Stage). Band-limited (AlgoOptions::compression
// > 0, Dziedzic et al. 2019): the frequency-major buffers and the GEMMs hold only the bins of
// band_limit_bins(); the rest are zero when the inverse transform runs. Compression 0 keeps every
// bin on the same path.
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
#include <fmt/format.h>
#include <omp.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <complex>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "convbench/band_limit.hpp"
#include "convbench/cpu_algorithms.hpp"
#include "convbench/fft_size.hpp"
#include "fft_cost.hpp"
#include "fft_parts.hpp"

namespace convbench {
namespace {

using cf = std::complex<float>;

void destroy_plan(fftwf_plan& p) {
  if (!p) return;
  std::lock_guard lock(fftw_planner_mutex());
  fftwf_destroy_plan(p);
  p = nullptr;
}

struct Free {
  void operator()(cf* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<cf[], Free>;

// Whole 64-byte lines (pack's streaming stores; every chunk buffer aligned alike, as the plans
// assume). Buffers of 2 MiB and more come in transparent huge pages where the kernel offers
// them: the transposes walk the frequency-major rows a page apart, one TLB entry per row on
// 4 KiB pages.
constexpr size_t kHugePage = size_t{2} << 20;
Buffer alloc(int64_t n) {
  if (n == 0) return nullptr;
  if (n < 0 || static_cast<uint64_t>(n) > (std::numeric_limits<size_t>::max() - kHugePage) / sizeof(cf))
    throw std::bad_alloc();
  const size_t bytes = static_cast<size_t>(n) * sizeof(cf);
  const size_t align = bytes >= kHugePage ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure leaves 4 KiB pages
#endif
  return Buffer(static_cast<cf*>(p));
}

// The three tensor families, each a batch of planes sharing one transform size:
// X (x, dx: N*C planes), W (w, dw: K*Cg planes), Y (y, dy: N*K planes).
enum Family { fX = 0, fW = 1, fY = 2 };
// Stage names (Algorithm::mark_stage) of each family's forward and inverse transform.
constexpr const char* kForwardStage[3] = {"forward x", "forward w", "forward dy"};
constexpr const char* kInverseStage[3] = {"inverse dx", "inverse dw", "inverse y"};

// Frequency-major copies larger than this together cannot stay in a 32 MiB L3 until the GEMMs
// read them, so pack writes them with non-temporal stores: no read-for-ownership of lines it
// overwrites whole.
constexpr int64_t kStreamBytes = 16 << 20;

// FFTW's planner flags for AlgoOptions::fft_planning, or nothing for an unknown name. In cpu.fft's
// chunk layout, transforms of sizes without a codelet of their own (18, 24, 35, 36) ran 1.5-1.9x
// faster planned patiently than by estimate, alone and in cache; in whole layers the gain was
// mixed (see README), so estimate, deterministic and instant, stays the default.
std::optional<unsigned> fftw_flags(const std::string& planning) {
  if (planning == "estimate") return FFTW_ESTIMATE;
  if (planning == "measure") return FFTW_MEASURE;
  if (planning == "patient") return FFTW_PATIENT;
  return std::nullopt;
}

// The cost model ranks sizes by in-cache timings of their transforms, planned with FFTW_MEASURE
// under "measure", else with FFTW_ESTIMATE: planning every candidate size patiently took minutes
// on a sweep, and the planner times its finalists with the layer's own plans anyway.
const FftCostModel& cost_model(const AlgoOptions& opt) { return measured_fft_cost(opt.fft_planning == "measure"); }

// The cost model's transform sizes for a layer (costs timed on this machine).
Extent model_sizes(const Shape& s, const AlgoOptions& opt) { return choose_fft_sizes(s, opt.fft_size, cost_model(opt)); }

// The cheapest policy's choice for a layer, and how it was made (the row's detail).
struct TimedChoice {
  Extent nf;
  std::string how;
};
const TimedChoice& timed_sizes(const Shape& s, const AlgoOptions& opt);

// The sizes a layer runs: under the cheapest policy the fastest of the model's finalists, timed
// as this layer's training step (timed_sizes); otherwise the policy's.
Extent planned_sizes(const Shape& s, const AlgoOptions& opt) {
  return opt.fft_size == FftSizePolicy::cheapest ? timed_sizes(s, opt).nf : model_sizes(s, opt);
}

// Everything sized by (shape, pass, options); workspace_bytes() and prepare() both read it.
struct Layout {
  Extent nf{1, 1, 1};        // transform size per dim
  int64_t nw = 1;            // stored half-spectrum bins along the last dim: nf[2]/2+1
  int64_t bins = 0;          // half-spectrum bins per plane: Nd*Nh*nw
  int64_t total = 1;         // grid points per plane: Nd*Nh*Nw
  std::vector<int64_t> kept;  // half-spectrum bins the GEMMs see, ascending (all at compression 0)
  int64_t columns = 0;       // last-dim bins 0..columns-1 hold every kept bin
  int64_t planes[3] = {};    // per family
  int64_t ld[3] = {};        // per family: complex elements from one bin's row of planes to the next
  int64_t chunk[3] = {};     // planes per transform chunk, per family
  bool stream[3] = {};       // per family: pack with non-temporal stores (kStreamBytes)
  int64_t buffers = 0;       // chunk buffer pairs: one per thread transforming chunks concurrently
  int64_t buffer_planes = 0;  // planes each chunk buffer holds (two per complex grid)
  int64_t scratch = 0;       // complex elements of the extra GEMM output buffer (step only)

  Layout() = default;
  // sizes: given, or planned_sizes().
  Layout(const Shape& s, Pass p, const AlgoOptions& opt, int threads, const std::optional<Extent>& sizes) {
    nf = sizes ? *sizes : planned_sizes(s, opt);
    nw = nf[2] / 2 + 1;
    bins = half_spectrum_bins(nf);
    total = nf[0] * nf[1] * nf[2];
    kept = band_limit_bins(nf, opt.compression);
    for (int64_t b : kept) columns = std::max(columns, b % nw + 1);
    planes[fX] = s.N * s.C;
    planes[fW] = s.K * s.Cg();
    planes[fY] = s.N * s.K;
    for (int f = 0; f < 3; ++f) {
      ld[f] = row_pitch(planes[f]);
      // Cache-sized chunks, at least one per thread, and at least 16 planes (a 64-byte line of
      // the frequency-major buffer per bin for each half of a chunk) when there are that many.
      const int64_t by_cache = chunk_planes(total * int64_t(sizeof(float)));
      const int64_t by_threads = (planes[f] + threads - 1) / threads;
      int64_t c = std::max(std::min(by_cache, by_threads), std::min<int64_t>(16, planes[f]));
      // A multiple of 16 planes: each half of a chunk then fills whole 64-byte lines of a row.
      if (c > 16) c = (c + 8) / 16 * 16;
      chunk[f] = std::min(planes[f], c);
      buffers = std::max(buffers, parallel_chunks(f, threads) ? std::min<int64_t>(threads, chunks(f)) : 1);
      buffer_planes = std::max(buffer_planes, chunk[f]);
    }
    // Every copy is written before the GEMMs read any: together they decide what stays cached.
    const int64_t copies = (ld[fX] + ld[fW] + ld[fY]) * kept_bins() * int64_t(sizeof(cf));
    for (int f = 0; f < 3; ++f) stream[f] = copies > kStreamBytes;
    // A single pass writes its GEMM result into the frequency-major buffer of the family it
    // does not read. In a step all three are still live when fprop and dgrad run.
    if (p == Pass::step) scratch = std::max(ld[fY], ld[fX]) * kept_bins();
  }
  int64_t kept_bins() const { return static_cast<int64_t>(kept.size()); }
  // Whether last-dim column k2 of the full grid holds a kept bin or a kept bin's partner (-k2).
  bool column_kept(int64_t k2) const { return k2 < columns || k2 > nf[2] - columns; }
  int64_t chunks(int f) const { return (planes[f] + chunk[f] - 1) / chunk[f]; }
  // Several chunks: one thread per chunk with single-threaded transforms. One chunk: all threads
  // inside it (FFTW's threads, parallel scatter/transposes), e.g. a single large image.
  bool parallel_chunks(int f, int threads) const { return threads > 1 && chunks(f) >= 2; }
  // Complex grids a chunk of np planes occupies: planes i and i+m share grid i.
  static int64_t pairs(int64_t np) { return (np + 1) / 2; }
  // Complex elements a chunk buffer holds: its largest chunk's grids (see GridPitch).
  int64_t buffer_elems() const {
    int64_t most = 0;
    for (int f = 0; f < 3; ++f)
      for (int64_t np : {chunk[f], planes[f] % chunk[f]})
        if (np > 0) most = std::max(most, GridPitch(nf, pairs(np)).elems);
    return most;
  }
  // Per family a frequency-major copy of the kept bins, plus two chunk buffers per thread (the
  // stages run out of place, from one to the other).
  int64_t complex_elems() const {
    return (ld[fX] + ld[fW] + ld[fY]) * kept_bins() + scratch + 2 * buffers * buffer_elems();
  }

  // Whole 64-byte lines per row, and never a multiple of 4 KiB: rows a power-of-two apart would
  // share one cache set, and pack/unpack walk several rows at once.
  static int64_t row_pitch(int64_t planes) {
    int64_t n = (planes + 7) / 8 * 8;
    if (n * int64_t(sizeof(cf)) % 4096 == 0) n += 8;
    return n;
  }
};

// "35x36": the sizes of s's active dims, as the row's fft_size column has them.
std::string size_label(const Shape& s, const Extent& nf) {
  std::string out;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) out += fmt::format("{}{}", out.empty() ? "" : "x", nf[i]);
  return out;
}

// Where a tensor lives inside the zero-padded transform grid: element i of dim d sits at
// off[d] + i*step[d].
struct Placement {
  Extent ext, off, step;
  // Grid indices along dim d from the first element to the last: the box the tensor occupies.
  int64_t span(int d) const { return (ext[d] - 1) * step[d] + 1; }
  bool in_box(int d, int64_t i) const { return i >= off[d] && i < off[d] + span(d); }
};

// x (and dx) at offset pad; w (and dw) tap r at r*dil; dy (and y) output o at o*stride.
Placement placement(const Shape& s, int f) {
  if (f == fX) return {s.in, s.pad, {1, 1, 1}};
  if (f == fW) return {s.kernel, {0, 0, 0}, s.dilation};
  return {s.out, {0, 0, 0}, s.stride};
}

// A chunk buffer holds Layout::pairs(np) complex grids, plane-innermost: grid point g of pair i
// at GridPitch::at(g) + i. Plane q of the chunk is the real part of pair q % m when q < m, else
// the imaginary.

// Grid point of source row r (the rows of its first two dims, flattened) at its first element.
inline int64_t grid_row(const Placement& pl, const Layout& lay, int64_t r) {
  const int64_t id = r / pl.ext[1], ih = r % pl.ext[1];
  return ((pl.off[0] + id * pl.step[0]) * lay.nf[1] + pl.off[1] + ih * pl.step[1]) * lay.nf[2] + pl.off[2];
}

// Up to kTileWidth elements of a source row for every plane of a chunk, [plane][element]: scatter
// and gather transpose through it. Planes often lie a multiple of 4 KiB apart, so reading or
// writing them element by element across planes would thrash a few L1 sets; runs of a row do
// not. Per thread, grown once: 2 * pairs * min(row, kTileWidth) floats, at most the chunk's grid.
constexpr int64_t kTileWidth = 64;
float* row_tile(int64_t floats) {
  thread_local std::vector<float> tile;
  if (static_cast<int64_t>(tile.size()) < floats) tile.resize(static_cast<size_t>(floats));
  return tile.data();
}

// A row segment into or out of the tile: inline, since a call to memmove per plane and row
// (millions of 128-byte copies per step) costs more than the copy.
inline void copy_row(const float* src, int64_t n, float* dst) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

// Writes all that the forward's stages read (see CpuFft::stages), so no state survives between
// runs: into `a` the grid rows of the tensor's box (its elements, zeros between them) and the
// slices outside the box (zeros), into `b` the rows outside the box (zeros).
void scatter(const float* src, cf* a, cf* b, int64_t np, const Placement& pl, const Layout& lay, int threads) {
  const int64_t m = Layout::pairs(np), vol = pl.ext[0] * pl.ext[1] * pl.ext[2], n1 = lay.nf[1], n2 = lay.nf[2];
  const int64_t rows = pl.ext[0] * pl.ext[1], ext = pl.ext[2], step = pl.step[2] * m;
  const GridPitch grid(lay.nf, m);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
#pragma omp for schedule(static)
    for (int64_t g = 0; g < lay.total; g += n2) {
      const bool slice = pl.in_box(0, g / (n2 * n1)), box = slice && pl.in_box(1, g / n2 % n1);
      if (box || !slice) std::fill_n(a + grid.at(g), n2 * m, cf{});
      if (!box) std::fill_n(b + grid.at(g), n2 * m, cf{});
    }
    float* tile = row_tile(2 * m * std::min(ext, kTileWidth));
    // By source row, so that threads inside one chunk write disjoint grid rows.
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      cf* d = a + grid.at(grid_row(pl, lay, r));
      for (int64_t w0 = 0; w0 < ext; w0 += kTileWidth) {
        const int64_t w = std::min(kTileWidth, ext - w0);
        for (int64_t q = 0; q < np; ++q) {
          const float* row = src + q * vol + r * ext + w0;
          // The planes lie far apart, more streams than the hardware prefetcher follows. Every
          // line of the next row: a row need not start a line (malloc's 16-byte alignment).
          if (r + 1 < rows) {
            for (int64_t e = 0; e < w; e += 16) __builtin_prefetch(row + ext + e);
            __builtin_prefetch(row + ext + w - 1);
          }
          copy_row(row, w, tile + q * w);
        }
        if (np < 2 * m) std::fill_n(tile + np * w, w, 0.0f);  // the odd plane's partner
        for (int64_t iw = 0; iw < w; ++iw, d += step)
          for (int64_t i = 0; i < m; ++i) d[i] = cf(tile[i * w + iw], tile[(i + m) * w + iw]);
      }
    }
  }
}

// Crop (and subsample) the inverse transform, folding in FFTW's missing 1/Ntotal.
void gather(const cf* buf, float* dst, int64_t np, const Placement& pl, const Layout& lay, int threads) {
  const int64_t m = Layout::pairs(np), vol = pl.ext[0] * pl.ext[1] * pl.ext[2];
  const int64_t rows = pl.ext[0] * pl.ext[1], ext = pl.ext[2], step = pl.step[2] * m;
  const float scale = 1.0f / static_cast<float>(lay.total);
  const GridPitch grid(lay.nf, m);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float* tile = row_tile(2 * m * std::min(ext, kTileWidth));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const cf* s = buf + grid.at(grid_row(pl, lay, r));
      for (int64_t w0 = 0; w0 < ext; w0 += kTileWidth) {
        const int64_t w = std::min(kTileWidth, ext - w0);
        for (int64_t iw = 0; iw < w; ++iw, s += step)
          for (int64_t i = 0; i < m; ++i) {
            tile[i * w + iw] = s[i].real() * scale;
            tile[(i + m) * w + iw] = s[i].imag() * scale;
          }
        for (int64_t q = 0; q < np; ++q) {
          float* row = dst + q * vol + r * ext + w0;
          // As in scatter: the next row's lines, fetched for writing (a partial line is read first).
          if (r + 1 < rows) {
            for (int64_t e = 0; e < w; e += 16) __builtin_prefetch(row + ext + e, 1);
            __builtin_prefetch(row + ext + w - 1, 1);
          }
          copy_row(tile + q * w, w, row);
        }
      }
    }
  }
}

// Spectra of a chunk's pairs -> frequency-major rows of the kept half-spectrum bins:
// freq[j * ld + q] = spectrum of plane q at kept[j]. A pair's grid holds Z = X_i + i X_{i+m}, so
// X_i(k) = (Z(k) + conj Z(-k)) / 2 and X_{i+m}(k) = (Z(k) - conj Z(-k)) / 2i. With `stream` and
// halves of whole 64-byte lines the rows go out as non-temporal stores (a partial line would cost
// a read instead of saving one); x86 only.
void pack(const cf* buf, int64_t np, const Layout& lay, cf* freq, int64_t ld, [[maybe_unused]] bool stream,
          int threads) {
  const int64_t m = Layout::pairs(np), nk = lay.kept_bins();
  const int64_t n0 = lay.nf[0], n1 = lay.nf[1], n2 = lay.nf[2], nw = lay.nw;
  const GridPitch grid(lay.nf, m);
  [[maybe_unused]] const bool lines = stream && np == 2 * m && m % 8 == 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
#pragma omp for schedule(static) nowait
    for (int64_t j = 0; j < nk; ++j) {
      const int64_t b = lay.kept[j], k2 = b % nw, k1 = (b / nw) % n1, k0 = b / (nw * n1);
      const float* zp = reinterpret_cast<const float*>(buf + grid.at(k0, k1, k2));
      const float* zm = reinterpret_cast<const float*>(buf + grid.at((n0 - k0) % n0, (n1 - k1) % n1, (n2 - k2) % n2));
      float* lo = reinterpret_cast<float*>(freq + j * ld);
      float* hi = lo + 2 * m;
#if defined(__SSE2__)
      if (lines && reinterpret_cast<uintptr_t>(lo) % 64 == 0) {
        const __m128 conj = _mm_setr_ps(1, -1, 1, -1), half = _mm_set1_ps(0.5f);
        const __m128 rot = _mm_setr_ps(0.5f, -0.5f, 0.5f, -0.5f);
        for (int64_t i = 0; i < 2 * m; i += 4) {
          const __m128 a = _mm_loadu_ps(zp + i), c = _mm_mul_ps(_mm_loadu_ps(zm + i), conj);
          const __m128 d = _mm_sub_ps(a, c);  // (dr, di) -> (di, -dr) / 2
          _mm_stream_ps(lo + i, _mm_mul_ps(_mm_add_ps(a, c), half));
          _mm_stream_ps(hi + i, _mm_mul_ps(_mm_shuffle_ps(d, d, _MM_SHUFFLE(2, 3, 0, 1)), rot));
        }
        continue;
      }
#endif
      for (int64_t i = 0; i < m; ++i) {
        lo[2 * i] = 0.5f * (zp[2 * i] + zm[2 * i]);
        lo[2 * i + 1] = 0.5f * (zp[2 * i + 1] - zm[2 * i + 1]);
      }
      for (int64_t i = 0; i < np - m; ++i) {
        hi[2 * i] = 0.5f * (zp[2 * i + 1] + zm[2 * i + 1]);
        hi[2 * i + 1] = -0.5f * (zp[2 * i] - zm[2 * i]);
      }
    }
    // Non-temporal stores are weakly ordered: each thread completes its own before anyone reads.
#if defined(__SSE2__)
    if (lines) _mm_sfence();
#endif
  }
}

constexpr int64_t kUnpackAhead = 16;  // grid points unpack prefetches ahead: ~ one DRAM latency of copying

// The inverse of pack: every grid point of a pair gets Z = X_i + i X_{i+m}, from the half
// spectrum's bin or, past it, the conjugate of its Hermitian partner's; zero where band-limiting
// dropped the bin. source[g] = 2 * (kept index) + (1 if conjugated), or kDropped, or
// kDroppedColumn in the last-dim columns without a kept bin, which are zeroed in `columns_too`
// as well when given (see CpuFft::stages).
constexpr int32_t kDropped = -1, kDroppedColumn = -2;
void unpack(const cf* freq, int64_t ld, const Layout& lay, const std::vector<int32_t>& source, cf* buf,
            cf* columns_too, int64_t np, int threads) {
  const int64_t m = Layout::pairs(np), total = lay.total;
  const GridPitch grid(lay.nf, m);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t g = 0; g < total; ++g) {
    float* z = reinterpret_cast<float*>(buf + grid.at(g));
    const int32_t s = source[static_cast<size_t>(g)];
    if (s < 0) {
      std::fill(z, z + 2 * m, 0.0f);
      if (s == kDroppedColumn && columns_too) std::fill_n(columns_too + grid.at(g), m, cf{});
      continue;
    }
    // Rows lie a row of planes apart, mostly out of cache: fetch a few ahead of the copy.
    if (g + kUnpackAhead < total)
      if (const int32_t t = source[static_cast<size_t>(g + kUnpackAhead)]; t >= 0)
        for (int64_t i = 0; i < np; i += 8) __builtin_prefetch(freq + (t >> 1) * ld + i);
    const float* a = reinterpret_cast<const float*>(freq + (s >> 1) * ld);  // X_i
    const float* b = a + 2 * m;                                              // X_{i+m}
    const float sg = (s & 1) ? -1.0f : 1.0f;  // conjugated: imaginary parts negated
    for (int64_t i = 0; i < np - m; ++i) {
      z[2 * i] = a[2 * i] - sg * b[2 * i + 1];
      z[2 * i + 1] = sg * a[2 * i + 1] + b[2 * i];
    }
    for (int64_t i = np - m; i < m; ++i) z[2 * i] = a[2 * i], z[2 * i + 1] = sg * a[2 * i + 1];
  }
}

// A multi-dim transform as separable 1D complex stages (FFTW guru plans), each vectorised across
// the pairs, so that each stage skips what it need not touch: the forward starts from the rows of
// the grid the tensor occupies (the rest is zero padding: a 3x3 kernel fills 3 of 35 rows), and
// the stages after it, the inverse's before the last, run only on the columns that hold kept bins
// or their Hermitian partners (fewer with compression) and the slices that hold data or are
// cropped. Each step (the stages along one dim) runs out of place, from one chunk buffer into
// the other: in place, FFTW copies each transform of a size without its own codelet (35, 18)
// through a buffer of its own.
struct Stage {
  fftwf_plan plan;  // not owned
  int64_t offset;   // complex elements from the chunk buffer's start
};
using Step = std::vector<Stage>;

// Runs the steps from chunk buffer `a`, each into the other buffer; returns the one holding the
// result.
cf* execute(const std::vector<Step>& steps, cf* a, cf* b) {
  for (const Step& step : steps) {
    for (const Stage& st : step)
      fftwf_execute_dft(st.plan, reinterpret_cast<fftwf_complex*>(a + st.offset),
                        reinterpret_cast<fftwf_complex*>(b + st.offset));
    std::swap(a, b);
  }
  return a;
}

class CpuFft final : public Algorithm {
 public:
  // sizes: the transform sizes to run, instead of the planner's (timed_sizes runs candidates).
  explicit CpuFft(const AlgoOptions& opt, std::optional<Extent> sizes = std::nullopt)
      : opt_(opt), sizes_(std::move(sizes)) {}
  ~CpuFft() override { release(); }
  CpuFft(const CpuFft&) = delete;
  CpuFft& operator=(const CpuFft&) = delete;

  std::string name() const override { return "cpu.fft"; }
  std::string description() const override {
    return "FFTW (two real planes per complex transform) + per-frequency complex GEMM (OpenBLAS cgemm, or cgemm3m "
           "where timed faster); 1D/2D/3D, pad, stride, dilation, groups; step reuses FFT(x), FFT(w), FFT(dy); "
           "band-limited (compression)";
  }
  std::string supports(const Shape&, Pass) const override {
    if (!fftw_flags(opt_.fft_planning)) return "fft_planning '" + opt_.fft_planning + "' is not estimate, measure or patient";
    return fft_options_refusal(opt_);
  }
  std::size_t workspace_bytes(const Shape& s, Pass p) const override {
    return static_cast<std::size_t>(Layout(s, p, opt_, threads(), sizes_).complex_elems()) * sizeof(cf);
  }
  std::string fft_size() const override { return fft_size_; }
  // How the cheapest policy chose the sizes: the finalists' step times, or why the model's pick.
  std::string detail() const override { return detail_; }
  bool supports_compression() const override { return true; }
  bool uses_option(std::string_view field) const override { return field == "fft_planning" || field == "complex_gemm"; }
  bool fft_method() const override { return true; }
  bool plans_fft_sizes() const override { return true; }
  Extent transform_sizes(const Shape& s, Pass) const override { return sizes_ ? *sizes_ : planned_sizes(s, opt_); }
  // At the model's own sizes: the tile planner asks it of many tile shapes, too many to time.
  double modelled_cost(const Shape& s, Pass p) const override {
    return fft_conv_cost(s, p, sizes_ ? *sizes_ : model_sizes(s, opt_), opt_.compression,
                         cost_model(opt_));
  }

  void prepare(const Shape& s, Pass p) override {
    release();
    if (std::string why = supports(s, p); !why.empty()) throw std::invalid_argument("cpu.fft: " + why);
    threads_ = threads();
    Layout lay(s, p, opt_, threads_, sizes_);
    if (2 * lay.bins > std::numeric_limits<int>::max() || lay.buffer_elems() > std::numeric_limits<int>::max() ||
        lay.planes[fX] > std::numeric_limits<int>::max() ||
        lay.planes[fW] > std::numeric_limits<int>::max() || lay.planes[fY] > std::numeric_limits<int>::max())
      throw std::length_error("cpu.fft: " + s.to_string() + " exceeds FFTW's int-sized plan interface");
    for (int f = 0; f < 3; ++f) freq_[f] = alloc(lay.ld[f] * lay.kept_bins());
    scratch_ = alloc(lay.scratch);
    for (int64_t b = 0; b < 2 * lay.buffers; ++b) chunk_buf_.push_back(alloc(lay.buffer_elems()));

    // Where unpack finds each grid point's value (see there).
    std::vector<int32_t> slot(static_cast<size_t>(lay.bins), -1);
    for (size_t j = 0; j < lay.kept.size(); ++j) slot[static_cast<size_t>(lay.kept[j])] = static_cast<int32_t>(j);
    const int64_t n0 = lay.nf[0], n1 = lay.nf[1], n2 = lay.nf[2];
    source_.assign(static_cast<size_t>(lay.total), kDropped);
    for (int64_t g = 0; g < lay.total; ++g) {
      const int64_t k2 = g % n2, k1 = (g / n2) % n1, k0 = g / (n2 * n1);
      if (!lay.column_kept(k2)) {
        source_[static_cast<size_t>(g)] = kDroppedColumn;
        continue;
      }
      const bool stored = k2 < lay.nw;  // else the partner (-k) is
      const int64_t b = stored ? (k0 * n1 + k1) * lay.nw + k2
                               : (((n0 - k0) % n0) * n1 + (n1 - k1) % n1) * lay.nw + (n2 - k2);
      if (const int32_t j = slot[static_cast<size_t>(b)]; j >= 0) source_[static_cast<size_t>(g)] = 2 * j + !stored;
    }

    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const bool fwd[3] = {fp || wg, fp || dg, dg || wg};  // which inputs get transformed
    const bool inv[3] = {dg, wg, fp};                     // which outputs come back
    for (int f = 0; f < 3; ++f) {
      // Stages for a full chunk and for the last, shorter one.
      const int64_t sizes[2] = {lay.chunk[f], lay.planes[f] % lay.chunk[f]};
      const int nthreads = lay.parallel_chunks(f, threads_) ? 1 : threads_;
      for (int k = 0; k < 2; ++k) {
        if (sizes[k] == 0) continue;
        if (fwd[f]) fwd_[f][k] = stages(s, lay, placement(s, f), sizes[k], nthreads, true);
        if (inv[f]) inv_[f][k] = stages(s, lay, placement(s, f), sizes[k], nthreads, false);
      }
    }

    fft_size_ = size_label(s, lay.nf);
    detail_ = !sizes_ && opt_.fft_size == FftSizePolicy::cheapest ? timed_sizes(s, opt_).how : "";
    shape_ = s;
    layout_ = std::move(lay);
    prepared_ = p;
    fprop_spectra_ = false;
    choose_products(p);
    constexpr const char* kGemmName[3] = {"fprop", "dgrad", "wgrad"};
    std::string gauss_list;
    for (int q = 0; q < 3; ++q)
      if (gauss_[q]) gauss_list += std::string(gauss_list.empty() ? "" : ", ") + kGemmName[q];
    if (!gauss_list.empty()) detail_ += (detail_.empty() ? "" : "; ") + ("complex GEMMs 3m (Gauss): " + gauss_list);
    if (opt_.complex_gemm == "3m" && !gauss_allowed())
      detail_ += (detail_.empty() ? "" : "; ") + std::string("complex GEMMs 4m: 3m needs OpenBLAS single-threaded");
    if (opt_.fft_planning != "estimate") detail_ += (detail_.empty() ? "" : "; ") + ("FFTW " + opt_.fft_planning + " plans");
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_) throw std::logic_error("cpu.fft: run() before prepare()");
    if (!pass_covered(*prepared_, p))
      throw std::logic_error("cpu.fft: prepared for " + std::string(to_string(*prepared_)) + ", cannot run " +
                             std::string(to_string(p)));
    const Shape& s = shape_;
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const Placement px = placement(s, fX), pw = placement(s, fW), py = placement(s, fY);

    if (!t.x && (fp || wg)) throw std::invalid_argument("cpu.fft: missing input tensor x");
    if (!t.w && (fp || dg)) throw std::invalid_argument("cpu.fft: missing input tensor w");
    if (!t.dy && (dg || wg)) throw std::invalid_argument("cpu.fft: missing input tensor dy");
    if ((fp && !t.y) || (dg && !t.dx) || (wg && !t.dw)) throw std::invalid_argument("cpu.fft: missing output tensor");
    if (fp || wg) forward(fX, t.x, px);
    if (fp || dg) forward(fW, t.w, pw);
    if (dg || wg) forward(fY, t.dy, py);
    // GEMM destinations: see Layout::scratch. wgrad runs last, when W's spectrum is spent.
    if (fp) backward(fY, gemm_fprop(p == Pass::step ? scratch_.get() : freq_[fY].get()), t.y, py);
    if (dg) backward(fX, gemm_dgrad(p == Pass::step ? scratch_.get() : freq_[fX].get()), t.dx, px);
    if (wg) backward(fW, gemm_wgrad(freq_[fW].get()), t.dw, pw);
    // A lone fprop leaves FFT(x) and FFT(w) in freq_[fX], freq_[fW] for run_backward().
    fprop_spectra_ = p == Pass::fprop && prepared_ == Pass::step;
  }

  // FFT(dy) only, then dgrad into the step's scratch (FFT(x) must survive for wgrad) and wgrad
  // into W's buffer, spent by then: 3 transforms instead of the 4 + 1 separate passes take.
  void run_backward(const ConvBuffers& t) override {
    if (!fprop_spectra_) return Algorithm::run_backward(t);
    fprop_spectra_ = false;
    if (!t.dy) throw std::invalid_argument("cpu.fft: missing input tensor dy");
    const Placement px = placement(shape_, fX), pw = placement(shape_, fW), py = placement(shape_, fY);
    forward(fY, t.dy, py);
    if (t.dx) backward(fX, gemm_dgrad(scratch_.get()), t.dx, px);
    if (t.dw) backward(fW, gemm_wgrad(freq_[fW].get()), t.dw, pw);
  }
  bool reuses_fprop() const override { return true; }

 private:
  int threads() const { return thread_count(opt_); }

  // The separable steps of the forward or inverse transform of a chunk of `np` planes for a
  // tensor at placement pl (see Stage). Executable on any pair of chunk buffers: all are equally
  // aligned and the plans address them only through the offsets.
  // What each step reads that no step before it wrote must be zero: scatter and unpack write it.
  // Forward, rows -> columns -> slices: the columns read the rows outside the box, the slices the
  // slices outside it. Inverse, slices -> columns -> rows: the rows read the columns without
  // kept bins, in the buffer unpack wrote when there are three steps, else in the other.
  std::vector<Step> stages(const Shape& s, const Layout& lay, const Placement& pl, int64_t np, int nthreads,
                           bool forward) {
    const int64_t m = Layout::pairs(np), n0 = lay.nf[0], n1 = lay.nf[1], n2 = lay.nf[2];
    const GridPitch pitch(lay.nf, m);
    const int64_t row = pitch.row, slab = pitch.slab;
    Extent lo, cnt;  // the box of grid rows/slices the tensor occupies, per dim
    for (int i = 0; i < kMaxDims; ++i) lo[i] = pl.off[i], cnt[i] = pl.span(i);
    // Vector loops as {count, input stride, output stride}; unit counts dropped.
    using Loops = std::vector<std::array<int64_t, 3>>;
    const int sign = forward ? FFTW_FORWARD : FFTW_BACKWARD;
    auto plan = [&](int64_t n, int64_t stride, Loops loops, int64_t offset) {
      loops.erase(std::remove_if(loops.begin(), loops.end(), [](const auto& l) { return l[0] == 1; }), loops.end());
      return Stage{make_plan(s, sign, n, stride, loops, offset, nthreads), offset};
    };
    // Last-dim columns [c0, c1) holding the kept bins and their partners (-k lies at n2 - k2).
    std::vector<std::pair<int64_t, int64_t>> ranges;
    if (2 * lay.columns - 1 >= n2) {
      ranges.emplace_back(0, n2);
    } else {
      ranges.emplace_back(0, lay.columns);
      if (lay.columns > 1) ranges.emplace_back(n2 - lay.columns + 1, n2);
    }
    const Step rows = {
        plan(n2, m, {{cnt[0], slab, slab}, {cnt[1], row, row}, {m, 1, 1}}, lo[0] * slab + lo[1] * row)};
    Step columns, slices;  // along dim 1, dim 0
    for (const auto& [c0, c1] : ranges) {
      if (n1 > 1)
        columns.push_back(plan(n1, row, {{cnt[0], slab, slab}, {(c1 - c0) * m, 1, 1}}, lo[0] * slab + c0 * m));
      if (n0 > 1) slices.push_back(plan(n0, slab, {{n1, row, row}, {(c1 - c0) * m, 1, 1}}, c0 * m));
    }
    std::vector<Step> out =
        forward ? std::vector<Step>{rows, columns, slices} : std::vector<Step>{slices, columns, rows};
    out.erase(std::remove_if(out.begin(), out.end(), [](const Step& st) { return st.empty(); }), out.end());
    return out;
  }

  // One guru plan, from `offset` complex elements into chunk buffer 0 to as far into buffer 1;
  // equal requests share a plan.
  fftwf_plan make_plan(const Shape& s, int sign, int64_t n, int64_t stride,
                       const std::vector<std::array<int64_t, 3>>& loops, int64_t offset, int nthreads) {
    std::vector<int64_t> key = {sign, n, stride, offset, nthreads};
    for (const auto& l : loops) key.insert(key.end(), l.begin(), l.end());
    for (const PlanEntry& e : plans_)
      if (e.key == key) return e.plan;
    const int ni = static_cast<int>(n), si = static_cast<int>(stride);
    fftwf_iodim dim{ni, si, si};
    std::vector<fftwf_iodim> vec;
    for (const auto& l : loops) vec.push_back({static_cast<int>(l[0]), static_cast<int>(l[1]), static_cast<int>(l[2])});
    auto* in = reinterpret_cast<fftwf_complex*>(chunk_buf_[0].get() + offset);
    auto* out = reinterpret_cast<fftwf_complex*>(chunk_buf_[1].get() + offset);
    const unsigned flags = fftw_flags(opt_.fft_planning).value();  // supports() refused an unknown one

    std::lock_guard lock(fftw_planner_mutex());
    fftwf_plan_with_nthreads(nthreads);
    fftwf_plan plan = fftwf_plan_guru_dft(1, &dim, static_cast<int>(vec.size()), vec.data(), in, out, sign, flags);
    if (!plan) throw std::runtime_error("cpu.fft: FFTW could not create a plan for " + s.to_string());
    plans_.push_back({std::move(key), plan});
    return plan;
  }

  // Runs body(first plane, planes, chunk buffers a and b, threads inside) over family f's chunks:
  // one thread per chunk, each with its own buffers, or one chunk with every thread inside it.
  template <class Body>
  void for_each_chunk(int f, const Body& body) {
    const Layout& lay = layout_;
    const int64_t n = lay.chunks(f), cp = lay.chunk[f], planes = lay.planes[f];
    if (lay.parallel_chunks(f, threads_)) {
#pragma omp parallel for schedule(dynamic) num_threads(static_cast<int>(std::min<int64_t>(threads_, n)))
      for (int64_t c = 0; c < n; ++c) {
        const int t = omp_get_thread_num();
        body(c * cp, std::min(cp, planes - c * cp), chunk_buf_[2 * t].get(), chunk_buf_[2 * t + 1].get(), 1);
      }
    } else {
      for (int64_t c = 0; c < n; ++c)
        body(c * cp, std::min(cp, planes - c * cp), chunk_buf_[0].get(), chunk_buf_[1].get(), threads_);
    }
  }

  // Input tensor -> zero-padded grids (two planes each) -> spectra -> frequency-major
  // [kept bin][plane], a chunk of planes at a time.
  void forward(int f, const float* src, const Placement& pl) {
    const int64_t vol = pl.ext[0] * pl.ext[1] * pl.ext[2];
    for_each_chunk(f, [&](int64_t p0, int64_t np, cf* a, cf* b, int inner) {
      scatter(src + p0 * vol, a, b, np, pl, layout_, inner);
      const cf* spectra = execute(fwd_[f][np == layout_.chunk[f] ? 0 : 1], a, b);
      pack(spectra, np, layout_, freq_[f].get() + p0, layout_.ld[f], layout_.stream[f], inner);
    });
    mark_stage(kForwardStage[f]);
  }

  // Frequency-major GEMM result -> grids of pairs of spectra (dropped bins zero) -> inverse ->
  // cropped output tensor.
  void backward(int f, const cf* freq, float* dst, const Placement& pl) {
    const int64_t vol = pl.ext[0] * pl.ext[1] * pl.ext[2];
    for_each_chunk(f, [&](int64_t p0, int64_t np, cf* a, cf* b, int inner) {
      const std::vector<Step>& steps = inv_[f][np == layout_.chunk[f] ? 0 : 1];
      unpack(freq + p0, layout_.ld[f], layout_, source_, a, steps.size() % 2 == 0 ? b : nullptr, np, inner);
      gather(execute(steps, a, b), dst + p0 * vol, np, pl, layout_, inner);
    });
    mark_stage(kInverseStage[f]);
  }

  // body(b) for the first `count` kept bins (-1: all), across threads_ threads, where OpenBLAS
  // (OpenMP build) runs each GEMM on one thread. Even with fewer bins than threads: OpenBLAS
  // threading a GEMM from outside a parallel region took 4 ms for a 16 x 64 x 64 cgemm that a
  // thread does in 0.01 (the other core in libgomp's spin-wait), and its threaded cgemm3m hangs
  // (gauss_allowed).
  template <class Body>
  void for_each_bin(const Body& body, int64_t count = -1) const {
    const int64_t bins = count < 0 ? layout_.kept_bins() : std::min(count, layout_.kept_bins());
#pragma omp parallel for schedule(dynamic) num_threads(threads_)
    for (int64_t b = 0; b < bins; ++b) body(b);
  }

  // The per-bin products of fprop (q = 0: Y_b (N x K) = X_b (N x C) * W_b^H), dgrad (1: DX_b =
  // DY_b * W_b) or wgrad (2: DW_b (K x Cg) = DY_b^H * X_b) into dst, block-diagonal over groups,
  // by cgemm or (gauss) cgemm3m; the first `bins` kept bins (-1: all).
  void products(int q, cf* dst, bool gauss, int64_t bins = -1) const {
    const Shape& s = shape_;
    const int64_t N = s.N, C = s.C, K = s.K, Cg = s.Cg(), Kg = s.Kg();
    const int64_t ldX = layout_.ld[fX], ldW = layout_.ld[fW], ldY = layout_.ld[fY];
    const cf *X = freq_[fX].get(), *W = freq_[fW].get(), *DY = freq_[fY].get();
    for_each_bin([&](int64_t b) {
      for (int64_t g = 0; g < s.groups; ++g) {
        if (q == 0)
          cgemm(false, true, N, Kg, Cg, X + b * ldX + g * Cg, C, W + b * ldW + g * Kg * Cg, Cg,
                dst + b * ldY + g * Kg, K, gauss);
        else if (q == 1)
          cgemm(false, false, N, Cg, Kg, DY + b * ldY + g * Kg, K, W + b * ldW + g * Kg * Cg, Cg,
                dst + b * ldX + g * Cg, C, gauss);
        else
          cgemm(true, false, Kg, Cg, N, DY + b * ldY + g * Kg, K, X + b * ldX + g * Cg, C,
                dst + b * ldW + g * Kg * Cg, Cg, gauss);
      }
    }, bins);
  }
  cf* gemm_fprop(cf* dst) const {
    products(0, dst, gauss_[0]);
    mark_stage("gemm fprop");
    return dst;
  }
  cf* gemm_dgrad(cf* dst) const {
    products(1, dst, gauss_[1]);
    mark_stage("gemm dgrad");
    return dst;
  }
  cf* gemm_wgrad(cf* dst) const {
    products(2, dst, gauss_[2]);
    mark_stage("gemm wgrad");
    return dst;
  }

  // cgemm or cgemm3m for each product pass p runs: forced by AlgoOptions::complex_gemm, or the
  // planner's: both timed on this layer's whole per-bin loop as run() calls it (random spectra in
  // the prepared buffers, every thread), alternately, best of three each after a warm-up; 3m
  // where at least 5% faster (kGaussMargin). A GEMM in cache favours 3m more than this loop over
  // spectra in memory does. A loop over 8e9 flops is timed over its first bins (a few dozen ms a
  // run). Kept per (product, shape, kept bins, threads) for the process. Candidates of the size
  // planner (sizes_ given) are timed with cgemm.
  // 3m only where OpenBLAS runs each GEMM on one thread: inside an active OpenMP region (the bins
  // across two or more threads) or when OpenMP allows one thread. Otherwise (threads = 1 under
  // OMP_NUM_THREADS=2) it threads the GEMM, and its threaded cgemm3m (0.3.21, Debian 12's) never
  // returns on any product it splits across threads (64^3, 100^3, 900 x 8 x 8; every transposition).
  bool gauss_allowed() const { return threads_ > 1 || omp_get_max_threads() == 1; }
  void choose_products(Pass p) {
    using Key = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int>;
    static std::mutex mutex;
    static std::map<Key, bool> known;
    const Shape& s = shape_;
    const int64_t macs[3] = {s.N * s.Kg() * s.Cg(), s.N * s.Cg() * s.Kg(), s.Kg() * s.Cg() * s.N};
    bool filled = false;
    for (int q = 0; q < 3; ++q) {
      gauss_[q] = false;
      const Pass pass = std::array<Pass, 3>{Pass::fprop, Pass::dgrad, Pass::wgrad}[size_t(q)];
      if (!pass_covered(p, pass) || macs[q] <= 64) continue;  // the smallest run inline, not by the BLAS
      if (!gauss_allowed()) continue;
      if (opt_.complex_gemm != "planner" || sizes_) {
        gauss_[q] = opt_.complex_gemm == "3m";
        continue;
      }
      const Key key{q, s.N, s.Kg(), s.Cg(), s.groups, layout_.kept_bins(), threads_};
      std::lock_guard lock(mutex);
      if (auto it = known.find(key); it != known.end()) {
        gauss_[q] = it->second;
        continue;
      }
      if (!filled) {
        for (int f = 0; f < 3; ++f)
          fill_random(reinterpret_cast<float*>(freq_[f].get()), 2 * layout_.ld[f] * layout_.kept_bins());
        filled = true;
      }
      cf* dst = freq_[q == 0 ? fY : q == 1 ? fX : fW].get();
      const int64_t bins = std::max<int64_t>(threads_, int64_t(8e9 / (8.0 * double(macs[q] * s.groups))));
      double best[2] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
      for (int round = 0; round < 4; ++round)
        for (int g = 0; g < 2; ++g) {
          const auto t0 = std::chrono::steady_clock::now();
          products(q, dst, g == 1, bins);
          const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          if (round > 0) best[g] = std::min(best[g], t);  // round 0 warms up
        }
      gauss_[q] = known[key] = best[1] < kGaussMargin * best[0];
    }
  }

  void release() {
    for (const PlanEntry& e : plans_) {
      fftwf_plan p = e.plan;
      destroy_plan(p);
    }
    plans_.clear();
    for (int f = 0; f < 3; ++f) {
      for (int k = 0; k < 2; ++k) fwd_[f][k].clear(), inv_[f][k].clear();
      freq_[f].reset();
    }
    chunk_buf_.clear();
    scratch_.reset();
    source_.clear();
    prepared_.reset();
    fft_size_.clear();
    detail_.clear();
  }

  struct PlanEntry {
    std::vector<int64_t> key;  // what make_plan was asked for
    fftwf_plan plan;
  };

  AlgoOptions opt_;
  std::optional<Extent> sizes_;
  std::optional<Pass> prepared_;
  bool fprop_spectra_ = false;  // freq_[fX], freq_[fW] hold the last fprop's FFT(x), FFT(w)
  bool gauss_[3] = {};          // fprop's, dgrad's, wgrad's products by cgemm3m
  Shape shape_;
  Layout layout_;
  int threads_ = 1;
  std::string fft_size_, detail_;
  Buffer freq_[3], scratch_;                         // per family: frequency-major kept bins
  std::vector<Buffer> chunk_buf_;                    // per thread two: a chunk's grids / spectra
  std::vector<int32_t> source_;                      // per grid point: where unpack finds it
  std::vector<PlanEntry> plans_;                     // owns every plan
  std::vector<Step> fwd_[3][2], inv_[3][2];          // per family: full chunk, last chunk
};

// Planning time per layer that timing the finalists may take (FFTW's time limit, in spirit):
// past it the model's pick stands.
constexpr double kPlanLimitNs = 10e9;
constexpr size_t kFinalists = 3;

// Runs each finalist's exact training step on the layer, once to warm up and then in two rounds,
// round-robin (time_finalist_steps); pick_cheapest of the best times within kTimedTolerance
// (of the first finalists only where timing all would exceed kPlanLimitNs). nullopt, with the
// reason in `how`, when not even two fit or a finalist cannot run (no memory: prepare() then
// says why for the row).
std::optional<Extent> time_finalists(const Shape& s, const AlgoOptions& opt, const std::vector<Extent>& finalists,
                                     std::string& how) {
  AlgoOptions exact = opt;
  exact.compression = 0;
  std::vector<double> modelled;
  for (const Extent& nf : finalists) modelled.push_back(fft_conv_cost(s, Pass::step, nf, 0, cost_model(opt)));
  const FinalistTimes timed = time_finalist_steps(
      s, modelled, thread_count(opt), [&](size_t i) { return std::make_unique<CpuFft>(exact, finalists[i]); },
      kPlanLimitNs);
  if (timed.best_ns.empty()) return how = "planner: the model's pick (" + timed.not_timed + ")", std::nullopt;
  how = "planner timed steps:";
  const std::vector<Extent> ran(finalists.begin(), finalists.begin() + timed.best_ns.size());
  for (size_t i = 0; i < ran.size(); ++i)
    how += fmt::format("{} {} {:.3g} ms", i ? "," : "", size_label(s, ran[i]), timed.best_ns[i] / 1e6);
  if (!timed.not_timed.empty()) how += " (" + timed.not_timed + ")";
  return pick_cheapest(ran, timed.best_ns, kTimedTolerance);
}

// The cheapest policy on cpu.fft: the model's finalists (fft_size_finalists) timed as the
// layer's step (time_finalists) with the first asker's thread count, once per layer (and
// planning flag) in the process, so that every pass, compression and thread count of a layer
// runs the same sizes; the model's pick where they are not timed.
const TimedChoice& timed_sizes(const Shape& s, const AlgoOptions& opt) {
  static std::mutex mutex;
  static std::map<std::string, TimedChoice> chosen;  // node-based: references stay valid
  const std::string key = s.to_string() + "/" + opt.fft_planning;
  std::lock_guard lock(mutex);
  if (auto it = chosen.find(key); it != chosen.end()) return it->second;
  const std::vector<Extent> finalists = fft_size_finalists(s, cost_model(opt), kFinalists);
  std::string how = "planner: the model's pick, its only finalist";
  std::optional<Extent> pick;
  if (finalists.size() > 1) pick = time_finalists(s, opt, finalists, how);
  return chosen[key] = {pick.value_or(finalists.front()), how};
}

}  // namespace

std::unique_ptr<Algorithm> make_cpu_fft(const AlgoOptions& opt) { return std::make_unique<CpuFft>(opt); }

}  // namespace convbench
