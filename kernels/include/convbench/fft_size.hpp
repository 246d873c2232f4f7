// Transform-size planner for FFT convolution: per dim the cheapest admissible size under a
// backend's cost model (FFTW's way: plan once, execute many, the planner chooses).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"

namespace convbench {

// True when n > 0 has no prime factor above 7.
bool is_smooth(int64_t n);
// Smallest transform size >= n allowed by the policy: a 7-smooth size (smooth, and cheapest
// when no cost is known) or a power of two (pow2).
int64_t fft_size(int64_t n, FftSizePolicy policy);

// The extent a transform covers along dim i of s: the padded input, and at least 2 on an
// active dim. A length-1 transform is valid, but cuFFT plans it as a special case; one rule for
// every backend gives cpu and cuda FFTs the same spectra, and band-limiting the same mask.
inline int64_t transform_extent(const Shape& s, int i) {
  return i < kMaxDims - s.dims ? 1 : std::max<int64_t>(2, s.padded(i));
}

std::string_view to_string(FftSizePolicy policy);
// "cheapest", "smooth" or "pow2"; nullopt otherwise.
std::optional<FftSizePolicy> parse_fft_size_policy(std::string_view name);

// One group's per-bin complex product: (M x K) times (K x N).
struct GemmShape {
  int64_t M, N, K;
};
// The per-bin products of pass p of s (a step: fprop's, dgrad's and wgrad's), one group's each.
std::vector<GemmShape> pass_gemms(const Shape& s, Pass p);

// What a backend's FFT convolution costs, in any one unit (the planners only compare).
class FftCostModel {
 public:
  virtual ~FftCostModel() = default;
  // Told every transform size and GEMM a planner is about to compare, before it asks their
  // costs: a timed model times them together, round-robin, so that a slow spell of the
  // machine falls on all of them alike instead of deciding the choice. Nothing by default.
  virtual void compare(const std::vector<Extent>& /*sizes*/, const std::vector<GemmShape>& /*gemms*/) const {}
  // One plane's real transform at sizes nf (1 on inactive dims), forward or inverse; infinity
  // for a size the backend cannot run or time.
  virtual double transform(const Extent& nf) const = 0;
  // One complex GEMM (M x K) times (K x N), as the per-bin products run it.
  virtual double gemm(int64_t M, int64_t N, int64_t K) const = 0;
};

// Operation counts: 2.5 V log2 V flops per transform of V points, weighted by 4 for its lower
// arithmetic intensity; 8 flops per complex multiply-add. It grows with every size, so its
// cheapest size is the smallest.
const FftCostModel& counted_fft_cost();

// Modelled cost of pass p of s at transform sizes nf: each tensor family's planes transformed
// (once per single pass, twice in a step), plus the per-bin GEMMs over the bins the
// compression keeps (one per single pass, three in a step).
double fft_conv_cost(const Shape& s, Pass p, const Extent& nf, double compression, const FftCostModel& cost);

// Transform sizes for s (1 on inactive dims). smooth and pow2: fft_size() per dim. cheapest:
// per dim the smallest 7-smooth sizes >= transform_extent() and the next power of two (at most
// kMaxCombinations in all, so a measured cost stays quick to fill), the combination of least
// fft_conv_cost of an exact training step, where costs within kCostTolerance of the least
// count as equal and then the fewest points win. One choice per layer: every pass, and every
// compression, runs at the sizes of the exact step (so a step does the same arithmetic as its
// separate passes, and band-limiting changes only what it drops).
constexpr int kMaxCombinations = 64;
// The spread of one size's measured cost between processes (+-10% on a 2-core VM, even with
// the candidates timed together), so a near tie goes the same way in every run.
constexpr double kCostTolerance = 0.10;
Extent choose_fft_sizes(const Shape& s, FftSizePolicy policy, const FftCostModel& cost);

// Tie band for the finalists' timed steps (cpu.fft): the whole layer timed round-robin in one
// process mostly tells sizes a few % apart in the same order (20x20 over 20x18 in 11 of 11
// processes; 36x36 over 35x35 in 6 of 8, 36x35 a near tie the others), so the fastest wins
// unless within 1% (a 10% band kept 35x35 and 20x18 for the 32^2 and 16^2 ResNet layers, whose
// 36x36 and 20x20 take 0.83-0.97x their time in every pass and the step).
constexpr double kTimedTolerance = 0.01;

// The cheapest of sizes by costs (same order, any unit): within `tolerance` of the least cost
// (choose_fft_sizes' rule with the default) the fewest points win, of equal volumes the first.
Extent pick_cheapest(const std::vector<Extent>& sizes, const std::vector<double>& costs,
                     double tolerance = kCostTolerance);

// A planner that can time whole layers (cpu.fft) runs the few candidates the model ranks
// close: choose_fft_sizes' cheapest pick first, then the smooth policy's sizes, then the others
// by modelled cost while within kFinalistSpread of the least; at most `most` in all.
constexpr double kFinalistSpread = 1.5;
std::vector<Extent> fft_size_finalists(const Shape& s, const FftCostModel& cost, size_t most);

}  // namespace convbench
