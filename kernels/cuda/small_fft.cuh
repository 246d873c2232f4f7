// cuda.fbfft's transform kernel: the block phases of convbench/small_fft_block.hpp (where the
// design and the arithmetic live, tested on the host) separated by barriers. One launch per
// tensor and direction fuses the scatter or crop, the transforms, and the frequency-major
// transposition with the band-limiting mask.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "convbench/cuda_check.hpp"
#include "convbench/small_fft_block.hpp"

namespace convbench::cuda {

using small_fft::BlockGeom;
using small_fft::SpectrumAddr;

// Args: small_fft::ForwardArgs or InverseArgs, which pick the direction's phases.
template <int MaxN, bool Pow2, class Args>
__global__ void __launch_bounds__(small_fft::kBlockThreads) small_fft_kernel(BlockGeom g, Args a) {
  extern __shared__ float2 smem[];
  auto* spec = reinterpret_cast<small_fft::Cf*>(smem);
  float* real = reinterpret_cast<float*>(spec + g.per_block * g.spec_elems());
  for (int64_t blk = blockIdx.x; blk < g.blocks(); blk += gridDim.x)
    for (int phase = 0; phase < small_fft::kPhases; ++phase) {
      small_fft::block_phase<MaxN, Pow2>(phase, g, a, blk, threadIdx.x, blockDim.x, spec, real);
      __syncthreads();
    }
}

template <int MaxN, bool Pow2>
void launch_small_fft_n(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                        const BlockGeom& g, float scale, cudaStream_t stream) {
  // Above 48 KiB of dynamic shared memory a kernel must opt in: once per kernel, not per run.
  // Shared memory bounds how many blocks fit on an SM, so ask for the largest carveout too.
  static const bool opted_in = [] {
    const int bytes = int(small_fft::kMaxSharedBytes);
    for (const void* k : {reinterpret_cast<const void*>(small_fft_kernel<MaxN, Pow2, small_fft::ForwardArgs>),
                          reinterpret_cast<const void*>(small_fft_kernel<MaxN, Pow2, small_fft::InverseArgs>)}) {
      CB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
      CB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
    }
    return true;
  }();
  (void)opted_in;
  const unsigned blocks = unsigned(g.blocks() < (1 << 20) ? g.blocks() : (1 << 20));
  if (forward)
    small_fft_kernel<MaxN, Pow2><<<blocks, small_fft::kBlockThreads, g.shared_bytes(), stream>>>(
        g, small_fft::ForwardArgs{src, pl, spec});
  else
    small_fft_kernel<MaxN, Pow2><<<blocks, small_fft::kBlockThreads, g.shared_bytes(), stream>>>(
        g, small_fft::InverseArgs{spec, pl, dst, scale});
}

// launch_small_fft_n for the instantiation small_fft::with_instance picks.
struct SmallFftLaunch {
  bool forward;
  const float* src;
  float* dst;
  const SpectrumAddr& spec;
  const Placement& pl;
  const BlockGeom& g;
  float scale;
  cudaStream_t stream;
  template <int MaxN, bool Pow2>
  void operator()() const {
    launch_small_fft_n<MaxN, Pow2>(forward, src, dst, spec, pl, g, scale, stream);
  }
};

// Enqueue the forward (tensor -> spectrum) or inverse (spectrum -> tensor, times scale)
// transforms of g.planes planes on stream; errors are checked by the caller (CB_LAUNCH).
inline void launch_small_fft(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                             const BlockGeom& g, float scale, cudaStream_t stream) {
  if (g.planes > 0) small_fft::with_instance(g, SmallFftLaunch{forward, src, dst, spec, pl, g, scale, stream});
}

}  // namespace convbench::cuda
