// cuda.fbfft's transform kernels (small_fft.cuh), every instantiation of small_fft::with_instance.
#include "small_fft.cuh"

namespace convbench::cuda {

// Args: small_fft::ForwardArgs or InverseArgs, which pick the direction's phases.
template <int MaxN, class Args>
__global__ void __launch_bounds__(small_fft::kBlockThreads) small_fft_kernel(BlockGeom g, Args a) {
  extern __shared__ float2 smem[];
  auto* spec = reinterpret_cast<small_fft::Cf*>(smem);
  for (int64_t blk = blockIdx.x; blk < g.blocks(); blk += gridDim.x)
    for (int phase = 0; phase < small_fft::phase_count<MaxN>(); ++phase) {
      small_fft::block_phase<MaxN>(phase, g, a, blk, threadIdx.x, blockDim.x, spec);
      __syncthreads();
    }
}

template <int MaxN>
void launch_small_fft_n(bool forward, const float* src, float* dst, SpectrumAddr spec, const Placement& pl,
                        const BlockGeom& g, float scale, cudaStream_t stream) {
  // Above 48 KiB of dynamic shared memory a kernel must opt in: once per kernel, not per run.
  // Shared memory bounds how many blocks fit on an SM, so ask for the largest carveout too.
  static const bool opted_in = [] {
    const int bytes = int(small_fft::kMaxSharedBytes);
    for (const void* k : {reinterpret_cast<const void*>(small_fft_kernel<MaxN, small_fft::ForwardArgs>),
                          reinterpret_cast<const void*>(small_fft_kernel<MaxN, small_fft::InverseArgs>)}) {
      CB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
      CB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
    }
    return true;
  }();
  (void)opted_in;
  const unsigned blocks = unsigned(g.blocks() < (1 << 20) ? g.blocks() : (1 << 20));
  if (forward)
    small_fft_kernel<MaxN><<<blocks, small_fft::kBlockThreads, g.shared_bytes(), stream>>>(
        g, small_fft::ForwardArgs{src, pl, spec});
  else
    small_fft_kernel<MaxN><<<blocks, small_fft::kBlockThreads, g.shared_bytes(), stream>>>(
        g, small_fft::InverseArgs{spec, pl, dst, scale});
}

template void launch_small_fft_n<8>(bool, const float*, float*, SpectrumAddr, const Placement&, const BlockGeom&,
                                    float, cudaStream_t);
template void launch_small_fft_n<16>(bool, const float*, float*, SpectrumAddr, const Placement&, const BlockGeom&,
                                     float, cudaStream_t);
template void launch_small_fft_n<32>(bool, const float*, float*, SpectrumAddr, const Placement&, const BlockGeom&,
                                     float, cudaStream_t);
template void launch_small_fft_n<64>(bool, const float*, float*, SpectrumAddr, const Placement&, const BlockGeom&,
                                     float, cudaStream_t);
template void launch_small_fft_n<small_fft::kSplitInstance>(bool, const float*, float*, SpectrumAddr, const Placement&,
                                                            const BlockGeom&, float, cudaStream_t);
template void launch_small_fft_n<small_fft::kMaxSize>(bool, const float*, float*, SpectrumAddr, const Placement&,
                                                      const BlockGeom&, float, cudaStream_t);

}  // namespace convbench::cuda
