#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "algorithms.hpp"
#include "convbench/fft_size.hpp"
#include "fft_cost.hpp"
#include "fft_parts.hpp"
#include "random_shapes.hpp"

namespace convbench {
namespace {

// Independent check by trial division over all primes up to n.
bool largest_prime_factor_at_most_7(int64_t n) {
  for (int64_t p = 2; p * p <= n; ++p)
    while (n % p == 0) {
      if (p > 7) return false;
      n /= p;
    }
  return n <= 7;
}

TEST(FftSize, SmoothPolicyPicksTheSmallestSmoothSizeAtLeastN) {
  for (int64_t n = 1; n <= 3000; ++n) {
    const int64_t m = fft_size(n, FftSizePolicy::smooth);
    ASSERT_GE(m, n);
    ASSERT_TRUE(largest_prime_factor_at_most_7(m)) << n << " -> " << m;
    for (int64_t j = n; j < m; ++j) ASSERT_FALSE(largest_prime_factor_at_most_7(j)) << n << " skipped " << j;
  }
  EXPECT_EQ(fft_size(34, FftSizePolicy::smooth), 35);
  EXPECT_EQ(fft_size(11, FftSizePolicy::smooth), 12);
  EXPECT_EQ(fft_size(97, FftSizePolicy::smooth), 98);
}

TEST(FftSize, Pow2PolicyReproducesThePapersPadding) {
  EXPECT_EQ(fft_size(34, FftSizePolicy::pow2), 64);  // Mathieu et al.: 34 -> 64
  for (int64_t n = 1; n <= 5000; ++n) {
    const int64_t m = fft_size(n, FftSizePolicy::pow2);
    ASSERT_EQ(m & (m - 1), 0) << n;
    ASSERT_GE(m, n);
    ASSERT_LT(m / 2, n);
  }
}

TEST(FftSize, RejectsNonPositive) { EXPECT_THROW(fft_size(0, FftSizePolicy::smooth), std::invalid_argument); }

TEST(FftSizePolicy, NamesRoundTrip) {
  for (FftSizePolicy p : {FftSizePolicy::cheapest, FftSizePolicy::smooth, FftSizePolicy::pow2})
    EXPECT_EQ(parse_fft_size_policy(to_string(p)), p);
  EXPECT_EQ(parse_fft_size_policy("Smooth"), std::nullopt);
  EXPECT_EQ(parse_fft_size_policy(""), std::nullopt);
  EXPECT_EQ(AlgoOptions{}.fft_size, FftSizePolicy::cheapest);
}

// A cost model from two functions, counting what it is asked.
class FnCost final : public FftCostModel {
 public:
  FnCost(std::function<double(const Extent&)> t, std::function<double(int64_t, int64_t, int64_t)> g)
      : t_(std::move(t)), g_(std::move(g)) {}
  void compare(const std::vector<Extent>& sizes, const std::vector<GemmShape>& gemms) const override {
    compared.insert(sizes.begin(), sizes.end());
    for (const GemmShape& g : gemms) compared_gemms.insert({g.M, g.N, g.K});
  }
  double transform(const Extent& nf) const override {
    asked.insert(nf);
    if (!compared.count(nf)) asked_uncompared = true;
    return t_(nf);
  }
  double gemm(int64_t M, int64_t N, int64_t K) const override {
    if (!compared_gemms.count({M, N, K})) asked_uncompared = true;
    return g_(M, N, K);
  }
  mutable std::set<Extent> asked, compared;
  mutable std::set<std::array<int64_t, 3>> compared_gemms;
  mutable bool asked_uncompared = false;

 private:
  std::function<double(const Extent&)> t_;
  std::function<double(int64_t, int64_t, int64_t)> g_;
};

Shape layer(std::vector<int64_t> in, int64_t groups = 1) {
  ShapeParams p;
  p.N = 3, p.C = 4 * groups, p.K = 6 * groups, p.groups = groups;
  p.in = in;
  for (int64_t n : in) p.kernel.push_back(std::min<int64_t>(3, n));
  return Shape::make(p);
}

TEST(FftConvCost, CountsTransformsOncePerPassTwicePerStepAndGemmsPerKeptBin) {
  const Shape s = layer({10, 14}, 2);  // N=3, C=8, K=12, groups 2: Cg=4, Kg=6
  const Extent nf{1, 12, 16};
  const double planes = 3 * 8 + 12 * 4 + 3 * 12, bins = 12 * 9;
  const FnCost transforms([](const Extent&) { return 1.0; }, [](int64_t, int64_t, int64_t) { return 0.0; });
  const FnCost macs([](const Extent&) { return 0.0; }, [](int64_t M, int64_t N, int64_t K) { return double(M * N * K); });
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
    EXPECT_EQ(fft_conv_cost(s, p, nf, 0, transforms), planes) << to_string(p);
    EXPECT_EQ(fft_conv_cost(s, p, nf, 0, macs), bins * 2 * 3 * 4 * 6) << to_string(p);  // groups * N*Cg*Kg
  }
  EXPECT_EQ(fft_conv_cost(s, Pass::step, nf, 0, transforms), 2 * planes);  // 6 transforms, not 9
  EXPECT_EQ(fft_conv_cost(s, Pass::step, nf, 0, macs), 3 * bins * 2 * 3 * 4 * 6);
  EXPECT_EQ(fft_conv_cost(s, Pass::fprop, nf, 0.5, macs), std::round(bins * 0.5) * 2 * 3 * 4 * 6);
}

TEST(ChooseFftSizes, FixedPoliciesAndOperationCountsGiveTheSmallestSizes) {
  std::mt19937_64 rng(testing::test_seed());
  const FnCost never([](const Extent&) -> double { throw std::logic_error("cost asked"); },
                     [](int64_t, int64_t, int64_t) -> double { throw std::logic_error("cost asked"); });
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 50; ++i) {
      const Shape s = testing::random_shape(rng, dims);
      SCOPED_TRACE(s.to_string());
      Extent smallest{1, 1, 1}, pow2{1, 1, 1};
      for (int d = kMaxDims - dims; d < kMaxDims; ++d)
        smallest[d] = fft_size(transform_extent(s, d), FftSizePolicy::smooth), pow2[d] = fft_size(transform_extent(s, d), FftSizePolicy::pow2);
      EXPECT_EQ(choose_fft_sizes(s, FftSizePolicy::smooth, never), smallest);
      EXPECT_EQ(choose_fft_sizes(s, FftSizePolicy::pow2, never), pow2);
      EXPECT_EQ(choose_fft_sizes(s, FftSizePolicy::cheapest, counted_fft_cost()), smallest);
    }
}

TEST(ChooseFftSizes, APaddedExtentOfOneGetsSizeTwoOnActiveDims) {
  const Shape s = layer({1, 5, 1});
  for (FftSizePolicy policy : {FftSizePolicy::cheapest, FftSizePolicy::smooth, FftSizePolicy::pow2})
    EXPECT_EQ(choose_fft_sizes(s, policy, counted_fft_cost()), (Extent{2, 5 + (policy == FftSizePolicy::pow2) * 3, 2}))
        << to_string(policy);
  EXPECT_EQ(choose_fft_sizes(layer({1}), FftSizePolicy::smooth, counted_fft_cost()), (Extent{1, 1, 2}));
}

// Candidates: per dim 7-smooth sizes from the smallest up to the power of two, which is always
// among them; at most kMaxCombinations asked for.
TEST(ChooseFftSizes, CheapestAsksOnlyAdmissibleCandidates) {
  for (const auto& in : std::vector<std::vector<int64_t>>{{300}, {31, 46}, {9, 30, 17}, {1, 1}, {129, 2}}) {
    const Shape s = layer(in);
    SCOPED_TRACE(s.to_string());
    const FnCost cost([](const Extent& nf) { return double(nf[0] * nf[1] * nf[2]); },
                      [](int64_t, int64_t, int64_t) { return 1.0; });
    choose_fft_sizes(s, FftSizePolicy::cheapest, cost);
    EXPECT_LE(cost.asked.size(), size_t(kMaxCombinations));
    std::set<int64_t> seen[kMaxDims];
    for (const Extent& nf : cost.asked)
      for (int d = 0; d < kMaxDims; ++d) {
        seen[d].insert(nf[d]);
        if (d < kMaxDims - s.dims) {
          EXPECT_EQ(nf[d], 1);
          continue;
        }
        EXPECT_GE(nf[d], transform_extent(s, d));
        EXPECT_LE(nf[d], fft_size(transform_extent(s, d), FftSizePolicy::pow2));
        EXPECT_TRUE(is_smooth(nf[d])) << nf[d];
      }
    for (int d = kMaxDims - s.dims; d < kMaxDims; ++d) {
      EXPECT_TRUE(seen[d].count(fft_size(transform_extent(s, d), FftSizePolicy::pow2))) << "dim " << d;
      EXPECT_TRUE(seen[d].count(fft_size(transform_extent(s, d), FftSizePolicy::smooth))) << "dim " << d;
      // Every smooth size in range, up to an even share of the combinations per dim.
      size_t in_range = 0;
      for (int64_t m = transform_extent(s, d); m <= fft_size(transform_extent(s, d), FftSizePolicy::pow2); ++m) in_range += is_smooth(m);
      const auto share = size_t(std::pow(double(kMaxCombinations), 1.0 / s.dims) + 1e-9);
      EXPECT_EQ(seen[d].size(), std::min(in_range, share)) << "dim " << d;
    }
  }
}

TEST(ChooseFftSizes, CheapestFollowsTheCostModel) {
  // Sizes with a factor 3 (or 5, 7) cost ten times as much per point: 32 beats 30.
  const auto slow = [](int64_t m) { return m % 3 == 0 || m % 5 == 0 || m % 7 == 0 ? 10.0 : 1.0; };
  const FnCost pow2_fast([&](const Extent& nf) { return double(nf[1] * nf[2]) * slow(nf[1]) * slow(nf[2]); },
                         [](int64_t, int64_t, int64_t) { return 0.0; });
  EXPECT_EQ(choose_fft_sizes(layer({30, 30}), FftSizePolicy::cheapest, pow2_fast), (Extent{1, 32, 32}));
  // Per dim: only the last dim is slow at 35 and 36: the first keeps 35, the last takes 40.
  const FnCost last_slow(
      [](const Extent& nf) { return double(nf[1] * nf[2]) * (nf[2] == 35 || nf[2] == 36 ? 10.0 : 1.0); },
      [](int64_t, int64_t, int64_t) { return 0.0; });
  EXPECT_EQ(choose_fft_sizes(layer({34, 34}), FftSizePolicy::cheapest, last_slow), (Extent{1, 35, 40}));
  // Expensive GEMMs favour fewer bins even where transforms are slow.
  const FnCost gemm_bound([&](const Extent& nf) { return double(nf[1] * nf[2]) * slow(nf[1]) * slow(nf[2]); },
                          [](int64_t, int64_t, int64_t) { return 1e9; });
  EXPECT_EQ(choose_fft_sizes(layer({30, 30}), FftSizePolicy::cheapest, gemm_bound), (Extent{1, 30, 30}));
}

TEST(ChooseFftSizes, NearTiesGoToTheFewestPoints) {
  const Shape s = layer({30});  // candidates 30, 32
  auto with = [&](double at32) {
    const FnCost cost([=](const Extent& nf) { return nf[2] == 30 ? 1.0 : nf[2] == 32 ? at32 : 100.0; },
                      [](int64_t, int64_t, int64_t) { return 0.0; });
    return choose_fft_sizes(s, FftSizePolicy::cheapest, cost)[2];
  };
  EXPECT_EQ(with(1 - kCostTolerance / 2), 30) << "within the tolerance: fewer points";
  EXPECT_EQ(with(1 - 2 * kCostTolerance), 32);
  EXPECT_EQ(with(2.0), 30);
}

TEST(PickCheapest, LeastCostUnlessANearTieHasFewerPoints) {
  const std::vector<Extent> sizes = {{1, 32, 32}, {1, 30, 30}, {1, 30, 32}, {1, 32, 30}};
  EXPECT_EQ(pick_cheapest(sizes, {1.0, 2.0, 3.0, 3.0}), sizes[0]);
  EXPECT_EQ(pick_cheapest(sizes, {1.0, 1 + kCostTolerance / 2, 3.0, 3.0}), sizes[1]) << "a near tie: fewer points";
  EXPECT_EQ(pick_cheapest(sizes, {2.0, 9.0, 1.0, 1.0}), sizes[2]) << "equal volumes: the first";
  // The finalists' timed band: 5% apart is no tie there, 0.5% is.
  EXPECT_EQ(pick_cheapest(sizes, {1.0, 1.05, 3.0, 3.0}, kTimedTolerance), sizes[0]);
  EXPECT_EQ(pick_cheapest(sizes, {1.0, 1.005, 3.0, 3.0}, kTimedTolerance), sizes[1]);
  EXPECT_EQ(pick_cheapest(sizes, {1.0, 1.05, 3.0, 3.0}), sizes[1]) << "the model's band is wider";
  EXPECT_THROW(pick_cheapest(sizes, {1.0}), std::invalid_argument);
  EXPECT_THROW(pick_cheapest({}, {}), std::invalid_argument);
}

// Candidates of layer({30, 30}): 30 and 32 per dim.
TEST(FftSizeFinalists, TheModelsPickThenTheSmoothSizesThenTheNextCheapestWithinTheSpread) {
  const Shape s = layer({30, 30});
  const Extent s30{1, 30, 30}, s32{1, 32, 32}, wide{1, 30, 32}, tall{1, 32, 30};
  // 32 ten times cheaper per point than 30: the pick is 32x32, and the smooth sizes come next
  // although far dearer; nothing else is within the spread.
  const auto slow = [](int64_t m) { return m == 30 ? 10.0 : 1.0; };
  const FnCost pow2_fast([&](const Extent& nf) { return double(nf[1] * nf[2]) * slow(nf[1]) * slow(nf[2]); },
                         [](int64_t, int64_t, int64_t) { return 0.0; });
  EXPECT_EQ(fft_size_finalists(s, pow2_fast, 3), (std::vector<Extent>{s32, s30}));
  EXPECT_EQ(fft_size_finalists(s, pow2_fast, 1), (std::vector<Extent>{s32}));
  // Cost by points: the smooth sizes are the pick, then 30x32 and 32x30 (7% dearer), then 32x32
  // (14%) while `most` allows; at twice the cost 32x32 is out of the spread.
  const FnCost points([](const Extent& nf) { return double(nf[1] * nf[2]); }, [](int64_t, int64_t, int64_t) { return 0.0; });
  EXPECT_EQ(fft_size_finalists(s, points, 3), (std::vector<Extent>{s30, wide, tall}));
  EXPECT_EQ(fft_size_finalists(s, points, 8), (std::vector<Extent>{s30, wide, tall, s32}));
  const FnCost big32([](const Extent& nf) { return nf == Extent{1, 32, 32} ? 2000.0 : double(nf[1] * nf[2]); },
                     [](int64_t, int64_t, int64_t) { return 0.0; });
  EXPECT_EQ(fft_size_finalists(s, big32, 8), (std::vector<Extent>{s30, wide, tall}));
  static_assert(2000.0 > 900 * kFinalistSpread, "32x32 must be out of the spread here");
}

// A timed model hears of every candidate before any cost is asked, so it can time them
// together (interleaved, a slow spell of the machine cannot decide between them).
TEST(ChooseFftSizes, CheapestAnnouncesEveryCandidateBeforeAskingCosts) {
  for (const auto& in : std::vector<std::vector<int64_t>>{{300}, {31, 46}, {9, 30, 17}}) {
    const Shape s = layer(in, 2);
    SCOPED_TRACE(s.to_string());
    const FnCost cost([](const Extent& nf) { return double(nf[0] * nf[1] * nf[2]); },
                      [](int64_t, int64_t, int64_t) { return 1.0; });
    choose_fft_sizes(s, FftSizePolicy::cheapest, cost);
    EXPECT_FALSE(cost.asked_uncompared);
    EXPECT_EQ(cost.compared, cost.asked);
    std::set<std::array<int64_t, 3>> step;
    for (const GemmShape& g : pass_gemms(s, Pass::step)) step.insert({g.M, g.N, g.K});
    EXPECT_EQ(cost.compared_gemms, step);
    EXPECT_EQ(step.size(), 3u);  // N=3, Cg=4, Kg=6: three distinct products
  }
}

// cpu.fft's timed model: what compare() timed is what it answers later, for the process; a
// size it was not told of is timed when asked.
TEST(MeasuredFftCost, AnswersWhatItTimedTogetherAndKeepsIt) {
  const FftCostModel& m = measured_fft_cost(false);
  const std::vector<Extent> sizes = {{1, 1, 36}, {1, 35, 36}, {1, 36, 36}, {1, 42, 36}, {3, 5, 6}};
  const std::vector<GemmShape> gemms = {{16, 8, 4}, {4, 8, 16}, {512, 512, 512}};
  m.compare(sizes, gemms);
  std::vector<double> t, g;
  for (const Extent& nf : sizes) t.push_back(m.transform(nf));
  for (const GemmShape& p : gemms) g.push_back(m.gemm(p.M, p.N, p.K));
  for (double v : t) EXPECT_TRUE(std::isfinite(v) && v > 0) << v;
  for (double v : g) EXPECT_TRUE(std::isfinite(v) && v > 0) << v;
  EXPECT_LT(t[0], t[2]);                  // one row against 36 of them
  EXPECT_GT(g[2], 1000 * g[0]);           // 2^27 multiply-adds (timed cut, scaled) against 512
  m.compare(sizes, gemms);                // already timed: kept, not re-timed
  for (size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(m.transform(sizes[i]), t[i]);
  for (size_t i = 0; i < gemms.size(); ++i) EXPECT_EQ(m.gemm(gemms[i].M, gemms[i].N, gemms[i].K), g[i]);
  const double fresh = m.transform({1, 7, 10});
  EXPECT_TRUE(std::isfinite(fresh) && fresh > 0);
  EXPECT_EQ(m.transform({1, 7, 10}), fresh);
}

// "planner timed steps: 35x35 12.3 ms, 36x40 11 ms" -> {"35x35": 12.3, "36x40": 11}, in order.
std::vector<std::pair<std::string, double>> timed_steps(const std::string& detail) {
  std::vector<std::pair<std::string, double>> out;
  const std::regex entry(R"(([0-9x]+) ([0-9.e+-]+) ms)");
  for (std::sregex_iterator it(detail.begin(), detail.end(), entry), end; it != end; ++it)
    out.emplace_back((*it)[1].str(), std::stod((*it)[2].str()));
  return out;
}

std::string label(const Shape& s, const Extent& nf) {
  std::string out;
  for (int d = kMaxDims - s.dims; d < kMaxDims; ++d) {
    if (!out.empty()) out += 'x';
    out += std::to_string(nf[d]);
  }
  return out;
}

// cpu.fft's cheapest policy runs the model's finalists as the layer's training step: the row's
// detail lists each with its time, in the finalists' order, and the sizes run are one of them,
// within the tie band of the fastest; every thread count and pass of the layer runs those.
TEST(ChooseFftSizes, CpuFftTimesTheModelsFinalistsAsTheLayersStep) {
  std::mt19937_64 rng(testing::test_seed() ^ 0x71);
  int timed = 0;
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 5; ++i) {
      const Shape s = testing::random_shape(rng, dims);
      SCOPED_TRACE(s.to_string());
      AlgoOptions opt;
      opt.threads = 2;
      const auto algo = make_algorithm("cpu.fft", opt);
      algo->prepare(s, Pass::fprop);
      const std::vector<Extent> finalists = fft_size_finalists(s, measured_fft_cost(false), 3);
      ASSERT_FALSE(finalists.empty());
      const auto steps = timed_steps(algo->detail());
      if (finalists.size() == 1) {
        EXPECT_EQ(algo->detail(), "planner: the model's pick, its only finalist");
        EXPECT_EQ(algo->fft_size(), label(s, finalists[0]));
      } else {
        ASSERT_EQ(steps.size(), finalists.size()) << algo->detail();
        double fastest = std::numeric_limits<double>::infinity(), chosen = -1;
        for (size_t f = 0; f < steps.size(); ++f) {
          EXPECT_EQ(steps[f].first, label(s, finalists[f]));
          EXPECT_GT(steps[f].second, 0);
          fastest = std::min(fastest, steps[f].second);
          if (steps[f].first == algo->fft_size()) chosen = steps[f].second;
        }
        ASSERT_GE(chosen, 0) << algo->fft_size() << " is not a finalist: " << algo->detail();
        EXPECT_LE(chosen, fastest * (1 + kTimedTolerance) * 1.01);  // 3 significant digits printed
        ++timed;
      }
      opt.threads = 1;
      const auto one = make_algorithm("cpu.fft", opt);
      for (Pass p : {Pass::fprop, Pass::wgrad, Pass::step}) {
        one->prepare(s, p);
        EXPECT_EQ(one->fft_size(), algo->fft_size()) << to_string(p);
        EXPECT_EQ(one->detail(), algo->detail()) << "planned once per layer";
      }
    }
  EXPECT_GT(timed, 0) << "no layer had two finalists";
}

// A finalist whose every run takes `each` (sleeping): the timing loop's budget without load.
class SleepingAlgorithm final : public Algorithm {
 public:
  explicit SleepingAlgorithm(std::chrono::milliseconds each) : each_(each) {}
  std::string name() const override { return "test.sleep"; }
  std::string description() const override { return "sleeps"; }
  std::string supports(const Shape&, Pass) const override { return {}; }
  std::size_t workspace_bytes(const Shape&, Pass) const override { return 0; }
  void prepare(const Shape&, Pass) override {}
  void run(Pass, const ConvBuffers&) override { std::this_thread::sleep_for(each_); }

 private:
  std::chrono::milliseconds each_;
};

// The planners' timing loop: each finalist built once and timed; only the first ones when the
// model's estimate for all is over the limit and two or more fit; not timed, with the reason,
// when fewer fit or the warm-up round is over the limit (building no more), or a finalist
// cannot be built.
TEST(TimeFinalistSteps, TimesEachFinalistOnceBuiltOrSaysWhyNot) {
  const Shape s = Shape::make({2, 3, 4, 1, {9, 11}, {3, 3}, {1}, {1}, {1}});
  int built = 0;
  auto direct = [&](size_t) {
    ++built;
    return make_algorithm("cpu.direct", AlgoOptions{});
  };
  FinalistTimes t = time_finalist_steps(s, {1e3, 2e3}, 1, direct, 10e9);
  EXPECT_EQ(t.not_timed, "");
  ASSERT_EQ(t.best_ns.size(), 2u);
  EXPECT_GT(t.best_ns[0], 0);
  EXPECT_GT(t.best_ns[1], 0);
  EXPECT_EQ(built, 2);

  built = 0;
  t = time_finalist_steps(s, {6e9, 6e9}, 2, direct, 10e9);  // 3 runs x 12 s / 2 threads
  EXPECT_TRUE(t.best_ns.empty());
  EXPECT_EQ(t.not_timed, "timing 2 finalists would take over 10 s");
  EXPECT_EQ(built, 0);
  built = 0;
  t = time_finalist_steps(s, {1e3, 2e3, 7e9}, 2, direct, 10e9);  // the third's rounds alone take 10.5 s
  ASSERT_EQ(t.best_ns.size(), 2u) << "the first two fit the limit";
  EXPECT_GT(t.best_ns[0], 0);
  EXPECT_GT(t.best_ns[1], 0);
  EXPECT_EQ(t.not_timed, "timing 3 finalists would take over 10 s: the first 2 timed");
  EXPECT_EQ(built, 2);
  t = time_finalist_steps(s, {1e3, 7e9, 1e3}, 2, direct, 10e9);  // the second does not fit: a prefix only
  EXPECT_TRUE(t.best_ns.empty());
  EXPECT_EQ(t.not_timed, "timing 3 finalists would take over 10 s");
  built = 0;
  t = time_finalist_steps(s, {0, 0, 0}, 1, direct, 1);  // the warm-up's first run is over 1 ns
  EXPECT_EQ(t.not_timed, "timing 3 finalists would take over 1e-09 s");
  EXPECT_EQ(built, 1);

  // The model says all fit; the warm-up's runs of 50 ms say two: 2 finalists x 3 runs (0.3 s)
  // fit 0.44 s, 3 x 3 (0.45 s) do not.
  built = 0;
  auto sleeper = [&](size_t) {
    ++built;
    return std::make_unique<SleepingAlgorithm>(std::chrono::milliseconds(50));
  };
  t = time_finalist_steps(s, {0, 0, 0}, 1, sleeper, 0.44e9);
  ASSERT_EQ(t.best_ns.size(), 2u) << t.not_timed;
  EXPECT_GE(t.best_ns[0], 50e6);
  EXPECT_GE(t.best_ns[1], 50e6);
  EXPECT_EQ(t.not_timed, "timing 3 finalists would take over 0.44 s: the first 2 timed");
  EXPECT_EQ(built, 2) << "the third is not built once the first's warm-up says two fit";

  t = time_finalist_steps(s, {0}, 1, [](size_t) -> std::unique_ptr<Algorithm> { throw std::bad_alloc(); }, 10e9);
  EXPECT_EQ(t.not_timed, "no memory to time its finalists");
  t = time_finalist_steps(s, {0}, 1, [](size_t) -> std::unique_ptr<Algorithm> {
    throw std::invalid_argument("tiles of 4 points: too small");
  }, 10e9);
  EXPECT_EQ(t.not_timed, "a finalist cannot run: tiles of 4 points: too small");
  EXPECT_TRUE(t.best_ns.empty());
}

// cpu.fft's measured planner: admissible sizes, one choice per layer (every pass, every
// compression, and what prepare() reports), stable within the process.
TEST(ChooseFftSizes, CpuFftPicksOneAdmissibleSizePerLayer) {
  std::mt19937_64 rng(testing::test_seed() ^ 0xf5);
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 6; ++i) {
      const Shape s = testing::random_shape(rng, dims);
      SCOPED_TRACE(s.to_string());
      AlgoOptions opt;
      const auto algo = make_algorithm("cpu.fft", opt);
      const Extent nf = algo->transform_sizes(s, Pass::step);
      std::string label;
      for (int d = 0; d < kMaxDims; ++d) {
        if (d < kMaxDims - dims) {
          EXPECT_EQ(nf[d], 1);
          continue;
        }
        EXPECT_GE(nf[d], transform_extent(s, d));
        EXPECT_LE(nf[d], fft_size(transform_extent(s, d), FftSizePolicy::pow2));
        EXPECT_TRUE(is_smooth(nf[d]));
        if (!label.empty()) label += 'x';
        label += std::to_string(nf[d]);
      }
      for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
        EXPECT_EQ(algo->transform_sizes(s, p), nf) << to_string(p);
        const double cost = algo->modelled_cost(s, p);
        EXPECT_TRUE(std::isfinite(cost) && cost > 0) << cost;
        algo->prepare(s, p);
        EXPECT_EQ(algo->fft_size(), label) << to_string(p);
      }
      opt.compression = 0.5;
      EXPECT_EQ(make_algorithm("cpu.fft", opt)->transform_sizes(s, Pass::fprop), nf);
      opt.compression = 0, opt.fft_size = FftSizePolicy::smooth;
      EXPECT_EQ(make_algorithm("cpu.fft", opt)->transform_sizes(s, Pass::fprop),
                choose_fft_sizes(s, FftSizePolicy::smooth, counted_fft_cost()));
    }
  // A plane past the timed limit is timed shrunk and scaled: finite, and dearer than a small one.
  const auto fft = make_algorithm("cpu.fft");
  const Shape large = layer({3000, 3000}), small = layer({300, 300});
  const Extent big = fft->transform_sizes(large, Pass::step);
  EXPECT_GE(big[1], 3000);
  EXPECT_LE(big[2], 4096);
  // Far too long to time as a step: the model's pick runs.
  EXPECT_EQ(big, fft_size_finalists(large, measured_fft_cost(false), 3).front());
  EXPECT_TRUE(std::isfinite(fft->modelled_cost(large, Pass::step)));
  EXPECT_GT(fft->modelled_cost(large, Pass::step), 50 * fft->modelled_cost(small, Pass::step));
  EXPECT_TRUE(std::isnan(make_algorithm("cpu.direct")->modelled_cost(layer({8}), Pass::fprop)));
  EXPECT_EQ(make_algorithm("cpu.direct")->transform_sizes(layer({8}), Pass::fprop), (Extent{0, 0, 0}));
}

// cpu.fft's chunk layout: every grid point of every pair has its own element, and the rows and
// slabs (what a stage along dim 1 or 0 strides by) span an odd number of 64-byte lines, so that
// a column's points do not share one cache set (rows of 32 points of 16 pairs are 4 KiB).
TEST(GridPitch, PointsAreDistinctAndRowsAndSlabsSpanAnOddNumberOfLines) {
  for (const Extent nf : {Extent{1, 32, 32}, Extent{1, 48, 48}, Extent{1, 35, 35}, Extent{4, 6, 7}, Extent{1, 1, 64}})
    for (int64_t m : {1, 3, 8, 16, 24, 512}) {
      const GridPitch grid(nf, m);
      SCOPED_TRACE(::testing::Message() << nf[0] << "x" << nf[1] << "x" << nf[2] << ", " << m << " pairs");
      EXPECT_EQ(grid.row * 8 % 64, 0);
      EXPECT_EQ(grid.row * 8 / 64 % 2, 1);
      EXPECT_EQ(grid.slab * 8 / 64 % 2, 1);
      EXPECT_GE(grid.row, nf[2] * m);
      EXPECT_GE(grid.slab, nf[1] * grid.row);
      std::set<int64_t> used;  // every (point, pair) element, none shared, all inside the chunk
      const int64_t total = nf[0] * nf[1] * nf[2];
      for (int64_t g = 0; g < total; ++g) {
        EXPECT_EQ(grid.at(g), grid.at(g / (nf[1] * nf[2]), g / nf[2] % nf[1], g % nf[2]));
        for (int64_t i = 0; i < m; ++i) used.insert(grid.at(g) + i);
      }
      EXPECT_EQ(static_cast<int64_t>(used.size()), total * m);
      EXPECT_GE(*used.begin(), 0);
      EXPECT_LT(*used.rbegin(), grid.elems);
    }
}

// cpu.fft's chunks: what 256 KiB holds, at least 32 planes where a quarter of the core's L2 holds
// them (that L2 as sysconf tells it), at least one plane.
TEST(ChunkPlanes, WhatAQuarterMiBHoldsAtLeast32WhereAQuarterOfTheL2Does) {
  const int64_t quarter_l2 = std::max<int64_t>(0, sysconf(_SC_LEVEL2_CACHE_SIZE) / 4);
  SCOPED_TRACE(::testing::Message() << "L2 / 4 = " << quarter_l2 << " bytes");
  EXPECT_EQ(chunk_planes(35 * 35 * 4), 53);  // 32x32 ResNet layer's grid: 256 KiB holds more than 32
  EXPECT_EQ(chunk_planes(20 * 20 * 4), 163);
  EXPECT_EQ(chunk_planes(64 * 64 * 4), quarter_l2 >= 32 * 64 * 64 * 4 ? 32 : std::max<int64_t>(16, quarter_l2 / (64 * 64 * 4)));
  EXPECT_EQ(chunk_planes(256 * 256 * 4), std::max<int64_t>(1, std::min<int64_t>(32, quarter_l2 / (256 * 256 * 4))));
  EXPECT_EQ(chunk_planes(4096 * 4096 * 4), 1);
}

}  // namespace
}  // namespace convbench
