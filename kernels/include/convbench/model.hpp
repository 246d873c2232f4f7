// Theoretical cost model: Mathieu et al.'s counts generalised to d dims, and our own counts of
// what the FFT algorithms actually execute (chosen transform size, bins, GEMM shapes, bytes).
#pragma once

#include <string>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"

namespace convbench {

// Flops of one real d-dim FFT of P points: kFftConstant * P * log2(P) (the constant for a
// real-to-complex transform, half the 5 P log2 P of a complex one).
inline constexpr double kFftConstant = 2.5;

struct PassModel {
  // Mathieu et al. (n = padded input extent, n' = n - k + 1, k = dilated kernel extent):
  double mathieu_direct_macs = 0;  // fprop S f' f n'^d k^d; dgrad S f' f n^d k^d; wgrad S f' f k^d n'^d
  double mathieu_fft_ops = 0;      // 2 C n^d log2 n [f'S + fS + f'f] + 4 S f' f n^d, n = transform size
  double mathieu_fft_mem_bytes = 0;  // 4 n^(d-1) (n+1) (S f + S f' + f f'), n = padded input extent
  // What convbench executes:
  double direct_macs = 0;          // multiply-adds of direct convolution (stride, dilation, groups)
  std::string fft_size;            // transform size per active dim, "64x64"
  double bins = 0;                 // stored half-spectrum coefficients per plane
  double kept_bins = 0;            // of them the GEMMs see: bins, fewer band-limited (compression)
  double points = 0;               // transform volume (product of the sizes)
  double transforms = 0;           // forward + inverse transforms (planes)
  double fft_flops = 0;            // transforms * kFftConstant * P log2 P + 8 flops per complex MAC (kept bins)
  std::string gemm_shape;          // per bin and group: "(MxK)*(KxN)"
  double min_bytes = 0;            // compulsory traffic: inputs read once, outputs written once
  double fft_bytes = 0;            // FFT pipeline floor: min_bytes + kept spectra written and read once
};

// Model of one pass; `step` sums the three passes with transform reuse (6 transforms, not 9).
// The FFT counts are at transform sizes nf (per dim, >= the padded input), or at the sizes the
// policy gives under operation counts (cheapest then means the smallest 7-smooth size).
// Band-limited (compression > 0): the GEMMs and the spectra count the bins band_limit_bins()
// keeps; the transforms stay whole (they run over the full grid).
PassModel model(const Shape& s, Pass p, const Extent& nf, double compression = 0);
PassModel model(const Shape& s, Pass p, FftSizePolicy policy, double compression = 0);
// The same when the filter's spectra come from a DFT over its taps (8 flops per complex
// multiply-add, kept bins x taps per plane) instead of its transforms; bytes are unchanged (the
// spectrum is written and read once either way).
PassModel with_filter_dft(PassModel m, const Shape& s, Pass p);

}  // namespace convbench
