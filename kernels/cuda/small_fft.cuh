// cuda.fbfft's transform kernels: many small real transforms (1D, or 2D up to 128 x 128) at once,
// each row or column held by one thread (convbench/small_fft.hpp does the arithmetic), a 2D
// plane staged in shared memory between the row and the column pass. Unlike the cuFFT path,
// the zero-padding scatter, the transposition to frequency-major order, the band-limiting mask
// and the crop/scale gather are fused into the transforms: one kernel per tensor each way.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "convbench/small_fft.hpp"
#include "fft_grid.cuh"

namespace convbench::cuda {

using small_fft::Cf;
using small_fft::Radices;

// A real plane of nh x nw (nh = 1 in 1D) and its half-spectrum of nh x nwc bins, b = h*nwc + k.
struct PlaneGeom {
  int nh, nw, nwc;
  Radices rh, rw;
};

inline PlaneGeom plane_geom(int nh, int nw) {
  return {nh, nw, nw / 2 + 1, small_fft::factor(nh), small_fft::factor(nw)};
}

// Where bin b of plane p lives in global memory. Frequency-major (the convolution's GEMMs):
// row row_of_bin[b] (-1: dropped by band-limiting; nullptr: row b), column order(p), `planes`
// columns. Plane-major (the transform benchmark): p * bins + b.
struct SpectrumAddr {
  float2* data;
  int64_t planes, bins;
  PlaneOrder order;
  const int* row_of_bin;
  bool freq_major;
  __device__ __forceinline__ int64_t index(int64_t p, int b) const {
    if (!freq_major) return p * bins + b;
    const int row = row_of_bin ? row_of_bin[b] : b;
    return row < 0 ? -1 : int64_t(row) * planes + order(p);
  }
};

__device__ __forceinline__ Cf load_bin(const SpectrumAddr& s, int64_t p, int b) {
  const int64_t i = s.index(p, b);
  if (i < 0) return {0.0f, 0.0f};
  const float2 v = s.data[i];
  return {v.x, v.y};
}

__device__ __forceinline__ void store_bin(const SpectrumAddr& s, int64_t p, int b, Cf v) {
  const int64_t i = s.index(p, b);
  if (i >= 0) s.data[i] = make_float2(v.re, v.im);
}

// Element (gh, gw) of plane p's zero-padded grid, read from the tensor (2D: ext[0] = 1).
__device__ __forceinline__ float grid_value(const float* src, const Placement& pl, int64_t p, int gh, int gw) {
  const int ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
  const int iw = source_index(gw, pl.off[2], pl.step[2], pl.ext[2]);
  if (ih < 0 || iw < 0) return 0.0f;
  return src[p * int64_t(pl.ext[1]) * pl.ext[2] + int64_t(ih) * pl.ext[2] + iw];
}

// Grid row gh of plane p, from the real (half = 0) or imaginary (half = 1) part of buf, cropped,
// subsampled and scaled into the tensor.
template <int MaxN>
__device__ __forceinline__ void store_row(float* dst, const Placement& pl, int64_t p, int gh, const Cf* buf,
                                          int half, float scale) {
  const int ih = source_index(gh, pl.off[1], pl.step[1], pl.ext[1]);
  if (ih < 0) return;
  float* row = dst + p * int64_t(pl.ext[1]) * pl.ext[2] + int64_t(ih) * pl.ext[2];
  for (int iw = 0; iw < pl.ext[2]; ++iw) {
    const Cf v = buf[pl.off[2] + iw * pl.step[2]];
    row[iw] = (half ? v.im : v.re) * scale;
  }
}

// 1D forward: a thread transforms planes 2t and 2t+1 together (two-for-one packing).
template <int MaxN>
__global__ void small_r2c_1d(const float* __restrict__ src, Placement pl, PlaneGeom g, int64_t planes,
                             SpectrumAddr out) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; 2 * t < planes;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t pa = 2 * t, pb = 2 * t + 1;
    Cf buf[MaxN], A[MaxN / 2 + 1], B[MaxN / 2 + 1];
    for (int q = 0; q < g.nw; ++q) {
      const int gw = small_fft::digit_reverse(q, g.rw);
      buf[q] = {grid_value(src, pl, pa, 0, gw), pb < planes ? grid_value(src, pl, pb, 0, gw) : 0.0f};
    }
    small_fft::fft_stages(buf, g.rw, -1);
    small_fft::split_pair(buf, g.nw, A, B);
    for (int k = 0; k < g.nwc; ++k) {
      store_bin(out, pa, k, A[k]);
      if (pb < planes) store_bin(out, pb, k, B[k]);
    }
  }
}

// 1D inverse: the mirror of small_r2c_1d, into the cropped tensor.
template <int MaxN>
__global__ void small_c2r_1d(SpectrumAddr in, Placement pl, PlaneGeom g, int64_t planes, float* __restrict__ dst,
                             float scale) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; 2 * t < planes;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t pa = 2 * t, pb = 2 * t + 1;
    Cf buf[MaxN], A[MaxN / 2 + 1], B[MaxN / 2 + 1];
    for (int k = 0; k < g.nwc; ++k) {
      A[k] = load_bin(in, pa, k);
      B[k] = pb < planes ? load_bin(in, pb, k) : Cf{0.0f, 0.0f};
    }
    small_fft::join_pair(A, B, g.nw, g.rw, buf);
    small_fft::fft_stages(buf, g.rw, +1);
    store_row<MaxN>(dst, pl, pa, 0, buf, 0, scale);
    if (pb < planes) store_row<MaxN>(dst, pl, pb, 0, buf, 1, scale);
  }
}

// 2D forward: a block owns `per_block` planes, staged in shared memory as [plane][h][nwc].
// Rows first (a thread per pair of rows), then columns (a thread per column; planes vary
// fastest across threads so that frequency-major stores of one bin are contiguous).
template <int MaxN>
__global__ void small_r2c_2d(const float* __restrict__ src, Placement pl, PlaneGeom g, int64_t planes,
                             int per_block, SpectrumAddr out) {
  extern __shared__ float2 smem_raw[];
  Cf* sm = reinterpret_cast<Cf*>(smem_raw);
  const int64_t p0 = int64_t(blockIdx.x) * per_block;
  const int pairs = (g.nh + 1) / 2, plane_elems = g.nh * g.nwc;
  Cf buf[MaxN];
  for (int item = threadIdx.x; item < per_block * pairs; item += blockDim.x) {
    const int lp = item / pairs, ha = 2 * (item % pairs), hb = ha + 1;
    const int64_t p = p0 + lp;
    if (p >= planes) continue;
    for (int q = 0; q < g.nw; ++q) {
      const int gw = small_fft::digit_reverse(q, g.rw);
      buf[q] = {grid_value(src, pl, p, ha, gw), hb < g.nh ? grid_value(src, pl, p, hb, gw) : 0.0f};
    }
    small_fft::fft_stages(buf, g.rw, -1);
    Cf* A = sm + lp * plane_elems + ha * g.nwc;
    Cf scratch[MaxN / 2 + 1];
    small_fft::split_pair(buf, g.nw, A, hb < g.nh ? A + g.nwc : scratch);
  }
  __syncthreads();
  for (int item = threadIdx.x; item < per_block * g.nwc; item += blockDim.x) {
    const int lp = item % per_block, k = item / per_block;
    const int64_t p = p0 + lp;
    if (p >= planes) continue;
    const Cf* col = sm + lp * plane_elems + k;
    for (int q = 0; q < g.nh; ++q) buf[q] = col[small_fft::digit_reverse(q, g.rh) * g.nwc];
    small_fft::fft_stages(buf, g.rh, -1);
    for (int h = 0; h < g.nh; ++h) store_bin(out, p, h * g.nwc + k, buf[h]);
  }
}

// 2D inverse: columns from the spectrum into shared memory, then rows out to the tensor.
template <int MaxN>
__global__ void small_c2r_2d(SpectrumAddr in, Placement pl, PlaneGeom g, int64_t planes, int per_block,
                             float* __restrict__ dst, float scale) {
  extern __shared__ float2 smem_raw[];
  Cf* sm = reinterpret_cast<Cf*>(smem_raw);
  const int64_t p0 = int64_t(blockIdx.x) * per_block;
  const int pairs = (g.nh + 1) / 2, plane_elems = g.nh * g.nwc;
  Cf buf[MaxN];
  for (int item = threadIdx.x; item < per_block * g.nwc; item += blockDim.x) {
    const int lp = item % per_block, k = item / per_block;
    const int64_t p = p0 + lp;
    if (p >= planes) continue;
    for (int q = 0; q < g.nh; ++q) buf[q] = load_bin(in, p, small_fft::digit_reverse(q, g.rh) * g.nwc + k);
    small_fft::fft_stages(buf, g.rh, +1);
    Cf* col = sm + lp * plane_elems + k;
    for (int h = 0; h < g.nh; ++h) col[h * g.nwc] = buf[h];
  }
  __syncthreads();
  for (int item = threadIdx.x; item < per_block * pairs; item += blockDim.x) {
    const int lp = item / pairs, ha = 2 * (item % pairs), hb = ha + 1;
    const int64_t p = p0 + lp;
    if (p >= planes) continue;
    const Cf* A = sm + lp * plane_elems + ha * g.nwc;
    small_fft::join_pair(A, hb < g.nh ? A + g.nwc : nullptr, g.nw, g.rw, buf);
    small_fft::fft_stages(buf, g.rw, +1);
    store_row<MaxN>(dst, pl, p, ha, buf, 0, scale);
    if (hb < g.nh) store_row<MaxN>(dst, pl, p, hb, buf, 1, scale);
  }
}

// Launch configuration of the small transforms: threads per block, planes per block (2D), and
// its shared memory.
struct SmallFftLaunch {
  static constexpr int kThreads = 128;
  static constexpr int kMaxSharedBytes = 96 * 1024;
  int per_block = 1;
  std::size_t shared_bytes = 0;
  unsigned blocks = 1;
};

inline SmallFftLaunch small_fft_launch(const PlaneGeom& g, int64_t planes) {
  SmallFftLaunch l;
  if (g.nh == 1) {  // 1D: a thread per pair of planes, no shared memory
    const int64_t threads = (planes + 1) / 2;
    l.blocks = unsigned(std::min<int64_t>((threads + l.kThreads - 1) / l.kThreads, 1 << 20));
    return l;
  }
  const int64_t plane_bytes = int64_t(g.nh) * g.nwc * int64_t(sizeof(float2));
  const int work = std::max((g.nh + 1) / 2, g.nwc);  // threads one plane can use
  int64_t per = std::max<int64_t>(1, (l.kThreads + work - 1) / work);
  per = std::min<int64_t>({per, std::max<int64_t>(1, l.kMaxSharedBytes / plane_bytes), planes});
  l.per_block = int(per);
  l.shared_bytes = std::size_t(per * plane_bytes);
  l.blocks = unsigned((planes + per - 1) / per);
  return l;
}

// The widest dim picks the instantiation: per-thread arrays of MaxN complex values.
inline int small_fft_max_n(const PlaneGeom& g) {
  const int n = std::max(g.nh, g.nw);
  return n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
}

// Enqueue the forward (tensor -> spectrum) or inverse (spectrum -> tensor, times scale)
// transforms of `planes` planes on stream; errors are checked by the caller (CB_LAUNCH).
template <int MaxN>
void launch_small_fft_n(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                        const PlaneGeom& g, int64_t planes, float scale, cudaStream_t stream) {
  const SmallFftLaunch l = small_fft_launch(g, planes);
  if (g.nh == 1) {
    if (forward)
      small_r2c_1d<MaxN><<<l.blocks, l.kThreads, 0, stream>>>(src, pl, g, planes, spec);
    else
      small_c2r_1d<MaxN><<<l.blocks, l.kThreads, 0, stream>>>(spec, pl, g, planes, dst, scale);
    return;
  }
  // Above 48 KiB of dynamic shared memory a kernel must opt in: once per kernel, not per run
  // (an error surfaces at the launch check).
  static const bool opted_in = [] {
    cudaFuncSetAttribute(small_r2c_2d<MaxN>, cudaFuncAttributeMaxDynamicSharedMemorySize, SmallFftLaunch::kMaxSharedBytes);
    cudaFuncSetAttribute(small_c2r_2d<MaxN>, cudaFuncAttributeMaxDynamicSharedMemorySize, SmallFftLaunch::kMaxSharedBytes);
    return true;
  }();
  (void)opted_in;
  if (forward)
    small_r2c_2d<MaxN><<<l.blocks, l.kThreads, l.shared_bytes, stream>>>(src, pl, g, planes, l.per_block, spec);
  else
    small_c2r_2d<MaxN><<<l.blocks, l.kThreads, l.shared_bytes, stream>>>(spec, pl, g, planes, l.per_block, dst,
                                                                          scale);
}

inline void launch_small_fft(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                             const PlaneGeom& g, int64_t planes, float scale, cudaStream_t stream) {
  switch (small_fft_max_n(g)) {
    case 16: return launch_small_fft_n<16>(forward, src, dst, spec, pl, g, planes, scale, stream);
    case 32: return launch_small_fft_n<32>(forward, src, dst, spec, pl, g, planes, scale, stream);
    case 64: return launch_small_fft_n<64>(forward, src, dst, spec, pl, g, planes, scale, stream);
    default: return launch_small_fft_n<128>(forward, src, dst, spec, pl, g, planes, scale, stream);
  }
}

}  // namespace convbench::cuda
