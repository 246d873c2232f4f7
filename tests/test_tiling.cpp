// Overlap-save tiling: the tile geometry, the copies, the planner, and cpu.fft_tiled against the
// float64 reference with tiles forced small enough that every shape is cut.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "algorithms.hpp"
#include "conv_case.hpp"
#include "convbench/fft_size.hpp"
#include "convbench/reference.hpp"
#include "convbench/tiling.hpp"
#include "random_shapes.hpp"

namespace convbench {
namespace {

using testing::Case;
using testing::make_case;
using testing::random_shape;
using testing::random_tensor;
using testing::test_seed;
using testing::uniform_int;

int64_t largest_dilated_kernel(const Shape& s) {
  int64_t m = 1;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) m = std::max(m, s.dilated_kernel(i));
  return m;
}
int64_t largest_padded(const Shape& s) {
  int64_t m = 1;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) m = std::max(m, s.padded(i));
  return m;
}

// A random shape with a random tile extent between its largest dilated kernel and its largest
// padded input (so most shapes are cut in at least one dim).
struct TiledShape {
  Shape shape;
  int64_t extent;
};
TiledShape random_tiled_shape(std::mt19937_64& rng, int dims) {
  const Shape s = random_shape(rng, dims);
  return {s, uniform_int(rng, largest_dilated_kernel(s), largest_padded(s))};
}

TEST(TilePlan, TilesCoverTheOutputsOnceAndStayInsideTheExtent) {
  std::mt19937_64 rng(test_seed());
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 200; ++i) {
      const auto [s, extent] = random_tiled_shape(rng, dims);
      SCOPED_TRACE(s.to_string() + " extent " + std::to_string(extent));
      const TilePlan p = plan_tiles(s, extent);
      EXPECT_EQ(p.sub.N, s.N * p.tiles);
      EXPECT_EQ(p.sub.C, s.C);
      EXPECT_EQ(p.sub.K, s.K);
      EXPECT_EQ(p.sub.groups, s.groups);
      int64_t tiles = 1;
      for (int d = 0; d < kMaxDims; ++d) {
        EXPECT_EQ(p.sub.pad[d], 0);
        EXPECT_EQ(p.sub.stride[d], s.stride[d]);
        EXPECT_EQ(p.sub.dilation[d], s.dilation[d]);
        if (d < kMaxDims - s.dims) EXPECT_EQ(p.sub.in[d], 1);
        else if (s.padded(d) > extent) EXPECT_LE(p.sub.in[d], extent);
        else EXPECT_EQ(p.sub.in[d], s.padded(d)) << "a dim that fits was cut";
        EXPECT_GE(p.count[d] * p.sub.out[d], s.out[d]) << "outputs left uncovered in dim " << d;
        EXPECT_LT((p.count[d] - 1) * p.sub.out[d], s.out[d]) << "a tile with no output in dim " << d;
        tiles *= p.count[d];
      }
      EXPECT_EQ(tiles, p.tiles);
    }
}

TEST(TilePlan, ExtentBelowTheKernelNamesTheDim) {
  const Shape s = Shape::make({1, 1, 1, 1, {20, 30}, {3, 5}, {0}, {1}, {2}});  // dilated kernel 5 x 9
  try {
    plan_tiles(s, 8);
    FAIL() << "no exception";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("dim W"), std::string::npos) << e.what();
  }
  EXPECT_EQ(plan_tiles(s, 9).tiles, 4 * 22);  // H: 16 outputs in tiles of 5; W: 22 in tiles of 1
}

// The copies the CUDA kernels run (TileCopy's row functions, a warp's lanes simulated here):
// tiling a tensor and summing the tiles back gives each element times the number of tiles that
// cover it, by a brute-force count: once for the disjoint output tiles (a round trip), by the
// overlap for input tiles.
void copy_with_lanes(const TileCopy& g, const std::vector<float>& full, std::vector<float>& tiles,
                     std::vector<float>& back, int lanes) {
  tiles.assign(g.tiled_elems(), std::numeric_limits<float>::quiet_NaN());
  back.assign(g.full_elems(), std::numeric_limits<float>::quiet_NaN());
  for (int64_t r = 0; r < g.tiled_rows(); ++r)
    for (int lane = lanes - 1; lane >= 0; --lane) g.gather_row<int64_t>(full.data(), tiles.data(), r, lane, lanes);
  for (int64_t r = 0; r < g.full_rows(); ++r)
    for (int lane = 0; lane < lanes; ++lane) g.sum_row<int32_t>(tiles.data(), back.data(), int32_t(r), lane, lanes);
}

TEST(TileCopy, GatherThenSumCountsEachElementByItsCoveringTiles) {
  std::mt19937_64 rng(test_seed() + 1);
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 50; ++i) {
      const auto [s, extent] = random_tiled_shape(rng, dims);
      const int lanes = int(uniform_int(rng, 1, 33));
      SCOPED_TRACE(s.to_string() + " extent " + std::to_string(extent) + " lanes " + std::to_string(lanes));
      const TilePlan p = plan_tiles(s, extent);
      for (const TileCopy& g : {p.input(s), p.output(s)}) {
        const std::vector<float> full = random_tensor(rng, g.full_elems());
        std::vector<float> tiles, back;
        copy_with_lanes(g, full, tiles, back, lanes);
        // Every tile element, by brute force: the tensor element at its position, 0 outside.
        for (int64_t e = 0; e < g.tiled_elems(); ++e) {
          int64_t r = e, u[kMaxDims], j[kMaxDims];
          for (int d = kMaxDims - 1; d >= 0; --d) u[d] = r % g.tile[d], r /= g.tile[d];
          const int64_t c = r % g.channels, t = (r / g.channels) % g.tiles, n = r / (g.channels * g.tiles);
          for (int d = kMaxDims - 1, q = int(t); d >= 0; --d) j[d] = q % g.count[d], q /= int(g.count[d]);
          int64_t index = n * g.channels + c;
          bool inside = true;
          for (int d = 0; d < kMaxDims; ++d) {
            const int64_t z = j[d] * g.step[d] + u[d] - g.offset[d];
            inside = inside && z >= 0 && z < g.full[d];
            index = index * g.full[d] + z;
          }
          ASSERT_EQ(tiles[e], inside ? full[index] : 0.0f) << "tile element " << e;
        }
        // Brute-force cover count of every position, per dim.
        for (int64_t e = 0; e < g.full_elems(); ++e) {
          int64_t r = e, covers = 1;
          for (int d = kMaxDims - 1; d >= 0; --d) {
            const int64_t z = r % g.full[d] + g.offset[d];
            r /= g.full[d];
            int64_t c = 0;
            for (int64_t j = 0; j < g.count[d]; ++j) c += z >= j * g.step[d] && z < j * g.step[d] + g.tile[d];
            covers *= c;
          }
          // A sum of `covers` equal terms: exact up to float rounding, which grows like
          // (covers - 1) * eps relative; one tile too many or too few is off by |full[e]|.
          ASSERT_NEAR(back[e], full[e] * float(covers), FLT_EPSILON * std::abs(full[e]) * double(covers * covers))
              << "element " << e;
        }
      }
      // Output tiles are disjoint and cover every output exactly once: a bit-exact round trip.
      const TileCopy out = p.output(s);
      const std::vector<float> y = random_tensor(rng, out.full_elems());
      std::vector<float> tiles, back;
      copy_with_lanes(out, y, tiles, back, lanes);
      ASSERT_EQ(back, y);
    }
}

using Outputs = testing::HostOutputs;
ConvBuffers buffers(Outputs& out, const Case& c) { return out.buffers(c.x.data(), c.w.data(), c.dy.data()); }

void expect_matches_reference(const Case& c, const Outputs& out, Pass p, const std::string& what) {
  EXPECT_LE(rel_error(out.of(p).data(), c.ref[int(p)].values), tolerance(c.shape, p, c.ref[int(p)]))
      << what << " " << to_string(p);
}

// Every pass, the step, and the step split into fprop + run_backward (dx and dw, dw alone), with
// tiles forced to a random extent: 1D/2D/3D, padding, stride, dilation, groups.
TEST(CpuFftTiled, MatchesReferenceWithForcedTiles) {
  std::mt19937_64 rng(test_seed() + 2);
  int cut = 0, shapes = 0;
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 40; ++i, ++shapes) {
      const auto [s, extent] = random_tiled_shape(rng, dims);
      SCOPED_TRACE(s.to_string() + " tile extent " + std::to_string(extent) +
                   " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
      AlgoOptions opt;
      opt.fft_tile = extent;
      const auto algo = make_algorithm("cpu.fft_tiled", opt);
      ASSERT_EQ(algo->supports(s, Pass::step), "");
      cut += plan_tiles(s, extent).tiles > 1;
      const Case c = make_case(rng, s);
      for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
        Outputs out(s);
        algo->prepare(s, p);
        algo->run(p, buffers(out, c));
        expect_matches_reference(c, out, p, "separate");
      }
      algo->prepare(s, Pass::step);
      Outputs step(s);
      algo->run(Pass::step, buffers(step, c));
      for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) expect_matches_reference(c, step, p, "step");
      for (int variant = 0; variant < 3; ++variant) {  // fprop + backward; dw only; backward alone
        Outputs out(s);
        ConvBuffers t = buffers(out, c);
        if (variant < 2) algo->run(Pass::fprop, t);
        if (variant == 1) t.dx = nullptr;
        algo->run_backward(t);
        if (variant != 1) expect_matches_reference(c, out, Pass::dgrad, "backward variant " + std::to_string(variant));
        else EXPECT_TRUE(std::isnan(out.dx[0])) << "dx written though not asked for";
        expect_matches_reference(c, out, Pass::wgrad, "backward variant " + std::to_string(variant));
      }
      if (HasFailure()) return;
    }
  EXPECT_GT(cut, shapes / 2) << "too few shapes were actually cut into tiles";
}

// A layer where tiling pays (small batch, large input, 3x3): the planner cuts it, and the result
// still matches the reference; the workspace is below the untiled FFT's.
TEST(CpuFftTiled, PlannerTilesALargeInputAndShrinksTheWorkspace) {
  std::mt19937_64 rng(test_seed() + 3);
  const Shape s = Shape::make({1, 8, 8, 1, {150, 150}, {3, 3}, {1}, {1}, {1}});
  const auto tiled = make_algorithm("cpu.fft_tiled");
  const auto whole = make_algorithm("cpu.fft");
  tiled->prepare(s, Pass::step);
  EXPECT_EQ(tiled->detail().rfind("tiles ", 0), 0u) << tiled->detail();
  EXPECT_LT(tiled->workspace_bytes(s, Pass::step), whole->workspace_bytes(s, Pass::step));
  const Case c = make_case(rng, s);
  Outputs out(s);
  tiled->run(Pass::step, buffers(out, c));
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) expect_matches_reference(c, out, p, "planned tiles");
}

// Operation counts at the smallest 7-smooth sizes, as a tile planner's cost.
double counted(const Shape& run) {
  const FftCostModel& m = counted_fft_cost();
  return fft_conv_cost(run, Pass::fprop, choose_fft_sizes(run, FftSizePolicy::smooth, m), 0, m);
}

TEST(TilePlanner, PicksTheExtentOfLeastCost) {
  const Shape s = Shape::make({1, 4, 4, 1, {100, 100}, {3, 3}, {1}, {1}, {1}});
  const auto all = [](const Shape&) { return true; };
  // A cost with its minimum at tiles of 30 inputs (28 outputs), then one flat from 40 on.
  const auto dip = [](const Shape& run) { return std::abs(double(run.in[2]) - 30); };
  EXPECT_EQ(choose_tile_extent(s, FftSizePolicy::smooth, dip, all), 30);
  const auto flat = [](const Shape& run) { return std::max(0.0, 40.0 - double(run.in[2])); };
  EXPECT_EQ(choose_tile_extent(s, FftSizePolicy::smooth, flat, all), 102) << "a tie goes to the larger extent";
  // The cost sees the batch of tiles (N times the tile count), or the shape itself for one tile.
  int seen = 0;
  const auto check = [&](const Shape& run) {
    ++seen;
    const TilePlan pl = plan_tiles(s, run.in[2]);
    EXPECT_TRUE(run == s || (run.N == s.N * pl.tiles && pl.tiles > 1)) << run.to_string();
    return 0.0;
  };
  choose_tile_extent(s, FftSizePolicy::smooth, check, all);
  EXPECT_GT(seen, 5);
}

// Large inputs: extents up to kMaxTileExtent (or 8 kernels) and the whole input, no more.
TEST(TilePlanner, BoundsTheExtentsItCosts) {
  for (const auto& [in, k] : {std::pair<int64_t, int64_t>{100000, 3}, {5000, 101}}) {
    const Shape s = Shape::make({1, 1, 1, 1, {in}, {k}, {0}, {1}, {1}});
    std::vector<int64_t> seen;
    choose_tile_extent(s, FftSizePolicy::smooth, [&](const Shape& run) {
      seen.push_back(run.in[2]);
      return 1.0;
    }, [](const Shape&) { return true; });
    SCOPED_TRACE(s.to_string());
    EXPECT_EQ(seen.back(), in) << "the whole input is always a candidate";
    for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_LE(seen[i], std::max(kMaxTileExtent, 8 * k));
    EXPECT_GE(seen.size(), 10u);
  }
}

TEST(TilePlanner, RespectsWhatTheInnerAlgorithmAccepts) {
  const Shape s = Shape::make({1, 4, 4, 1, {100, 100}, {3, 3}, {1}, {1}, {1}});
  const int64_t any = choose_tile_extent(s, FftSizePolicy::smooth, counted, [](const Shape&) { return true; });
  EXPECT_GT(any, 0);
  EXPECT_LT(any, 102) << "a 100x100 input with a 3x3 kernel and one image should be tiled";
  const int64_t capped =
      choose_tile_extent(s, FftSizePolicy::smooth, counted, [](const Shape& run) { return run.in[2] <= 10; });
  EXPECT_GT(capped, 0);
  EXPECT_LE(plan_tiles(s, capped).sub.in[2], 10);
  EXPECT_EQ(choose_tile_extent(s, FftSizePolicy::smooth, counted, [](const Shape&) { return false; }), 0);
  // pow2: every tile extent the planner considers is a power of two (or the whole input).
  const int64_t p2 = choose_tile_extent(s, FftSizePolicy::pow2, counted, [](const Shape&) { return true; });
  EXPECT_TRUE((p2 & (p2 - 1)) == 0 || p2 == 102) << p2;
}

// The finalists a timing planner runs: the planner's pick first, the extents bracketing it,
// then the model's order, within the spread of the least cost, at most `most`, only extents
// the inner algorithm accepts, no two tile extents within kTileNeighbour of each other.
TEST(TilePlanner, FinalistsAreTheCheapestWithinTheSpread) {
  const Shape s = Shape::make({1, 4, 4, 1, {100, 100}, {3, 3}, {1}, {1}, {1}});
  const auto all = [](const Shape&) { return true; };
  // Least at tiles of 30 inputs (cost 1), then 28 and 32 (3 each), 27 (4), 25 and 35 (6).
  const auto dip = [](const Shape& run) { return 1 + std::abs(double(run.in[2]) - 30); };
  auto extents = [&](double spread, size_t most, const std::function<bool(const Shape&)>& accepts,
                     bool with_whole = false, const std::function<double(const Shape&)>& cost = {}) {
    const auto& by = cost ? cost : std::function<double(const Shape&)>(dip);
    std::vector<int64_t> e;
    for (const TileCandidate& c : tile_extent_finalists(s, FftSizePolicy::smooth, by, accepts, spread, most, with_whole)) {
      const TilePlan plan = plan_tiles(s, c.extent);
      EXPECT_EQ(c.cost, by(plan.tiles == 1 ? s : plan.sub)) << c.extent;
      e.push_back(c.extent);
    }
    return e;
  };
  // Tile extents within kTileNeighbour (1.25x) of a finalist's are left out: 32, 28, 27, 35, 25
  // and 36 around 30; 24 (30 / 1.25) and 40 are not.
  EXPECT_EQ(extents(4, 3, all), (std::vector<int64_t>{30}));
  EXPECT_EQ(extents(100, 3, all), (std::vector<int64_t>{30, 24, 40}));
  EXPECT_EQ(extents(100, 5, all), (std::vector<int64_t>{30, 24, 40, 18, 14}));
  EXPECT_EQ(extents(2.9, 3, all), (std::vector<int64_t>{30}));
  EXPECT_EQ(extents(100, 1, all), (std::vector<int64_t>{choose_tile_extent(s, FftSizePolicy::smooth, dip, all)}));
  // Rejected extents are skipped (and are nobody's neighbour), and the spread counts from the
  // least accepted cost; a tie (32 and 28) goes to the larger extent.
  const auto not30 = [](const Shape& run) { return run.in[2] != 30; };
  EXPECT_EQ(extents(3, 3, not30), (std::vector<int64_t>{32, 25}));
  EXPECT_TRUE(extents(4, 3, [](const Shape&) { return false; }).empty());
  // The whole input (102 padded points, cost 71) joins a timing planner's finalists beyond `most`
  // when within the spread, never twice, and only when accepted.
  EXPECT_EQ(extents(100, 2, all, true), (std::vector<int64_t>{30, 24, 102}));
  EXPECT_EQ(extents(100, 2, all, false), (std::vector<int64_t>{30, 24}));
  EXPECT_EQ(extents(4, 3, all, true), (std::vector<int64_t>{30})) << "the whole input is outside the spread";
  EXPECT_EQ(extents(100, 2, [](const Shape& run) { return run.N > 1; }, true), (std::vector<int64_t>{30, 24}));
  const auto whole_cheapest = [&](const Shape& run) { return run.N == 1 ? 0.5 : dip(run); };  // tiles: N > 1
  EXPECT_EQ(extents(100, 2, all, true, whole_cheapest), (std::vector<int64_t>{102, 30}));
  // With three or more, the pick's cheapest larger and smaller extents join before the cheapest
  // others: costs rising 4x as fast above 30 put 40 (41) behind 18 (13) and 14 (17), yet it joins
  // as the larger one; only within the spread.
  const auto steep = [](const Shape& run) {
    const double e = double(run.in[2]);
    return e > 30 ? 1 + 4 * (e - 30) : 1 + (30 - e);
  };
  EXPECT_EQ(extents(100, 3, all, false, steep), (std::vector<int64_t>{30, 24, 40}));
  EXPECT_EQ(extents(100, 4, all, false, steep), (std::vector<int64_t>{30, 24, 18, 40}));
  EXPECT_EQ(extents(100, 2, all, false, steep), (std::vector<int64_t>{30, 24})) << "no brackets below three";
  EXPECT_EQ(extents(20, 3, all, false, steep), (std::vector<int64_t>{30, 24, 18})) << "40 is outside the spread";
  // The whole input is nobody's neighbour: tiles of 100 (two) beside it, then 80, not 98.
  const auto near_whole = [](const Shape& run) { return 1 + std::abs(double(run.in[2]) - 100); };
  EXPECT_EQ(extents(100, 3, all, false, near_whole), (std::vector<int64_t>{102, 100, 80}));
}

// "tile planner timed steps: 15x15 2.1 ms, whole 3 ms" -> (label, ms) pairs.
std::vector<std::pair<std::string, double>> timed_tile_steps(const std::string& detail) {
  std::vector<std::pair<std::string, double>> steps;
  const std::string head = "tile planner timed steps:";
  const size_t at = detail.find(head);
  if (at == std::string::npos) return steps;
  std::istringstream in(detail.substr(at + head.size(), detail.find(';', at) - at - head.size()));
  std::string entry;
  while (std::getline(in, entry, ',')) {
    std::istringstream e(entry);
    std::string label, unit;
    double ms = -1;
    e >> label >> ms >> unit;
    steps.emplace_back(label, unit == "ms" ? ms : -1);
  }
  return steps;
}

// cpu.fft_tiled times the model's finalist tile sizes as the layer's step and runs the fastest
// (within kTimedTolerance), once per layer: every pass and thread count then runs those tiles.
TEST(CpuFftTiled, TimesTheModelsTileFinalistsAsTheLayersStep) {
  int timed = 0;
  for (const Shape& s : {Shape::make({1, 8, 8, 1, {150, 150}, {3, 3}, {1}, {1}, {1}}),
                         Shape::make({2, 4, 6, 1, {96, 80}, {5, 5}, {2}, {1}, {1}}),
                         Shape::make({1, 4, 4, 1, {3000}, {7}, {3}, {1}, {1}}),
                         Shape::make({1, 2, 2, 1, {40, 40, 40}, {3, 3, 3}, {1}, {1}, {1}})}) {
    SCOPED_TRACE(s.to_string());
    AlgoOptions opt;
    opt.threads = 2;
    const auto algo = make_algorithm("cpu.fft_tiled", opt);
    algo->prepare(s, Pass::fprop);
    const std::string detail = algo->detail();
    const Shape run = algo->modelled_shape(s, Pass::fprop);
    std::string chosen = "whole";
    if (!(run == s)) {
      chosen.clear();
      for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
        if (!chosen.empty()) chosen += 'x';
        chosen += std::to_string(run.in[i]);
      }
    }
    const auto steps = timed_tile_steps(detail);
    if (steps.empty()) {
      EXPECT_NE(detail.find("tile planner: the model's pick, its only finalist"), std::string::npos) << detail;
    } else {
      ASSERT_GE(steps.size(), 2u) << detail;
      ASSERT_LE(steps.size(), 4u) << detail;  // 3 tile sizes, and the whole input
      double fastest = std::numeric_limits<double>::infinity(), mine = -1;
      for (const auto& [label, ms] : steps) {
        EXPECT_GT(ms, 0) << detail;
        fastest = std::min(fastest, ms);
        if (label == chosen) mine = ms;
      }
      ASSERT_GE(mine, 0) << chosen << " is not a finalist: " << detail;
      EXPECT_LE(mine, fastest * (1 + kTimedTolerance) * 1.01) << detail;  // 3 significant digits printed
      ++timed;
    }
    // The tiles and the tile planner's line (the inner algorithm's own detail, e.g. its complex
    // GEMM choice per pass and thread count, may differ).
    auto tiles_part = [](const std::string& d) { return d.substr(0, d.find(';', d.find("tile planner"))); };
    opt.threads = 1;
    const auto one = make_algorithm("cpu.fft_tiled", opt);
    for (Pass p : {Pass::dgrad, Pass::step}) {
      one->prepare(s, p);
      EXPECT_EQ(tiles_part(one->detail()), tiles_part(detail)) << "planned once per layer, " << to_string(p);
    }
  }
  EXPECT_GT(timed, 0) << "no layer had two tile finalists";
}

TEST(CpuFftTiled, ReasonsForWhatItCannotRun) {
  const Shape s = Shape::make({1, 2, 2, 1, {20, 20}, {5, 5}, {0}, {1}, {1}});
  AlgoOptions opt;
  opt.fft_tile = 4;
  EXPECT_NE(make_algorithm("cpu.fft_tiled", opt)->supports(s, Pass::fprop).find("--fft-tile"), std::string::npos);
  AlgoOptions band;
  band.compression = 0.5;
  const auto algo = make_algorithm("cpu.fft_tiled", band);
  EXPECT_FALSE(algo->supports_compression());
  EXPECT_NE(algo->supports(s, Pass::fprop).find("band-limit"), std::string::npos);
  EXPECT_THROW(algo->prepare(s, Pass::fprop), std::invalid_argument);
  const auto fresh = make_algorithm("cpu.fft_tiled");
  EXPECT_THROW(fresh->run(Pass::fprop, {}), std::logic_error);
  fresh->prepare(s, Pass::fprop);
  EXPECT_THROW(fresh->run_backward({}), std::logic_error);
}

}  // namespace
}  // namespace convbench
