// Annotations for code that both the CUDA kernels and host tests compile.
#pragma once

#if defined(__CUDACC__)
#define CB_HD __host__ __device__ __forceinline__
#define CB_HD_CONSTEXPR __host__ __device__ constexpr
#else
#define CB_HD inline
#define CB_HD_CONSTEXPR constexpr
#endif

// Full unrolling where it matters (device code); host compilers would warn about the pragma.
#if defined(__CUDA_ARCH__)
#define CB_UNROLL _Pragma("unroll")
#else
#define CB_UNROLL
#endif
