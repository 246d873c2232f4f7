// cuda.fbfft's transform kernels, written as the phases of one thread block so that the host
// tests can run them (every thread of a phase, then the next phase: what __syncthreads()
// guarantees on the GPU) and compare them with FFTW; kernels/cuda/small_fft.cuh only launches
// them. A block owns `per_block` planes of a batch of real nh x nw transforms (nh = 1 in 1D):
//
//   forward: zero-padded grid -> shared memory (the scatter, fused) -> rows in pairs (two real
//            rows in one complex FFT) -> columns of the half-spectrum -> store each kept bin,
//            frequency-major (the transposition and the band-limiting mask, fused) or plane-major
//   inverse: the mirror, ending in the cropped, subsampled and scaled tensor
//
// Each row or column lives in one thread's registers. At the 3-smooth lengths up to 64
// (FixedLengths; 1D, or 2D with both lengths in one kernel_bucket()) the code of every row and
// column transform is compiled for its exact length (with_length, fft_fixed): every index is a
// constant after unrolling, the data stay in registers and the twiddles are compile-time
// constants (fbfft's approach, extended to mixed radix). The 3-smooth lengths above 64
// (72, 81, 96, 108, 128; 1D, or 2D with both) split in two levels of compiled lengths (Split),
// each a thread's registers, meeting in shared memory; so can 32 and 64 on request (cuda.fbfft's
// --small-fft-split, whose planner times both; the transform benchmark's cuda.fbfft_split).
// Other 7-smooth sizes up to 128 use the run-time mixed-radix stages of small_fft.hpp (local
// memory).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "convbench/fft_grid.hpp"
#include "convbench/host_device.hpp"
#include "convbench/small_fft.hpp"

namespace convbench::small_fft {

// ---- FFTs of compile-time length -------------------------------------------------------

// sin and cos of 2*pi*k/n in double, evaluable at compile time (Taylor series on [-pi, pi]).
CB_HD_CONSTEXPR void sincos_2pi(int k, int n, double& s, double& c) {
  constexpr double kPi = 3.14159265358979323846;
  double x = 2.0 * kPi * static_cast<double>(k % n) / static_cast<double>(n);
  if (x > kPi) x -= 2.0 * kPi;
  double term_s = x, term_c = 1.0;
  s = 0.0, c = 0.0;
  for (int i = 0; i < 24; ++i) {
    s += term_s, c += term_c;
    term_s *= -x * x / static_cast<double>((2 * i + 2) * (2 * i + 3));
    term_c *= -x * x / static_cast<double>((2 * i + 1) * (2 * i + 2));
  }
}

// What a length-N transform needs, all computed by the compiler: its radices (factor()), the
// input permutation (digit_reverse()) and the N-th roots of unity cos, sin(2*pi*k/N).
template <int N>
struct FixedPlan {
  Radices f;
  int perm[N];
  float c[N], s[N];
};

template <int N>
CB_HD_CONSTEXPR FixedPlan<N> make_fixed_plan() {
  FixedPlan<N> p{};
  p.f = factor(N);
  for (int i = 0; i < N; ++i) p.perm[i] = digit_reverse(i, p.f);
  for (int k = 0; k < N; ++k) {
    double s = 0, c = 0;
    sincos_2pi(k, N, s, c);
    p.c[k] = static_cast<float>(c), p.s[k] = static_cast<float>(s);
  }
  return p;
}

// The DFT of R values, R in {2, 3, 4, 5, 7}, roots e^(Sign*2*pi*i*t/R) taken from the N-th
// roots of P (R divides N). Radix 2 and 4 need no multiplications.
template <int N, int R, int Sign>
CB_HD void butterfly(Cf (&x)[R]) {
  constexpr FixedPlan<N> P = make_fixed_plan<N>();
  if constexpr (R == 2) {
    const Cf a = x[0];
    x[0] = a + x[1], x[1] = a - x[1];
  } else if constexpr (R == 4) {
    const Cf s02 = x[0] + x[2], d02 = x[0] - x[2], s13 = x[1] + x[3], d13 = x[1] - x[3];
    // d13 times e^(Sign*i*pi/2) = Sign*i
    const Cf r13 = Sign < 0 ? Cf{d13.im, -d13.re} : Cf{-d13.im, d13.re};
    x[0] = s02 + s13, x[2] = s02 - s13, x[1] = d02 + r13, x[3] = d02 - r13;
  } else {
    Cf y[R];
    CB_UNROLL
    for (int t = 0; t < R; ++t) {
      Cf acc = x[0];
      CB_UNROLL
      for (int q = 1; q < R; ++q) {
        const int k = (t * q) % R * (N / R);
        acc = t == 0 ? acc + x[q] : acc + x[q] * Cf{P.c[k], Sign * P.s[k]};
      }
      y[t] = acc;
    }
    CB_UNROLL
    for (int t = 0; t < R; ++t) x[t] = y[t];
  }
}

// Stages Stage.. of the decimation-in-time FFT of t (digit-reversed in, natural order out):
// each combines sub-transforms of length Span into ones of Span*r. One instantiation per stage,
// so every loop bound and index is a constant and t stays in registers.
template <int N, int Sign, int Stage, int Span>
CB_HD void fixed_stages(Cf (&t)[N]) {
  constexpr FixedPlan<N> P = make_fixed_plan<N>();
  if constexpr (Stage < P.f.count) {
    constexpr int r = P.f.r[Stage], len = Span * r, step = N / len;
    CB_UNROLL
    for (int j = 0; j < Span; ++j) {
      CB_UNROLL
      for (int b = j; b < N; b += len) {
        Cf x[r];
        CB_UNROLL
        for (int q = 0; q < r; ++q) {
          const int k = j * q * step;  // twiddle e^(Sign*2*pi*i*j*q/len)
          x[q] = k == 0 ? t[b + q * Span] : t[b + q * Span] * Cf{P.c[k], Sign * P.s[k]};
        }
        butterfly<N, r, Sign>(x);
        CB_UNROLL
        for (int q = 0; q < r; ++q) t[b + q * Span] = x[q];
      }
    }
    fixed_stages<N, Sign, Stage + 1, len>(t);
  }
}

// In-place unscaled DFT of v (natural order in and out), Sign -1 forward, +1 inverse, for a
// supported (7-smooth) N known at compile time: fully unrolled mixed radix (4, 2, 3, 5, 7).
template <int N, int Sign>
CB_HD void fft_fixed(Cf (&v)[N]) {
  static_assert(N >= 1 && N <= kMaxSize && supported(N), "a 7-smooth length up to kMaxSize");
  if constexpr (N > 1) {
    constexpr FixedPlan<N> P = make_fixed_plan<N>();
    Cf t[N];
    CB_UNROLL
    for (int i = 0; i < N; ++i) t[i] = v[P.perm[i]];
    fixed_stages<N, Sign, 0, 1>(t);
    CB_UNROLL
    for (int i = 0; i < N; ++i) v[i] = t[i];
  }
}

// ---- transform lengths: compile-time or run-time --------------------------------------------
// A kernel instantiation handles a bucket of lengths (kernel_bucket()); inside it each row or
// column transform dispatches on the run-time length to code compiled for exactly that length
// (Fixed<N>): its arrays stay in registers. Lengths above kMaxFixed (per-thread arrays too large
// for registers) run the mixed-radix stages of small_fft.hpp with run-time indices (Runtime<128>:
// local memory, slow).

constexpr int kMaxFixed = 64;

// The lengths compiled in (with_length's cases): the 3-smooth ones up to kMaxFixed, which the
// planner of cuda.fbfft prefers (each length costs compile time: 35 or 40 run at the next one).
using FixedLengths = std::integer_sequence<int, 1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 27, 32, 36, 48, 54, 64>;
template <int... L>
constexpr bool one_of(int n, std::integer_sequence<int, L...>) {
  return ((n == L) || ...);
}
constexpr bool fixed_length(int n) { return one_of(n, FixedLengths{}); }

template <int N>
struct Fixed {
  static constexpr int capacity = N;  // elements of the per-thread array
  static constexpr bool fixed = true;
};
template <int Cap>
struct Runtime {
  static constexpr int capacity = Cap;
  static constexpr bool fixed = false;
};

// The bucket (kernel instantiation) of a length: 8, 16, 32, 64, or 128 (run-time lengths).
CB_HD_CONSTEXPR int kernel_bucket(int n) { return n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128; }

// f(Fixed<S>{}) when n == S and S lies in bucket MaxN; whether n == S.
template <int MaxN, int S, class F>
CB_HD bool run_fixed(int n, F& f) {
  if (n != S) return false;
  if constexpr (kernel_bucket(S) == MaxN) f(Fixed<S>{});
  return true;
}
template <int MaxN, class F, int... L>
CB_HD void run_fixed_lengths(int n, F& f, std::integer_sequence<int, L...>) {
  (void)(run_fixed<MaxN, L>(n, f) || ...);
}

// Calls f(Fixed<n>{}) when n is a fixed_length() of bucket MaxN, f(Runtime<MaxN>{}) in the
// run-time bucket. Any other length calls nothing (block_geom never makes one).
template <int MaxN, class F>
CB_HD void with_length(int n, F&& f) {
  if constexpr (MaxN > kMaxFixed) {
    f(Runtime<MaxN>{});
  } else {
    run_fixed_lengths<MaxN>(n, f, FixedLengths{});
  }
}

// Lengths above kMaxFixed as N = R * M, both compiled lengths with M <= 32 (Cooley-Tukey's
// four-step): R transforms of length M over the subsequences x[R*n + e], a twiddle W_N^(e*k),
// then M transforms of length R across e; X[k + M*s] is the s-th output of the k-th. Each
// transform is one thread's registers (a length-128 row whole would spill), and the levels meet
// in shared memory, out of place between two buffers (BlockGeom::split). 32 and 64 can run
// split too (block_geom's split_small: cuda.fbfft's --small-fft-split, the transform
// benchmark's cuda.fbfft_split), fewer registers a thread than their compiled buckets for more
// passes through shared memory.
using SplitLengths = std::integer_sequence<int, 32, 64, 72, 81, 96, 108, 128>;
constexpr int kMaxSplitPart = 32;  // M at most: 32 complex values per thread, as in bucket 32
// R of a split length: the least that leaves M compiled and at most kMaxSplitPart; 0: none.
constexpr int split_radix(int n) {
  for (int r = 2; r <= 8; ++r)
    if (n % r == 0 && fixed_length(r) && fixed_length(n / r) && n / r <= kMaxSplitPart) return r;
  return 0;
}
// Whether n has a split kernel; split_length: whether n runs split by default (above kMaxFixed).
constexpr bool split_capable(int n) { return one_of(n, SplitLengths{}) && split_radix(n) > 0; }
constexpr bool split_length(int n) { return n > kMaxFixed && split_capable(n); }
// Whether nh x nw runs split: nw split, and nh split too or 1 (1D); with split_small, the
// compiled lengths that have a split kernel too.
constexpr bool split_lengths(int nh, int nw, bool split_small = false) {
  const auto split = [&](int n) { return split_small ? split_capable(n) : split_length(n); };
  return split(nw) && (nh == 1 || split(nh));
}

template <int N_>
struct Split {
  static constexpr int N = N_, R = split_radix(N_), M = N_ / R;
  static_assert(R > 0 && R * M == N, "a split length");
};
template <class F, int... L>
CB_HD void run_split_lengths(int n, F& f, std::integer_sequence<int, L...>) {
  (void)((n == L ? (f(Split<L>{}), true) : false) || ...);
}
// f(Split<n>{}) for a split_length() n; nothing for any other.
template <class F>
CB_HD void with_split(int n, F&& f) {
  run_split_lengths(n, f, SplitLengths{});
}

// The length of dimension n for L: the constant when fixed.
template <class L>
CB_HD int length(int n) {
  if constexpr (L::fixed) return L::capacity;
  return n;
}

// The DFT of v[0..n), Sign -1 forward, +1 inverse, natural order in and out.
template <class L, int Sign>
CB_HD void dft(Cf (&v)[L::capacity], const Radices& f) {
  if constexpr (L::fixed) {
    fft_fixed<L::capacity, Sign>(v);
  } else {
    Cf t[L::capacity];
    for (int p = 0; p < f.n; ++p) t[p] = v[digit_reverse(p, f)];
    fft_stages(t, f, Sign);
    for (int p = 0; p < f.n; ++p) v[p] = t[p];
  }
}

// ---- where the spectra live ----------------------------------------------------------------

// Bin b of plane p in global memory. Frequency-major (the convolution's GEMMs): row
// row_of_bin[b] (-1: dropped by band-limiting; nullptr: row b), column order(p), `planes`
// columns. Plane-major (the transform benchmark): p * bins + b, bins = nh * nwc (dense).
struct SpectrumAddr {
  Cf* data;
  int64_t planes, bins;
  PlaneOrder order;
  const int* row_of_bin;
  bool freq_major;
  // Band-limited: the last-dim columns 0..kept_columns-1 of the half-spectrum hold every kept
  // bin, so only they need a column transform (the rest is dropped forward, zero inverse);
  // 0: every column.
  int kept_columns = 0;
  CB_HD int columns(int nwc) const { return kept_columns > 0 && kept_columns < nwc ? kept_columns : nwc; }
  CB_HD int64_t index(int64_t p, int b) const {
    if (!freq_major) return p * bins + b;
    const int row = row_of_bin ? row_of_bin[b] : b;
    return row < 0 ? -1 : int64_t(row) * planes + order(p);
  }
};

// ---- block geometry --------------------------------------------------------------------------

struct BlockGeom {
  int nh = 1, nw = 1, nwc = 1;  // plane nh x nw, half-spectrum nh x nwc (nwc = nw/2 + 1)
  Radices rh, rw;
  int max_n = 16;      // the instantiation: kernel_bucket() of the lengths, 128 for run-time lengths
  bool split = false;  // split_lengths(): instantiation kSplitInstance, two buffers, kSplitPhases
  int per_block = 1;   // planes per block
  int spitch = 1;      // complex values per spectrum row in shared memory (odd)
  int64_t planes = 0;  // in the whole batch
  // The run-time divisors of the copy phases' per-item index splits, made on the host: a 32-bit
  // division costs about 20 instructions on a GPU, a FastDiv 3, and with divisions the copies'
  // index arithmetic, not the transforms, was most of the kernels' instructions (sm_90 SASS).
  FastDiv by_nw, by_rows, by_nwc, by_bins, by_per_block;  // nw, grid_rows(), nwc, nh * nwc, per_block
  FastDiv by_pairs;                                        // pairs(): the row phases' (plane, pair) split

  // Whether the lengths are compile-time constants (Fixed) in this instantiation.
  CB_HD bool fixed() const { return max_n <= kMaxFixed; }
  // Rows per plane in shared memory: split, a row pair is one complex sequence of nw values in
  // its two rows, so an odd nh gets a zero row.
  CB_HD int grid_rows() const { return split ? 2 * pairs() : nh; }
  // Complex values per plane, odd: planes side by side in the frequency-major copies hit
  // different banks.
  CB_HD int spec_elems() const { return grid_rows() * spitch + (grid_rows() * spitch + 1) % 2; }
  // Split: a second buffer of per_block planes after the first.
  CB_HD int buffers() const { return split ? 2 : 1; }
  // Real row h of a plane in shared memory lies in the bytes of its spectrum row h (2 * spitch
  // floats >= nw + 2): the thread that transforms a row pair reads its rows and writes their
  // spectra in place, so no other thread's data is in the way and a plane needs one buffer.
  CB_HD int rpitch() const { return 2 * spitch; }
  CB_HD int pairs() const { return (nh + 1) / 2; }      // row pairs per plane
  CB_HD int64_t blocks() const { return (planes + per_block - 1) / per_block; }
  std::size_t shared_bytes() const {
    return std::size_t(buffers()) * std::size_t(per_block) * std::size_t(spec_elems()) * sizeof(Cf);
  }
};

constexpr int kBlockThreads = 128;
constexpr std::size_t kMaxSharedBytes = 160 * 1024;  // below the opt-in limit of sm_80 and sm_90

// Whether nh x nw runs at compile-time lengths: fixed_length() ones in one bucket (1D: nh = 1).
constexpr bool fixed_lengths(int nh, int nw) {
  return fixed_length(nw) && (nh == 1 || (fixed_length(nh) && kernel_bucket(nh) == kernel_bucket(nw)));
}

// Geometry for `planes` real nh x nw transforms; max_n = 0 when a size is unsupported.
// split_small: run 32 and 64 (both dims, or 1D) split instead of in their compiled buckets.
inline BlockGeom block_geom(int nh, int nw, int64_t planes, bool split_small = false) {
  BlockGeom g;
  g.nh = nh, g.nw = nw, g.nwc = nw / 2 + 1, g.planes = planes;
  g.rh = factor(nh), g.rw = factor(nw);
  if (!supported(nh) || !supported(nw)) {
    g.max_n = 0;
    return g;
  }
  g.split = split_lengths(nh, nw, split_small);  // by default above kMaxFixed: never fixed_lengths()
  g.max_n = fixed_lengths(nh, nw) && !g.split ? kernel_bucket(nw) : kMaxSize;
  g.spitch = g.nwc % 2 == 0 ? g.nwc + 1 : g.nwc;
  // As many planes as give every thread at most one row pair and one column (a second round
  // for a few threads would double a phase), within the shared memory. Split, a row pair or
  // column is R threads' work in its least parallel phase (level one): fewer planes per block,
  // more blocks per SM.
  const int work = g.split ? std::max(g.pairs() * split_radix(nw), nh > 1 ? g.nwc * split_radix(nh) : 1)
                           : std::max(g.pairs(), nh > 1 ? g.nwc : 1);
  const std::size_t plane_bytes = std::size_t(g.buffers()) * std::size_t(g.spec_elems()) * sizeof(Cf);
  int64_t per = std::max(1, kBlockThreads / work);
  per = std::min<int64_t>({per, int64_t(std::max<std::size_t>(1, kMaxSharedBytes / plane_bytes)), std::max<int64_t>(planes, 1)});
  g.per_block = int(per);
  g.by_nw = FastDiv(uint32_t(g.nw)), g.by_rows = FastDiv(uint32_t(g.grid_rows())), g.by_nwc = FastDiv(uint32_t(g.nwc));
  g.by_bins = FastDiv(uint32_t(g.nh * g.nwc)), g.by_per_block = FastDiv(uint32_t(g.per_block));
  g.by_pairs = FastDiv(uint32_t(g.pairs()));
  return g;
}

// The instantiation of the split lengths: a kernel of its own, so that the registers it is
// given are not those of the run-time lengths' (bucket 128) local arrays.
constexpr int kSplitInstance = 2 * kMaxSize;

// Calls f.template operator()<MaxN>() for g's instantiation.
template <class F>
void with_instance(const BlockGeom& g, F&& f) {
  if (g.max_n <= 0)  // an unsupported size has no geometry: its kernels would overrun shared memory
    throw std::invalid_argument("small FFT: no own transform for " + std::to_string(g.nh) + "x" + std::to_string(g.nw));
  if (g.split) return f.template operator()<kSplitInstance>();
  switch (g.max_n) {
    case 8: return f.template operator()<8>();
    case 16: return f.template operator()<16>();
    case 32: return f.template operator()<32>();
    case 64: return f.template operator()<64>();
    default: return f.template operator()<kMaxSize>();
  }
}

// ---- the phases ----------------------------------------------------------------------------
// Each phase is run by threads tid = 0..nthreads-1 of block `blk`; spec is the block's shared
// memory, [plane][h][spitch] complex, each row also holding that row of the real grid
// (BlockGeom::rpitch). A phase reads only what earlier phases wrote.

struct ForwardArgs {
  const float* src;  // the tensor, planes of ext[1] x ext[2]
  Placement pl;
  SpectrumAddr out;
};

struct InverseArgs {
  SpectrumAddr in;
  Placement pl;
  float* dst;   // the tensor, planes of ext[1] x ext[2]
  float scale;  // 1 / (nh * nw) for a normalised inverse
  FastDiv by_plane, by_row;  // crop's index split: by ext[1] * ext[2], by ext[2]
  InverseArgs(const SpectrumAddr& in_, const Placement& pl_, float* dst_, float scale_)
      : in(in_), pl(pl_), dst(dst_), scale(scale_), by_plane(uint32_t(pl_.ext[1] * pl_.ext[2])),
        by_row(uint32_t(pl_.ext[2])) {}
};

constexpr int kPhases = 4;       // per direction
constexpr int kSplitPhases = 7;  // per direction, split lengths (BlockGeom::split)
// Phases (and barriers) per direction of instantiation MaxN.
template <int MaxN>
CB_HD_CONSTEXPR int phase_count() {
  return MaxN == kSplitInstance ? kSplitPhases : kPhases;
}

// Item i of a block's spectrum traffic -> (plane lp, bin b): consecutive items are consecutive
// planes of one bin (frequency-major rows: per_block items a bin, so that the divisor is the
// same in every block; lp >= np past the last block's planes) or consecutive bins of one plane
// (plane-major).
CB_HD void spectrum_item(const BlockGeom& g, int i, bool freq_major, int& lp, int& b) {
  uint32_t r = 0;
  if (freq_major)
    b = int(g.by_per_block.divmod(uint32_t(i), r)), lp = int(r);
  else
    lp = int(g.by_bins.divmod(uint32_t(i), r)), b = int(r);
}
// How many items spectrum_item() splits for a block of np planes.
CB_HD int spectrum_items(const BlockGeom& g, int np, bool freq_major) {
  return (freq_major ? g.per_block : np) * g.nh * g.nwc;
}

// Where bin b of a plane's half-spectrum lies in the plane's shared memory; L: nw's length,
// whose nwc is a constant when fixed.
template <class L>
CB_HD int shared_bin(const BlockGeom& g, int b) {
  if constexpr (L::fixed) {
    constexpr int nwc = L::capacity / 2 + 1;
    return int(unsigned(b) / nwc) * g.spitch + int(unsigned(b) % nwc);
  } else {
    uint32_t k = 0;
    const int h = int(g.by_nwc.divmod(uint32_t(b), k));
    return h * g.spitch + int(k);
  }
}

// Four floats, for 16-byte loads.
struct alignas(16) Quad {
  float f[4];
};

// Items tid, tid + nthreads, ... < count: v = load(i, at), then store(at, v) unless at < 0
// (load says where the item goes, so the index is split once), with kLoadBytes of loads issued
// before their stores, so that each thread keeps that much in flight from global memory: the
// loads wait out the DRAM latency, and with a few blocks per SM (shared memory, registers) only
// many bytes in flight per thread fill the bandwidth (Little's law).
constexpr int kLoadBytes = 64;
template <class T, class Load, class Store>
CB_HD void batched_copy(int tid, int nthreads, int count, const Load& load, const Store& store) {
  constexpr int batch = kLoadBytes / int(sizeof(T));
  for (int base = tid; base < count; base += nthreads * batch) {
    T v[batch] = {};
    int at[batch];
    CB_UNROLL
    for (int u = 0; u < batch; ++u) {
      at[u] = -1;
      if (base + u * nthreads < count) v[u] = load(base + u * nthreads, at[u]);
    }
    CB_UNROLL
    for (int u = 0; u < batch; ++u)
      if (at[u] >= 0) store(at[u], v[u]);
  }
}

// Real rows ha and hb (hb may be past the plane: zero) through one complex FFT, split into the
// two half-spectra (Z = FFT(a + i*b): A[k] = (Z[k] + conj(Z[-k]))/2, B[k] = (Z[k] - conj(Z[-k]))/2i),
// written over the rows.
template <class L>
CB_HD void forward_rows(const BlockGeom& g, int lp, int ha, Cf* spec) {
  const int nw = length<L>(g.nw), hb = ha + 1;
  const bool has_b = hb < g.nh;
  Cf* A = spec + lp * g.spec_elems() + ha * g.spitch;
  const float* ra = reinterpret_cast<const float*>(A);
  Cf v[L::capacity];
  CB_UNROLL
  for (int w = 0; w < nw; ++w) v[w] = {ra[w], has_b ? ra[g.rpitch() + w] : 0.0f};
  dft<L, -1>(v, g.rw);
  split_pair(v, nw, A, has_b ? A + g.spitch : nullptr);
}

// Column k of the half-spectrum, in place, Sign -1 forward, +1 inverse.
template <class L, int Sign>
CB_HD void transform_column(const BlockGeom& g, int lp, int k, Cf* spec) {
  const int nh = length<L>(g.nh);
  Cf* col = spec + lp * g.spec_elems() + k;
  Cf v[L::capacity];
  CB_UNROLL
  for (int h = 0; h < nh; ++h) v[h] = col[h * g.spitch];
  dft<L, Sign>(v, g.rh);
  CB_UNROLL
  for (int h = 0; h < nh; ++h) col[h * g.spitch] = v[h];
}

// Half-spectra of rows ha, hb (hb may be past the plane) back to two real rows in one complex
// inverse FFT, written over the spectra; as a C2R transform does, the imaginary parts of bins 0
// and nw/2 are ignored.
template <class L>
CB_HD void inverse_rows(const BlockGeom& g, int lp, int ha, Cf* spec) {
  const int nw = length<L>(g.nw), hb = ha + 1;
  const bool has_b = hb < g.nh;
  Cf* A = spec + lp * g.spec_elems() + ha * g.spitch;
  Cf v[L::capacity];
  join_pair(A, has_b ? A + g.spitch : nullptr, nw, v);
  dft<L, +1>(v, g.rw);
  float* ra = reinterpret_cast<float*>(A);
  CB_UNROLL
  for (int w = 0; w < nw; ++w) {
    ra[w] = v[w].re;
    if (has_b) ra[g.rpitch() + w] = v[w].im;
  }
}

// Whether grid row ha or ha + 1 holds a row of the tensor (pl's rows): a pair that does not
// is zeros forward, so its spectra are too, and is cropped away inverse, so it need not be
// computed (a filter's few rows in its grid, the padding rows of x).
CB_HD bool pair_holds_tensor_rows(const BlockGeom& g, const Placement& pl, int ha) {
  return source_index(ha, pl.off[1], pl.step[1], pl.ext[1]) >= 0 ||
         (ha + 1 < g.nh && source_index(ha + 1, pl.off[1], pl.step[1], pl.ext[1]) >= 0);
}

// The half-spectra of rows ha and ha + 1 (if in the plane) of a pair of zero rows.
CB_HD void zero_row_spectra(const BlockGeom& g, int lp, int ha, Cf* spec) {
  Cf* A = spec + lp * g.spec_elems() + ha * g.spitch;
  const bool has_b = ha + 1 < g.nh;
  for (int k = 0; k < g.nwc; ++k) {
    A[k] = Cf{0.0f, 0.0f};
    if (has_b) A[g.spitch + k] = Cf{0.0f, 0.0f};
  }
}

// ---- the phases both layouts share: the tensor in and out, the spectra in and out ----------

// The zero-padded grids of the block's np planes into the real rows of buf (grid_rows() per
// plane: rows past nh are zero), read in tensor order; item i = (grid row i / nw, column i % nw).
// In-block offsets are 32-bit (a tensor has fewer than 2^31 elements: conv_params_refusal).
template <int MaxN>
CB_HD void load_grid(const BlockGeom& g, const ForwardArgs& a, int64_t p0, int np, Cf* buf, int tid, int nthreads) {
  const Placement& pl = a.pl;
  float* real = reinterpret_cast<float*>(buf);
  const float* src = a.src + p0 * pl.ext[1] * pl.ext[2];
  const int plane_floats = 2 * g.spec_elems(), rows = g.grid_rows(), count = np * rows * g.nw;
  with_length<MaxN>(g.nw, [&](auto l) {
    using L = decltype(l);
    // Item i -> plane lp, grid row gh, grid column gw; nw a constant when fixed.
    const auto split = [&](int i, int& lp, int& gh, int& gw) {
      int row = 0;
      if constexpr (L::fixed) {
        row = int(unsigned(i) / L::capacity), gw = int(unsigned(i) % L::capacity);  // i >= 0: no sign fix-up
      } else {
        uint32_t c = 0;
        row = int(g.by_nw.divmod(uint32_t(i), c)), gw = int(c);
      }
      uint32_t r = 0;
      lp = int(g.by_rows.divmod(uint32_t(row), r)), gh = int(r);
    };
    const auto store = [&](int at, float v) { real[at] = v; };
    const bool unit = pl.step[1] == 1 && pl.step[2] == 1;
    if constexpr (L::fixed && L::capacity % 4 == 0) {
      // Unit steps (x, dy, w undilated), nw a multiple of 4: an item is 4 floats of a grid row,
      // split once and stored as two 8-byte values (a row of the grid starts 8-byte aligned);
      // a row outside the tensor is zeros without a load. Whole rows (the tensor's rows are the
      // grid's: an x unpadded along w, the transform benchmark) take one 16-byte load.
      constexpr int quads = L::capacity / 4;
      const auto row_of = [&](int q, int& lp, int& gh) {
        uint32_t r = 0;
        lp = int(g.by_rows.divmod(uint32_t(q) / quads, r)), gh = int(r);
      };
      const auto copy_quads = [&](auto whole_rows) {
        batched_copy<Quad>(
            tid, nthreads, count / 4,
            [&](int q, int& at) {
              int lp = 0, gh = 0;
              row_of(q, lp, gh);
              const int ih = gh - pl.off[1], c0 = 4 * int(unsigned(q) % quads);
              at = lp * plane_floats + gh * g.rpitch() + c0;
              Quad v{};
              if (unsigned(ih) >= unsigned(pl.ext[1])) return v;
              const float* row = src + (lp * pl.ext[1] + ih) * pl.ext[2];
              if constexpr (decltype(whole_rows)::value) {
                v = *reinterpret_cast<const Quad*>(row + c0);
              } else {
                CB_UNROLL
                for (int j = 0; j < 4; ++j) {
                  const int iw = c0 + j - pl.off[2];
                  if (unsigned(iw) < unsigned(pl.ext[2])) v.f[j] = row[iw];
                }
              }
              return v;
            },
            [&](int at, const Quad& v) {
              Cf* to = reinterpret_cast<Cf*>(real + at);
              to[0] = {v.f[0], v.f[1]}, to[1] = {v.f[2], v.f[3]};
            });
      };
      if (unit) {
        const bool aligned = reinterpret_cast<std::uintptr_t>(src) % alignof(Quad) == 0;
        if (pl.off[2] == 0 && pl.ext[2] == L::capacity && aligned)
          copy_quads(std::true_type{});
        else
          copy_quads(std::false_type{});
        return;
      }
    }
    // The per-item source rule is chosen outside the loop: x and dy's placements are a shift
    // (no division); w's and strided or dilated ones go through source_index.
    const auto copy_items = [&](auto source) {
      batched_copy<float>(
          tid, nthreads, count,
          [&](int i, int& at) {
            int lp = 0, gh = 0, gw = 0, ih = 0, iw = 0;
            split(i, lp, gh, gw);
            at = lp * plane_floats + gh * g.rpitch() + gw;
            return source(gh, gw, ih, iw) ? src[(lp * pl.ext[1] + ih) * pl.ext[2] + iw] : 0.0f;
          },
          store);
    };
    if (unit)
      copy_items([&](int gh, int gw, int& ih, int& iw) {
        ih = gh - pl.off[1], iw = gw - pl.off[2];
        return unsigned(ih) < unsigned(pl.ext[1]) && unsigned(iw) < unsigned(pl.ext[2]);
      });
    else
      copy_items([&](int gh, int gw, int& ih, int& iw) {
        ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
        iw = source_index(gw, pl.off[2], pl.step[2], pl.ext[2]);
        return ih >= 0 && iw >= 0;
      });
  });
}

// Each bin of the half-spectra in buf ([plane][h][spitch]) to its place in global memory;
// consecutive threads: consecutive planes of a bin, or bins of a plane.
template <int MaxN>
CB_HD void store_spectra(const BlockGeom& g, const SpectrumAddr& out, int64_t p0, int np, const Cf* buf, int tid,
                         int nthreads) {
  with_length<MaxN>(g.nw, [&](auto l) {
    const int count = spectrum_items(g, np, out.freq_major);
    if (!out.freq_major) {  // item i lies at i past the block's first plane: no 64-bit index
      Cf* dst = out.data + p0 * out.bins;
      for (int i = tid; i < count; i += nthreads) {
        int lp = 0, b = 0;
        spectrum_item(g, i, false, lp, b);
        dst[i] = buf[lp * g.spec_elems() + shared_bin<decltype(l)>(g, b)];
      }
      return;
    }
    for (int i = tid; i < count; i += nthreads) {
      int lp = 0, b = 0;
      spectrum_item(g, i, true, lp, b);
      const int64_t at = lp < np ? out.index(p0 + lp, b) : -1;
      if (at >= 0) out.data[at] = buf[lp * g.spec_elems() + shared_bin<decltype(l)>(g, b)];
    }
  });
}

// The half-spectra from global memory into buf, dropped bins as zeros.
template <int MaxN>
CB_HD void load_spectra(const BlockGeom& g, const SpectrumAddr& in, int64_t p0, int np, Cf* buf, int tid,
                        int nthreads) {
  with_length<MaxN>(g.nw, [&](auto l) {
    batched_copy<Cf>(
        tid, nthreads, spectrum_items(g, np, in.freq_major),
        [&](int i, int& at) {
          int lp = 0, b = 0;
          spectrum_item(g, i, in.freq_major, lp, b);
          if (lp >= np) return Cf{0.0f, 0.0f};  // past the last block's planes
          at = lp * g.spec_elems() + shared_bin<decltype(l)>(g, b);
          if (!in.freq_major) return in.data[p0 * in.bins + i];  // bin i of the block's planes
          const int64_t from = in.index(p0 + lp, b);
          return from >= 0 ? in.data[from] : Cf{0.0f, 0.0f};
        },
        [&](int at, const Cf& v) { buf[at] = v; });
  });
}

// Crop, subsample and scale the real rows of buf into the tensor, written in tensor order. With
// unit steps, an even column offset and rows a multiple of 4 (or 2) floats, an item is 4 (2)
// floats: read as 8-byte values (a row of the grid starts 8-byte aligned), written as one
// 16-byte (8-byte) value, one index split for all.
CB_HD void crop(const BlockGeom& g, const InverseArgs& a, int64_t p0, int np, const Cf* buf, int tid, int nthreads) {
  const Placement& pl = a.pl;
  const float* real = reinterpret_cast<const float*>(buf);
  const int vol = pl.ext[1] * pl.ext[2], plane_floats = 2 * g.spec_elems();
  float* dst = a.dst + p0 * vol;
  const auto crop_items = [&](auto width) {
    constexpr int V = decltype(width)::value;  // floats an item
    for (int i = tid; i < np * vol / V; i += nthreads) {
      const int e = i * V;
      uint32_t at = 0, iw = 0;
      const int lp = int(a.by_plane.divmod(uint32_t(e), at)), ih = int(a.by_row.divmod(at, iw));
      const int gh = pl.off[1] + ih * pl.step[1], gw = pl.off[2] + int(iw) * pl.step[2];
      const float* from = real + lp * plane_floats + gh * g.rpitch() + gw;
      if constexpr (V == 1) {
        dst[e] = from[0] * a.scale;
      } else if constexpr (V == 2) {
        const Cf v = *reinterpret_cast<const Cf*>(from);
        *reinterpret_cast<Cf*>(dst + e) = {v.re * a.scale, v.im * a.scale};
      } else {
        const Cf u = reinterpret_cast<const Cf*>(from)[0], v = reinterpret_cast<const Cf*>(from)[1];
        *reinterpret_cast<Quad*>(dst + e) = {{u.re * a.scale, u.im * a.scale, v.re * a.scale, v.im * a.scale}};
      }
    }
  };
  const bool unit = pl.step[1] == 1 && pl.step[2] == 1 && pl.off[2] % 2 == 0;
  const auto dst_addr = reinterpret_cast<std::uintptr_t>(dst);
  if (unit && pl.ext[2] % 4 == 0 && dst_addr % alignof(Quad) == 0)
    crop_items(std::integral_constant<int, 4>{});
  else if (unit && pl.ext[2] % 2 == 0 && dst_addr % alignof(Cf) == 0)
    crop_items(std::integral_constant<int, 2>{});
  else
    crop_items(std::integral_constant<int, 1>{});
}

// ---- split lengths (BlockGeom::split) --------------------------------------------------------
// Two buffers of per_block planes, X = spec and Y after it, each plane's rows 2i and 2i + 1 also
// one complex sequence of nw values (a row pair's Z = FFT(a + i*b)). Every phase reads one
// buffer and writes the other, so no thread overwrites what another reads in the same phase.
//
//   forward: grid -> X (real rows) -> rows, level one -> Y -> level two -> X (Z, natural order)
//            -> split into half-spectra -> Y -> columns, level one -> X -> level two -> Y -> store
//   inverse: load -> Y -> columns, level two -> X -> level one -> Y -> join pairs -> X
//            -> rows, level two -> Y -> level one -> X (real rows) -> crop

// Level one, the transform of length M over subsequence e of a length-N sequence at src
// (element t at src[t * stride]). Forward: x[R*n + e] -> S_e[k] at k*R + e of dst. Inverse, the
// mirror: S_e[k] at k*R + e -> x[R*n + e].
template <class S, int Sign>
CB_HD void split_first(const Cf* src, Cf* dst, int stride, int e) {
  Cf v[S::M];
  CB_UNROLL
  for (int n = 0; n < S::M; ++n) v[n] = src[(Sign < 0 ? S::R * n + e : n * S::R + e) * stride];
  fft_fixed<S::M, Sign>(v);
  CB_UNROLL
  for (int k = 0; k < S::M; ++k) dst[(Sign < 0 ? k * S::R + e : S::R * k + e) * stride] = v[k];
}

// Level two for k: forward, S_e[k] (e < R) times W_N^(-e*k), transformed across e, gives
// X[k + M*s] (natural order in dst); inverse, X[k + M*s] transformed across s, times W_N^(e*k),
// gives S_e[k] at k*R + e.
template <class S, int Sign>
CB_HD void split_second(const Cf* src, Cf* dst, int stride, int k) {
  Cf u[S::R];
  CB_UNROLL
  for (int e = 0; e < S::R; ++e) {
    u[e] = src[(Sign < 0 ? k * S::R + e : k + S::M * e) * stride];
    if (Sign < 0 && e > 0) u[e] = u[e] * twiddle(e * k % S::N, S::N, Sign);
  }
  fft_fixed<S::R, Sign>(u);
  CB_UNROLL
  for (int e = 0; e < S::R; ++e) {
    if (Sign > 0 && e > 0) u[e] = u[e] * twiddle(e * k % S::N, S::N, Sign);
    dst[(Sign < 0 ? k + S::M * e : k * S::R + e) * stride] = u[e];
  }
}

// Forward level one of row pair i's Z: subsequence e of the two real rows in X (a + i*b).
template <class S>
CB_HD void split_rows_first(const BlockGeom& g, int lp, int i, int e, const Cf* X, Cf* Y) {
  const int at = lp * g.spec_elems() + 2 * i * g.spitch;
  const float* ra = reinterpret_cast<const float*>(X + at);
  const float* rb = ra + g.rpitch();
  Cf v[S::M];
  CB_UNROLL
  for (int n = 0; n < S::M; ++n) v[n] = {ra[S::R * n + e], rb[S::R * n + e]};
  fft_fixed<S::M, -1>(v);
  CB_UNROLL
  for (int k = 0; k < S::M; ++k) Y[at + k * S::R + e] = v[k];
}

// Inverse level one of row pair i: subsequence e of z = a + i*b back into the real rows in X.
template <class S>
CB_HD void split_rows_last(const BlockGeom& g, int lp, int i, int e, const Cf* Y, Cf* X) {
  const int at = lp * g.spec_elems() + 2 * i * g.spitch;
  Cf v[S::M];
  CB_UNROLL
  for (int k = 0; k < S::M; ++k) v[k] = Y[at + k * S::R + e];
  fft_fixed<S::M, +1>(v);
  float* ra = reinterpret_cast<float*>(X + at);
  float* rb = ra + g.rpitch();
  CB_UNROLL
  for (int n = 0; n < S::M; ++n) ra[S::R * n + e] = v[n].re, rb[S::R * n + e] = v[n].im;
}

// The phases' items, split by the host's divisors (a 32-bit division is about 20 instructions on
// a GPU, a FastDiv 3): f(plane, row pair, task) for Per tasks per row pair, and f(plane, column,
// task) for Per tasks per half-spectrum column below cols (going over all nwc columns: the host's
// divisor is nwc's; per_block makes the compiled path's Per = 1 at most one item per thread, so
// the skipped columns cost no round).
template <int Per, class F>
CB_HD void for_pair_tasks(const BlockGeom& g, int np, int tid, int nthreads, const F& f) {
  for (int t = tid; t < np * g.pairs() * Per; t += nthreads) {
    uint32_t i = 0;
    const int lp = int(g.by_pairs.divmod(unsigned(t) / Per, i));
    f(lp, int(i), int(unsigned(t) % Per));
  }
}
template <int Per, class F>
CB_HD void for_column_tasks(const BlockGeom& g, int np, int cols, int tid, int nthreads, const F& f) {
  for (int t = tid; t < np * g.nwc * Per; t += nthreads) {
    uint32_t k = 0;
    const int lp = int(g.by_nwc.divmod(unsigned(t) / Per, k));
    if (int(k) < cols) f(lp, int(k), int(unsigned(t) % Per));
  }
}

// Phase `phase` of a split forward transform.
CB_HD void split_forward_phase(int phase, const BlockGeom& g, const ForwardArgs& a, int64_t p0, int np, int tid,
                               int nthreads, Cf* X, Cf* Y) {
  const int E = g.spec_elems(), cols = a.out.columns(g.nwc);
  if (phase == 0) {
    load_grid<kMaxSize>(g, a, p0, np, X, tid, nthreads);
  } else if (phase == 1) {
    with_split(g.nw, [&](auto l) {
      using S = decltype(l);
      for_pair_tasks<S::R>(g, np, tid, nthreads, [&](int lp, int i, int e) { split_rows_first<S>(g, lp, i, e, X, Y); });
    });
  } else if (phase == 2) {
    with_split(g.nw, [&](auto l) {
      using S = decltype(l);
      for_pair_tasks<S::M>(g, np, tid, nthreads, [&](int lp, int i, int e) {
        const int at = lp * E + 2 * i * g.spitch;
        split_second<S, -1>(Y + at, X + at, 1, e);
      });
    });
  } else if (phase == 3) {  // Z of each row pair -> the half-spectra of its two rows
    for (int t = tid; t < np * g.pairs() * g.nwc; t += nthreads) {
      uint32_t c = 0, i = 0;
      const uint32_t u = g.by_nwc.divmod(uint32_t(t), c);
      if (int(c) >= cols) continue;
      const int lp = int(g.by_pairs.divmod(u, i));
      const Cf* Z = X + lp * E + 2 * int(i) * g.spitch;
      const Cf z = Z[c], zc = conj(Z[c == 0 ? 0 : g.nw - int(c)]);
      Cf* A = Y + lp * E + 2 * int(i) * g.spitch + c;
      *A = {0.5f * (z.re + zc.re), 0.5f * (z.im + zc.im)};
      if (2 * int(i) + 1 < g.nh) A[g.spitch] = {0.5f * (z.im - zc.im), -0.5f * (z.re - zc.re)};
    }
  } else if (phase == 4 || phase == 5) {
    if (g.nh == 1) return;
    with_split(g.nh, [&](auto l) {
      using S = decltype(l);
      if (phase == 4)
        for_column_tasks<S::R>(g, np, cols, tid, nthreads, [&](int lp, int k, int e) {
          const int at = lp * E + k;
          split_first<S, -1>(Y + at, X + at, g.spitch, e);
        });
      else
        for_column_tasks<S::M>(g, np, cols, tid, nthreads, [&](int lp, int k, int e) {
          const int at = lp * E + k;
          split_second<S, -1>(X + at, Y + at, g.spitch, e);
        });
    });
  } else if (phase == 6) {
    store_spectra<kMaxSize>(g, a.out, p0, np, Y, tid, nthreads);
  }
}

// Phase `phase` of a split inverse transform.
CB_HD void split_inverse_phase(int phase, const BlockGeom& g, const InverseArgs& a, int64_t p0, int np, int tid,
                               int nthreads, Cf* X, Cf* Y) {
  const int E = g.spec_elems(), cols = a.in.columns(g.nwc);
  if (phase == 0) {
    load_spectra<kMaxSize>(g, a.in, p0, np, Y, tid, nthreads);
  } else if (phase == 1 || phase == 2) {  // the columns past cols are zero: so are their transforms
    if (g.nh == 1) return;
    with_split(g.nh, [&](auto l) {
      using S = decltype(l);
      if (phase == 1)
        for_column_tasks<S::M>(g, np, cols, tid, nthreads, [&](int lp, int k, int e) {
          const int at = lp * E + k;
          split_second<S, +1>(Y + at, X + at, g.spitch, e);
        });
      else
        for_column_tasks<S::R>(g, np, cols, tid, nthreads, [&](int lp, int k, int e) {
          const int at = lp * E + k;
          split_first<S, +1>(X + at, Y + at, g.spitch, e);
        });
    });
  } else if (phase == 3) {  // the half-spectra of each row pair -> its Z over all nw bins (join_pair)
    const int nw = g.nw;
    for (int t = tid; t < np * g.pairs() * nw; t += nthreads) {
      uint32_t ku = 0, iu = 0;
      const int lp = int(g.by_pairs.divmod(g.by_nw.divmod(uint32_t(t), ku), iu));
      const int i = int(iu), k = int(ku);
      const bool upper = k > nw / 2, has_b = 2 * i + 1 < g.nh;
      const int j = upper ? nw - k : k;
      const Cf* A = Y + lp * E + 2 * i * g.spitch + j;
      Cf va = *A, vb = has_b ? A[g.spitch] : Cf{0.0f, 0.0f};
      if (upper) va = conj(va), vb = conj(vb);
      if (j == 0 || 2 * j == nw) va.im = 0.0f, vb.im = 0.0f;
      X[lp * E + 2 * i * g.spitch + k] = {va.re - vb.im, va.im + vb.re};
    }
  } else if (phase == 4) {
    with_split(g.nw, [&](auto l) {
      using S = decltype(l);
      for_pair_tasks<S::M>(g, np, tid, nthreads, [&](int lp, int i, int e) {
        const int at = lp * E + 2 * i * g.spitch;
        split_second<S, +1>(X + at, Y + at, 1, e);
      });
    });
  } else if (phase == 5) {
    with_split(g.nw, [&](auto l) {
      using S = decltype(l);
      for_pair_tasks<S::R>(g, np, tid, nthreads, [&](int lp, int i, int e) { split_rows_last<S>(g, lp, i, e, Y, X); });
    });
  } else if (phase == 6) {
    crop(g, a, p0, np, X, tid, nthreads);
  }
}

// ---- the phases ------------------------------------------------------------------------------

// Phase `phase` of the forward transform of block blk, for thread tid of nthreads.
template <int MaxN>
CB_HD void block_phase(int phase, const BlockGeom& g, const ForwardArgs& a, int64_t blk, int tid, int nthreads,
                       Cf* spec) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  if constexpr (MaxN == kSplitInstance) {
    split_forward_phase(phase, g, a, p0, np, tid, nthreads, spec, spec + g.per_block * g.spec_elems());
  } else if (phase == 0) {
    load_grid<MaxN>(g, a, p0, np, spec, tid, nthreads);
  } else if (phase == 1) {
    with_length<MaxN>(g.nw, [&](auto l) {
      for_pair_tasks<1>(g, np, tid, nthreads, [&](int lp, int i, int) {
        const int ha = 2 * i;
        if (pair_holds_tensor_rows(g, a.pl, ha))
          forward_rows<decltype(l)>(g, lp, ha, spec);
        else
          zero_row_spectra(g, lp, ha, spec);
      });
    });
  } else if (phase == 2) {
    if (g.nh == 1) return;
    with_length<MaxN>(g.nh, [&](auto l) {
      for_column_tasks<1>(g, np, a.out.columns(g.nwc), tid, nthreads,
                          [&](int lp, int k, int) { transform_column<decltype(l), -1>(g, lp, k, spec); });
    });
  } else if (phase == 3) {
    store_spectra<MaxN>(g, a.out, p0, np, spec, tid, nthreads);
  }
}

// Phase `phase` of the inverse transform of block blk, for thread tid of nthreads.
template <int MaxN>
CB_HD void block_phase(int phase, const BlockGeom& g, const InverseArgs& a, int64_t blk, int tid, int nthreads,
                       Cf* spec) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  if constexpr (MaxN == kSplitInstance) {
    split_inverse_phase(phase, g, a, p0, np, tid, nthreads, spec, spec + g.per_block * g.spec_elems());
  } else if (phase == 0) {
    load_spectra<MaxN>(g, a.in, p0, np, spec, tid, nthreads);
  } else if (phase == 1) {
    if (g.nh == 1) return;
    with_length<MaxN>(g.nh, [&](auto l) {  // the columns past in.columns() are zero: so are their transforms
      for_column_tasks<1>(g, np, a.in.columns(g.nwc), tid, nthreads,
                          [&](int lp, int k, int) { transform_column<decltype(l), +1>(g, lp, k, spec); });
    });
  } else if (phase == 2) {
    with_length<MaxN>(g.nw, [&](auto l) {
      for_pair_tasks<1>(g, np, tid, nthreads, [&](int lp, int i, int) {
        const int ha = 2 * i;
        if (pair_holds_tensor_rows(g, a.pl, ha)) inverse_rows<decltype(l)>(g, lp, ha, spec);  // else: not cropped
      });
    });
  } else if (phase == 3) {
    crop(g, a, p0, np, spec, tid, nthreads);
  }
}

}  // namespace convbench::small_fft
