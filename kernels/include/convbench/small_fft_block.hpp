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
// Each row or column lives in one thread's registers. For power-of-two sizes up to 64 (square or
// 1D) the FFT length is a template parameter: every index is a constant after unrolling, the
// data stay in registers and the twiddles are compile-time constants (fbfft's approach). Other
// 7-smooth sizes up to 128 use the mixed-radix stages of small_fft.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "convbench/fft_grid.hpp"
#include "convbench/host_device.hpp"
#include "convbench/small_fft.hpp"

namespace convbench::small_fft {

// ---- power-of-two FFT with compile-time length -------------------------------------------

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

// cos and sin of 2*pi*k/N, k < N/2: the twiddles of every radix-2 stage of a length-N FFT.
template <int N>
struct Twiddles {
  float c[N / 2], s[N / 2];
};

template <int N>
CB_HD_CONSTEXPR Twiddles<N> make_twiddles() {
  Twiddles<N> t{};
  for (int k = 0; k < N / 2; ++k) {
    double s = 0, c = 0;
    sincos_2pi(k, N, s, c);
    t.c[k] = static_cast<float>(c), t.s[k] = static_cast<float>(s);
  }
  return t;
}

template <int N>
CB_HD_CONSTEXPR int bit_reverse(int i) {
  int r = 0;
  for (int m = 1; m < N; m *= 2) r = 2 * r + ((i / m) % 2);
  return r;
}

// In-place unscaled DFT of v (natural order in and out), Sign -1 forward, +1 inverse: radix-2
// decimation in time, fully unrolled.
template <int N, int Sign>
CB_HD void fft_pow2(Cf (&v)[N]) {
  static_assert(N >= 2 && (N & (N - 1)) == 0, "power of two");
  constexpr Twiddles<N> tw = make_twiddles<N>();
  CB_UNROLL
  for (int i = 0; i < N; ++i) {
    const int j = bit_reverse<N>(i);
    if (i < j) {
      const Cf t = v[i];
      v[i] = v[j], v[j] = t;
    }
  }
  CB_UNROLL
  for (int half = 1; half < N; half *= 2) {
    CB_UNROLL
    for (int j = 0; j < half; ++j) {
      const int k = j * (N / (2 * half));
      const Cf w{tw.c[k], Sign * tw.s[k]};
      CB_UNROLL
      for (int b = j; b < N; b += 2 * half) {
        const Cf a = v[b], t = v[b + half] * w;
        v[b] = a + t, v[b + half] = a - t;
      }
    }
  }
}

// The DFT of v[0..f.n): compile-time length MaxN when Pow2, else the mixed-radix stages.
template <int MaxN, bool Pow2, int Sign>
CB_HD void dft(Cf (&v)[MaxN], const Radices& f) {
  if constexpr (Pow2) {
    fft_pow2<MaxN, Sign>(v);
  } else {
    Cf t[MaxN];
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
  int max_n = 16;      // the instantiation: per-thread arrays of max_n values
  bool pow2 = false;   // compile-time length max_n (nw == max_n, nh == max_n or 1)
  int per_block = 1;   // planes per block
  int rpitch = 1;      // floats per real row in shared memory, odd: no bank conflicts on rows
  int spitch = 1;      // complex values per spectrum row in shared memory
  int64_t planes = 0;  // in the whole batch

  CB_HD int real_elems() const { return nh * rpitch; }  // floats per plane
  // Complex values per plane, odd: planes side by side in the frequency-major copies hit
  // different banks.
  CB_HD int spec_elems() const { return nh * spitch + (nh * spitch + 1) % 2; }
  CB_HD int pairs() const { return (nh + 1) / 2; }      // row pairs per plane
  CB_HD int64_t blocks() const { return (planes + per_block - 1) / per_block; }
  std::size_t shared_bytes() const {
    return std::size_t(per_block) * (std::size_t(spec_elems()) * sizeof(Cf) + std::size_t(real_elems()) * sizeof(float));
  }
};

constexpr int kBlockThreads = 128;
constexpr std::size_t kMaxSharedBytes = 160 * 1024;  // below the opt-in limit of sm_80 and sm_90
constexpr int kMaxPow2 = 64;  // 128 complex values would not fit in registers

// Geometry for `planes` real nh x nw transforms; max_n = 0 when a size is unsupported.
inline BlockGeom block_geom(int nh, int nw, int64_t planes) {
  BlockGeom g;
  g.nh = nh, g.nw = nw, g.nwc = nw / 2 + 1, g.planes = planes;
  g.rh = factor(nh), g.rw = factor(nw);
  if (!supported(nh) || !supported(nw)) {
    g.max_n = 0;
    return g;
  }
  const int n = std::max(nh, nw);
  g.pow2 = (nw & (nw - 1)) == 0 && nw >= 8 && nw <= kMaxPow2 && (nh == 1 || nh == nw);
  g.max_n = g.pow2 ? nw : n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
  g.rpitch = nw % 2 == 0 ? nw + 1 : nw;
  g.spitch = g.nwc % 2 == 0 ? g.nwc + 1 : g.nwc;
  // As many planes as give every thread at most one row pair and one column (a second round
  // for a few threads would double a phase), within the shared memory.
  const int work = std::max(g.pairs(), nh > 1 ? g.nwc : 1);
  const std::size_t plane_bytes = std::size_t(g.spec_elems()) * sizeof(Cf) + std::size_t(g.real_elems()) * sizeof(float);
  int64_t per = std::max(1, kBlockThreads / work);
  per = std::min<int64_t>({per, int64_t(std::max<std::size_t>(1, kMaxSharedBytes / plane_bytes)), std::max<int64_t>(planes, 1)});
  g.per_block = int(per);
  return g;
}

// Calls f.template operator()<MaxN, Pow2>() for g's instantiation.
template <class F>
void with_instance(const BlockGeom& g, F&& f) {
  if (g.max_n <= 0)  // an unsupported size has no geometry: its kernels would overrun shared memory
    throw std::invalid_argument("small FFT: no own transform for " + std::to_string(g.nh) + "x" + std::to_string(g.nw));
  if (g.pow2) {
    switch (g.max_n) {
      case 8: return f.template operator()<8, true>();
      case 16: return f.template operator()<16, true>();
      case 32: return f.template operator()<32, true>();
      default: return f.template operator()<64, true>();
    }
  }
  switch (g.max_n) {
    case 16: return f.template operator()<16, false>();
    case 32: return f.template operator()<32, false>();
    case 64: return f.template operator()<64, false>();
    default: return f.template operator()<128, false>();
  }
}

// ---- the phases ----------------------------------------------------------------------------
// Each phase is run by threads tid = 0..nthreads-1 of block `blk`; spec and real are the block's
// shared memory ([plane][h][spitch] complex, [plane][h][rpitch] real). A phase reads only what
// earlier phases wrote.

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

// Items tid, tid + nthreads, ... < count: store(i, load(i)), with kLoadBatch loads issued before
// their stores, so that each thread keeps several global reads in flight (a load-then-store
// loop would wait out the memory latency once per item).
constexpr int kLoadBatch = 4;
template <class T, class Load, class Store>
CB_HD void batched_copy(int tid, int nthreads, int count, const Load& load, const Store& store) {
  for (int base = tid; base < count; base += nthreads * kLoadBatch) {
    T v[kLoadBatch] = {};
    CB_UNROLL
    for (int u = 0; u < kLoadBatch; ++u)
      if (base + u * nthreads < count) v[u] = load(base + u * nthreads);
    CB_UNROLL
    for (int u = 0; u < kLoadBatch; ++u)
      if (base + u * nthreads < count) store(base + u * nthreads, v[u]);
  }
}

// Real rows ha and hb (hb may be past the plane: zero) through one complex FFT, split into the
// two half-spectra (Z = FFT(a + i*b): A[k] = (Z[k] + conj(Z[-k]))/2, B[k] = (Z[k] - conj(Z[-k]))/2i).
template <int MaxN, bool Pow2>
CB_HD void forward_rows(const BlockGeom& g, int lp, int ha, const float* real, Cf* spec) {
  const int nw = Pow2 ? MaxN : g.nw, hb = ha + 1;
  const bool has_b = hb < g.nh;
  const float* ra = real + lp * g.real_elems() + ha * g.rpitch;
  Cf v[MaxN];
  CB_UNROLL
  for (int w = 0; w < nw; ++w) v[w] = {ra[w], has_b ? ra[g.rpitch + w] : 0.0f};
  dft<MaxN, Pow2, -1>(v, g.rw);
  Cf* A = spec + lp * g.spec_elems() + ha * g.spitch;
  split_pair(v, nw, A, has_b ? A + g.spitch : nullptr);
}

// Column k of the half-spectrum, in place, Sign -1 forward, +1 inverse.
template <int MaxN, bool Pow2, int Sign>
CB_HD void transform_column(const BlockGeom& g, int lp, int k, Cf* spec) {
  const int nh = Pow2 ? MaxN : g.nh;
  Cf* col = spec + lp * g.spec_elems() + k;
  Cf v[MaxN];
  CB_UNROLL
  for (int h = 0; h < nh; ++h) v[h] = col[h * g.spitch];
  dft<MaxN, Pow2, Sign>(v, g.rh);
  CB_UNROLL
  for (int h = 0; h < nh; ++h) col[h * g.spitch] = v[h];
}

// Half-spectra of rows ha, hb (hb may be past the plane) back to two real rows in one complex
// inverse FFT; as a C2R transform does, the imaginary parts of bins 0 and nw/2 are ignored.
template <int MaxN, bool Pow2>
CB_HD void inverse_rows(const BlockGeom& g, int lp, int ha, const Cf* spec, float* real) {
  const int nw = Pow2 ? MaxN : g.nw, hb = ha + 1;
  const bool has_b = hb < g.nh;
  const Cf* A = spec + lp * g.spec_elems() + ha * g.spitch;
  Cf v[MaxN];
  join_pair(A, has_b ? A + g.spitch : nullptr, nw, v);
  dft<MaxN, Pow2, +1>(v, g.rw);
  float* ra = real + lp * g.real_elems() + ha * g.rpitch;
  CB_UNROLL
  for (int w = 0; w < nw; ++w) {
    ra[w] = v[w].re;
    if (has_b) ra[g.rpitch + w] = v[w].im;
  }
}

// Phase `phase` of the forward transform of block blk, for thread tid of nthreads.
template <int MaxN, bool Pow2>
CB_HD void block_phase(int phase, const BlockGeom& g, const ForwardArgs& a, int64_t blk, int tid, int nthreads,
                         Cf* spec, float* real) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  const Placement& pl = a.pl;
  if (phase == 0) {  // the zero-padded grids, read in tensor order; item i = (grid row i / nw, column i % nw)
    const int nw = Pow2 ? MaxN : g.nw;  // a power of two known at compile time: shifts, not divisions
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
          real[(row / g.nh) * g.real_elems() + (row % g.nh) * g.rpitch + i % nw] = v;
        });
  } else if (phase == 1) {
    for (int i = tid; i < np * g.pairs(); i += nthreads)
      forward_rows<MaxN, Pow2>(g, i / g.pairs(), 2 * (i % g.pairs()), real, spec);
  } else if (phase == 2) {
    if (g.nh == 1) return;
    for (int i = tid; i < np * g.nwc; i += nthreads) transform_column<MaxN, Pow2, -1>(g, i / g.nwc, i % g.nwc, spec);
  } else if (phase == 3) {  // consecutive threads: consecutive planes of a bin, or bins of a plane
    const int bins = g.nh * g.nwc;
    for (int i = tid; i < np * bins; i += nthreads) {
      int lp = 0, b = 0;
      spectrum_item(i, np, bins, a.out.freq_major, lp, b);
      const int64_t at = a.out.index(p0 + lp, b);
      const int nwc = Pow2 ? MaxN / 2 + 1 : g.nwc;
      if (at >= 0) a.out.data[at] = spec[lp * g.spec_elems() + (b / nwc) * g.spitch + b % nwc];
    }
  }
}

// Phase `phase` of the inverse transform of block blk, for thread tid of nthreads.
template <int MaxN, bool Pow2>
CB_HD void block_phase(int phase, const BlockGeom& g, const InverseArgs& a, int64_t blk, int tid, int nthreads,
                         Cf* spec, float* real) {
  const int64_t p0 = blk * g.per_block;
  const int np = int(g.planes - p0 < g.per_block ? g.planes - p0 : g.per_block);
  const Placement& pl = a.pl;
  if (phase == 0) {  // the spectra, dropped bins as zeros
    const int bins = g.nh * g.nwc;
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
          const int nwc = Pow2 ? MaxN / 2 + 1 : g.nwc;
          spec[lp * g.spec_elems() + (b / nwc) * g.spitch + b % nwc] = v;
        });
  } else if (phase == 1) {
    if (g.nh == 1) return;
    for (int i = tid; i < np * g.nwc; i += nthreads) transform_column<MaxN, Pow2, +1>(g, i / g.nwc, i % g.nwc, spec);
  } else if (phase == 2) {
    for (int i = tid; i < np * g.pairs(); i += nthreads)
      inverse_rows<MaxN, Pow2>(g, i / g.pairs(), 2 * (i % g.pairs()), spec, real);
  } else if (phase == 3) {  // crop, subsample and scale, written in tensor order
    const int vol = pl.ext[1] * pl.ext[2];
    for (int i = tid; i < np * vol; i += nthreads) {
      const int lp = i / vol, ih = (i % vol) / pl.ext[2], iw = i % pl.ext[2];
      const int gh = pl.off[1] + ih * pl.step[1], gw = pl.off[2] + iw * pl.step[2];
      a.dst[(p0 + lp) * vol + i % vol] = real[lp * g.real_elems() + gh * g.rpitch + gw] * a.scale;
    }
  }
}

}  // namespace convbench::small_fft
