// cuda.fbfft's transform kernels, launched: the block phases of convbench/small_fft_block.hpp
// (where the design and the arithmetic live, tested on the host) separated by barriers. One
// launch per tensor and direction fuses the scatter or crop, the transforms, and the
// frequency-major transposition with the band-limiting mask.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "convbench/cuda_check.hpp"
#include "convbench/small_fft_block.hpp"

namespace convbench::cuda {

using small_fft::BlockGeom;
using small_fft::SpectrumAddr;

// The instantiation MaxN (small_fft::with_instance) of the kernels, one launch on stream; defined
// and instantiated once, in small_fft_kernels.cu (their unrolled transforms take a while to
// compile).
template <int MaxN>
void launch_small_fft_n(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                        const BlockGeom& g, float scale, cudaStream_t stream);

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
  template <int MaxN>
  void operator()() const {
    launch_small_fft_n<MaxN>(forward, src, dst, spec, pl, g, scale, stream);
  }
};

// Enqueue the forward (tensor -> spectrum) or inverse (spectrum -> tensor, times scale)
// transforms of g.planes planes on stream; errors are checked by the caller (CB_LAUNCH).
inline void launch_small_fft(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                             const BlockGeom& g, float scale, cudaStream_t stream) {
  if (g.planes > 0) small_fft::with_instance(g, SmallFftLaunch{forward, src, dst, spec, pl, g, scale, stream});
}

}  // namespace convbench::cuda
