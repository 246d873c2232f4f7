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
// constants (fbfft's approach, extended to mixed radix). Other 7-smooth sizes up to 128 use the
// run-time mixed-radix stages of small_fft.hpp (local memory).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
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
// columns. Plane-major (the transform benchmark): p * bins + b.
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
  int per_block = 1;   // planes per block
  int spitch = 1;      // complex values per spectrum row in shared memory (odd)
  int64_t planes = 0;  // in the whole batch

  // Whether the lengths are compile-time constants (Fixed) in this instantiation.
  CB_HD bool fixed() const { return max_n <= kMaxFixed; }
  // Complex values per plane, odd: planes side by side in the frequency-major copies hit
  // different banks.
  CB_HD int spec_elems() const { return nh * spitch + (nh * spitch + 1) % 2; }
  // Real row h of a plane in shared memory lies in the bytes of its spectrum row h (2 * spitch
  // floats >= nw + 2): the thread that transforms a row pair reads its rows and writes their
  // spectra in place, so no other thread's data is in the way and a plane needs one buffer.
  CB_HD int rpitch() const { return 2 * spitch; }
  CB_HD int pairs() const { return (nh + 1) / 2; }      // row pairs per plane
  CB_HD int64_t blocks() const { return (planes + per_block - 1) / per_block; }
  std::size_t shared_bytes() const { return std::size_t(per_block) * std::size_t(spec_elems()) * sizeof(Cf); }
};

constexpr int kBlockThreads = 128;
constexpr std::size_t kMaxSharedBytes = 160 * 1024;  // below the opt-in limit of sm_80 and sm_90

// Whether nh x nw runs at compile-time lengths: fixed_length() ones in one bucket (1D: nh = 1).
constexpr bool fixed_lengths(int nh, int nw) {
  return fixed_length(nw) && (nh == 1 || (fixed_length(nh) && kernel_bucket(nh) == kernel_bucket(nw)));
}

// Geometry for `planes` real nh x nw transforms; max_n = 0 when a size is unsupported.
inline BlockGeom block_geom(int nh, int nw, int64_t planes) {
  BlockGeom g;
  g.nh = nh, g.nw = nw, g.nwc = nw / 2 + 1, g.planes = planes;
  g.rh = factor(nh), g.rw = factor(nw);
  if (!supported(nh) || !supported(nw)) {
    g.max_n = 0;
    return g;
  }
  g.max_n = fixed_lengths(nh, nw) ? kernel_bucket(nw) : kMaxSize;
  g.spitch = g.nwc % 2 == 0 ? g.nwc + 1 : g.nwc;
  // As many planes as give every thread at most one row pair and one column (a second round
  // for a few threads would double a phase), within the shared memory.
  const int work = std::max(g.pairs(), nh > 1 ? g.nwc : 1);
  const std::size_t plane_bytes = std::size_t(g.spec_elems()) * sizeof(Cf);
  int64_t per = std::max(1, kBlockThreads / work);
  per = std::min<int64_t>({per, int64_t(std::max<std::size_t>(1, kMaxSharedBytes / plane_bytes)), std::max<int64_t>(planes, 1)});
  g.per_block = int(per);
  return g;
}

// Calls f.template operator()<MaxN>() for g's instantiation.
template <class F>
void with_instance(const BlockGeom& g, F&& f) {
  if (g.max_n <= 0)  // an unsupported size has no geometry: its kernels would overrun shared memory
    throw std::invalid_argument("small FFT: no own transform for " + std::to_string(g.nh) + "x" + std::to_string(g.nw));
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
};

constexpr int kPhases = 4;  // per direction

// Item i of a block's spectrum traffic -> (plane lp, bin b): consecutive items are consecutive
// planes of one bin (frequency-major rows) or consecutive bins of one plane (plane-major).
CB_HD void spectrum_item(int i, int np, int bins, bool freq_major, int& lp, int& b) {
  lp = freq_major ? i % np : i / bins;
  b = freq_major ? i / np : i % bins;
}

// Items tid, tid + nthreads, ... < count: store(i, load(i)), with kLoadBytes of loads issued
// before their stores, so that each thread keeps that much in flight from global memory: the
// loads wait out the DRAM latency, and with a few blocks per SM (shared memory, registers) only
// many bytes in flight per thread fill the bandwidth (Little's law).
constexpr int kLoadBytes = 64;
template <class T, class Load, class Store>
CB_HD void batched_copy(int tid, int nthreads, int count, const Load& load, const Store& store) {
  constexpr int batch = kLoadBytes / int(sizeof(T));
  for (int base = tid; base < count; base += nthreads * batch) {
    T v[batch] = {};
    CB_UNROLL
    for (int u = 0; u < batch; ++u)
      if (base + u * nthreads < count) v[u] = load(base + u * nthreads);
    CB_UNROLL
    for (int u = 0; u < batch; ++u)
      if (base + u * nthreads < count) store(base + u * nthreads, v[u]);
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

// Phase `phase` of the forward transform of block blk, for thread tid of nthreads.
template <int MaxN>
CB_HD void block_phase(int phase, const BlockGeom& g, const ForwardArgs& a, int64_t blk, int tid, int nthreads,
                       Cf* spec) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  const Placement& pl = a.pl;
  float* real = reinterpret_cast<float*>(spec);
  const int plane_floats = 2 * g.spec_elems();
  if (phase == 0) {  // the zero-padded grids, read in tensor order; item i = (grid row i / nw, column i % nw)
    with_length<MaxN>(g.nw, [&](auto l) {
      const int nw = length<decltype(l)>(g.nw);  // a constant: multiplications, not divisions
      batched_copy<float>(
          tid, nthreads, np * g.nh * nw,
          [&](int i) {
            const int row = i / nw, gh = row % g.nh;
            const int ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
            const int iw = source_index(i % nw, pl.off[2], pl.step[2], pl.ext[2]);
            return ih < 0 || iw < 0 ? 0.0f : a.src[((p0 + row / g.nh) * pl.ext[1] + ih) * pl.ext[2] + iw];
          },
          [&](int i, float v) {
            const int row = i / nw;
            real[(row / g.nh) * plane_floats + (row % g.nh) * g.rpitch() + i % nw] = v;
          });
    });
  } else if (phase == 1) {
    with_length<MaxN>(g.nw, [&](auto l) {
      for (int i = tid; i < np * g.pairs(); i += nthreads)
        forward_rows<decltype(l)>(g, i / g.pairs(), 2 * (i % g.pairs()), spec);
    });
  } else if (phase == 2) {
    if (g.nh == 1) return;
    const int cols = a.out.columns(g.nwc);
    with_length<MaxN>(g.nh, [&](auto l) {
      for (int i = tid; i < np * cols; i += nthreads) transform_column<decltype(l), -1>(g, i / cols, i % cols, spec);
    });
  } else if (phase == 3) {  // consecutive threads: consecutive planes of a bin, or bins of a plane
    with_length<MaxN>(g.nw, [&](auto l) {
      const int bins = g.nh * g.nwc, nwc = length<decltype(l)>(g.nw) / 2 + 1;
      for (int i = tid; i < np * bins; i += nthreads) {
        int lp = 0, b = 0;
        spectrum_item(i, np, bins, a.out.freq_major, lp, b);
        const int64_t at = a.out.index(p0 + lp, b);
        if (at >= 0) a.out.data[at] = spec[lp * g.spec_elems() + (b / nwc) * g.spitch + b % nwc];
      }
    });
  }
}

// Phase `phase` of the inverse transform of block blk, for thread tid of nthreads.
template <int MaxN>
CB_HD void block_phase(int phase, const BlockGeom& g, const InverseArgs& a, int64_t blk, int tid, int nthreads,
                       Cf* spec) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  const Placement& pl = a.pl;
  if (phase == 0) {  // the spectra, dropped bins as zeros
    with_length<MaxN>(g.nw, [&](auto l) {
      const int bins = g.nh * g.nwc, nwc = length<decltype(l)>(g.nw) / 2 + 1;
      batched_copy<Cf>(
          tid, nthreads, np * bins,
          [&](int i) {
            int lp = 0, b = 0;
            spectrum_item(i, np, bins, a.in.freq_major, lp, b);
            const int64_t at = a.in.index(p0 + lp, b);
            return at >= 0 ? a.in.data[at] : Cf{0.0f, 0.0f};
          },
          [&](int i, Cf v) {
            int lp = 0, b = 0;
            spectrum_item(i, np, bins, a.in.freq_major, lp, b);
            spec[lp * g.spec_elems() + (b / nwc) * g.spitch + b % nwc] = v;
          });
    });
  } else if (phase == 1) {
    if (g.nh == 1) return;
    const int cols = a.in.columns(g.nwc);  // the columns past them are zero: so are their transforms
    with_length<MaxN>(g.nh, [&](auto l) {
      for (int i = tid; i < np * cols; i += nthreads) transform_column<decltype(l), +1>(g, i / cols, i % cols, spec);
    });
  } else if (phase == 2) {
    with_length<MaxN>(g.nw, [&](auto l) {
      for (int i = tid; i < np * g.pairs(); i += nthreads)
        inverse_rows<decltype(l)>(g, i / g.pairs(), 2 * (i % g.pairs()), spec);
    });
  } else if (phase == 3) {  // crop, subsample and scale, written in tensor order
    const float* real = reinterpret_cast<const float*>(spec);
    const int vol = pl.ext[1] * pl.ext[2], plane_floats = 2 * g.spec_elems();
    for (int i = tid; i < np * vol; i += nthreads) {
      const int lp = i / vol, ih = (i % vol) / pl.ext[2], iw = i % pl.ext[2];
      const int gh = pl.off[1] + ih * pl.step[1], gw = pl.off[2] + iw * pl.step[2];
      a.dst[(p0 + lp) * vol + i % vol] = real[lp * plane_floats + gh * g.rpitch() + gw] * a.scale;
    }
  }
}

}  // namespace convbench::small_fft
