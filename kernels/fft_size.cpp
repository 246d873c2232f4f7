#include "convbench/fft_size.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <vector>

#include "convbench/band_limit.hpp"

namespace convbench {

bool is_smooth(int64_t n) {
  if (n < 1) return false;
  for (int64_t p : {2, 3, 5, 7})
    while (n % p == 0) n /= p;
  return n == 1;
}

int64_t fft_size(int64_t n, FftSizePolicy policy) {
  if (n < 1) throw std::invalid_argument("fft_size: n must be >= 1");
  int64_t m = n;
  if (policy == FftSizePolicy::pow2) {
    m = 1;
    while (m < n) m *= 2;
    return m;
  }
  while (!is_smooth(m)) ++m;
  return m;
}

std::string_view to_string(FftSizePolicy policy) {
  switch (policy) {
    case FftSizePolicy::cheapest: return "cheapest";
    case FftSizePolicy::smooth: return "smooth";
    case FftSizePolicy::pow2: return "pow2";
  }
  return "?";
}

std::optional<FftSizePolicy> parse_fft_size_policy(std::string_view name) {
  for (FftSizePolicy p : {FftSizePolicy::cheapest, FftSizePolicy::smooth, FftSizePolicy::pow2})
    if (name == to_string(p)) return p;
  return std::nullopt;
}

namespace {

class CountedCost final : public FftCostModel {
 public:
  double transform(const Extent& nf) const override {
    const double volume = double(nf[0] * nf[1] * nf[2]);
    return 4 * 2.5 * volume * std::log2(std::max(volume, 2.0));
  }
  double gemm(int64_t M, int64_t N, int64_t K) const override { return 8 * double(M) * double(N) * double(K); }
};

}  // namespace

const FftCostModel& counted_fft_cost() {
  static const CountedCost model;
  return model;
}

std::vector<GemmShape> pass_gemms(const Shape& s, Pass p) {
  const int64_t Cg = s.Cg(), Kg = s.Kg();
  std::vector<GemmShape> out;
  if (pass_covered(p, Pass::fprop)) out.push_back({s.N, Kg, Cg});
  if (pass_covered(p, Pass::dgrad)) out.push_back({s.N, Cg, Kg});
  if (pass_covered(p, Pass::wgrad)) out.push_back({Kg, Cg, s.N});
  return out;
}

double fft_conv_cost(const Shape& s, Pass p, const Extent& nf, double compression, const FftCostModel& cost) {
  const double planes = double(s.N * s.C + s.K * s.Cg() + s.N * s.K);
  double gemms = 0;  // per bin, all groups
  for (const GemmShape& g : pass_gemms(s, p)) gemms += double(s.groups) * cost.gemm(g.M, g.N, g.K);
  const auto kept = double(band_limit_target(half_spectrum_bins(nf), compression));
  return (p == Pass::step ? 2 : 1) * planes * cost.transform(nf) + kept * gemms;
}

namespace {

// cheapest: per dim the 7-smooth sizes from the smallest >= the extent up to the power of two
// (an even share of kMaxCombinations each), and every combination's modelled step cost.
void cheapest_candidates(const Shape& s, const FftCostModel& cost, std::vector<Extent>& sizes,
                         std::vector<double>& costs) {
  std::vector<int64_t> candidates[kMaxDims];
  Extent at{1, 1, 1};
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    const int64_t n = transform_extent(s, i);
    const int64_t ceiling = fft_size(n, FftSizePolicy::pow2);
    const auto per_dim = static_cast<size_t>(std::pow(double(kMaxCombinations), 1.0 / s.dims) + 1e-9);
    for (int64_t m = fft_size(n, FftSizePolicy::smooth); m <= ceiling && candidates[i].size() < per_dim;
         m = fft_size(m + 1, FftSizePolicy::smooth))
      candidates[i].push_back(m);
    if (candidates[i].back() != ceiling) candidates[i].back() = ceiling;  // the power of two stays a choice
  }
  auto search = [&](auto&& self, int i) -> void {
    if (i == kMaxDims) return sizes.push_back(at);
    for (int64_t m : candidates[i]) {
      at[i] = m;
      self(self, i + 1);
    }
  };
  search(search, kMaxDims - s.dims);
  cost.compare(sizes, pass_gemms(s, Pass::step));
  for (const Extent& e : sizes) costs.push_back(fft_conv_cost(s, Pass::step, e, 0, cost));
}

double volume(const Extent& e) { return double(e[0] * e[1] * e[2]); }

}  // namespace

Extent pick_cheapest(const std::vector<Extent>& sizes, const std::vector<double>& costs, double tolerance) {
  if (sizes.empty() || sizes.size() != costs.size()) throw std::invalid_argument("pick_cheapest: no sizes or costs");
  // Within the tolerance of the least cost (a near tie: the spread of the cost between runs)
  // the fewest points win, which take less memory. Of equal volumes the first wins.
  const double least = *std::min_element(costs.begin(), costs.end());
  std::optional<size_t> pick;
  for (size_t i = 0; i < sizes.size(); ++i)
    if (costs[i] <= least * (1 + tolerance) && (!pick || volume(sizes[i]) < volume(sizes[*pick]))) pick = i;
  return sizes[*pick];
}

Extent choose_fft_sizes(const Shape& s, FftSizePolicy policy, const FftCostModel& cost) {
  Extent nf{1, 1, 1};
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) nf[i] = fft_size(transform_extent(s, i), policy);
  if (policy != FftSizePolicy::cheapest) return nf;
  std::vector<Extent> sizes;
  std::vector<double> costs;
  cheapest_candidates(s, cost, sizes, costs);
  return pick_cheapest(sizes, costs);
}

std::vector<Extent> fft_size_finalists(const Shape& s, const FftCostModel& cost, size_t most) {
  std::vector<Extent> sizes;
  std::vector<double> costs;
  cheapest_candidates(s, cost, sizes, costs);
  std::vector<Extent> out = {pick_cheapest(sizes, costs), choose_fft_sizes(s, FftSizePolicy::smooth, cost)};
  if (out[1] == out[0]) out.pop_back();
  std::vector<size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] < costs[b]; });
  const double least = costs[order.front()];
  for (size_t i : order) {
    if (out.size() >= most || !(costs[i] <= least * kFinalistSpread)) break;
    if (std::find(out.begin(), out.end(), sizes[i]) == out.end()) out.push_back(sizes[i]);
  }
  if (out.size() > std::max<size_t>(most, 1)) out.resize(std::max<size_t>(most, 1));
  return out;
}

}  // namespace convbench
