// Every CPU algorithm x pass x dims against the float64 reference on random shapes.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "algorithms.hpp"
#include "convbench/reference.hpp"
#include "conv_case.hpp"
#include "random_shapes.hpp"
#include "shape_spec.hpp"

namespace convbench {
namespace {

using testing::Case;
using testing::edge_shapes;
using testing::make_case;
using testing::rel_diff;
using testing::random_shape;
using testing::random_tensor;
using testing::test_seed;

constexpr int kRandomShapesPerDims = 70;  // x3 dims + edge cases: > 200 shapes per algorithm

using Outputs = testing::HostOutputs;

Outputs run_pass(Algorithm& algo, const Case& c, Pass p) {
  Outputs out(c.shape);
  algo.prepare(c.shape, p);
  algo.run(p, {c.x.data(), c.w.data(), c.dy.data(), out.y.data(), out.dx.data(), out.dw.data()});
  return out;
}

class CpuAlgorithm : public ::testing::TestWithParam<std::string> {};

TEST_P(CpuAlgorithm, MatchesReferenceOnRandomShapes) {
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() ^ std::hash<std::string>{}(GetParam()));
  std::vector<Shape> shapes = edge_shapes();
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < kRandomShapesPerDims; ++i) shapes.push_back(random_shape(rng, dims));

  double worst = 0;  // largest rel_error / tolerance seen
  for (const Shape& s : shapes) {
    SCOPED_TRACE(s.to_string() + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
    ASSERT_EQ(algo->supports(s, Pass::step), "");
    const Case c = make_case(rng, s);
    Outputs separate[3] = {Outputs(s), Outputs(s), Outputs(s)};
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
      separate[int(p)] = run_pass(*algo, c, p);
      const double err = rel_error(separate[int(p)].of(p).data(), c.ref[int(p)].values);
      const double tol = tolerance(s, p, c.ref[int(p)]);
      EXPECT_LE(err, tol) << GetParam() << " " << to_string(p);
      if (!std::isnan(err)) worst = std::max(worst, err / tol);
    }
    const Outputs step = run_pass(*algo, c, Pass::step);
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
      EXPECT_LE(rel_error(step.of(p).data(), c.ref[int(p)].values), tolerance(s, p, c.ref[int(p)]))
          << "step " << to_string(p);
      // Same arithmetic as the separate passes, up to summation order (relative to what, when
      // the exact result is zero?).
      if (!testing::all_zero(c.ref[int(p)])) {
        EXPECT_LE(rel_diff(step.of(p), separate[int(p)].of(p)), tolerance(s, p, c.ref[int(p)]) / 4)
            << "step differs from separate " << to_string(p);
      }
    }
    if (HasFailure()) break;  // one failing shape tells the story; keep the log short
  }
  RecordProperty("worst_error_over_tolerance", std::to_string(worst));
  std::printf("%s: %zu shapes, worst rel_error/tolerance %.3g\n", GetParam().c_str(), shapes.size(), worst);
}

TEST_P(CpuAlgorithm, RunWithoutPrepareForThatPassThrows) {
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed());
  const Case c = make_case(rng, random_shape(rng, 2));
  Outputs out(c.shape);
  const ConvBuffers t{c.x.data(), c.w.data(), c.dy.data(), out.y.data(), out.dx.data(), out.dw.data()};
  EXPECT_THROW(algo->run(Pass::fprop, t), std::logic_error);
  algo->prepare(c.shape, Pass::fprop);
  EXPECT_THROW(algo->run(Pass::wgrad, t), std::logic_error);
}

TEST_P(CpuAlgorithm, PreparedOnceRunsManyTimesOnFreshData) {
  // Plan once, execute many: a second run on new data must not see the first run's data.
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() + 1);
  const Shape s = random_shape(rng, 2);
  algo->prepare(s, Pass::step);
  for (int rep = 0; rep < 3; ++rep) {
    const Case c = make_case(rng, s);
    Outputs out(s);
    algo->run(Pass::step, {c.x.data(), c.w.data(), c.dy.data(), out.y.data(), out.dx.data(), out.dw.data()});
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad})
      EXPECT_LE(rel_error(out.of(p).data(), c.ref[int(p)].values), tolerance(s, p, c.ref[int(p)]))
          << s.to_string() << " rep " << rep;
  }
}

// The training step's split: run(fprop), then run_backward() for dx and dw, dw alone (a first
// layer), and with no fprop before it (the fallback), on random 1D/2D/3D shapes.
TEST_P(CpuAlgorithm, BackwardAfterFpropMatchesReference) {
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() + 2);
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 4; ++i) {
      const Case c = make_case(rng, random_shape(rng, dims));
      const Shape& s = c.shape;
      algo->prepare(s, Pass::step);
      for (int variant = 0; variant < 3; ++variant) {
        Outputs out(s);
        ConvBuffers t{c.x.data(), c.w.data(), c.dy.data(), out.y.data(), out.dx.data(), out.dw.data()};
        if (variant < 2) algo->run(Pass::fprop, t);
        if (variant == 1) t.dx = nullptr;
        algo->run_backward(t);
        for (Pass p : {Pass::dgrad, Pass::wgrad}) {
          if (p == Pass::dgrad && variant == 1) continue;
          EXPECT_LE(rel_error(out.of(p).data(), c.ref[int(p)].values), tolerance(s, p, c.ref[int(p)]))
              << s.to_string() << " variant " << variant << " " << to_string(p);
        }
        if (variant == 1) {
          EXPECT_TRUE(std::isnan(out.dx[0])) << "dx written though not asked for";
        }
      }
    }
  EXPECT_EQ(algo->reuses_fprop(), GetParam() == "cpu.fft" || GetParam() == "cpu.fft_tiled");
}

// A layer whose frequency-major spectra exceed the 16 MiB beyond which cpu.fft packs every
// family with non-temporal stores (the filter's 63 x 65 planes of 32 x 35: 19 MB), on 1 and 2
// threads, with a last chunk shorter than the rest; every pass and the step.
TEST(CpuFft, LargeSpectraMatchReference) {
  std::mt19937_64 rng(test_seed() + 5);
  const Case c = make_case(rng, Shape::make({2, 65, 63, 1, {29, 31}, {3, 3}, {1, 1}}));
  for (int threads : {1, 2}) {
    AlgoOptions opt;
    opt.fft_size = FftSizePolicy::smooth;
    opt.threads = threads;
    const auto algo = make_algorithm("cpu.fft", opt);
    ASSERT_EQ(algo->transform_sizes(c.shape, Pass::fprop), (Extent{1, 32, 35}));
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
      const Outputs out = run_pass(*algo, c, p);
      for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
        if (!pass_covered(p, q)) continue;
        EXPECT_LE(rel_error(out.of(q).data(), c.ref[int(q)].values), tolerance(c.shape, q, c.ref[int(q)]))
            << threads << " threads, " << to_string(p) << ": " << to_string(q);
      }
    }
  }
}

// Rows longer than the 64 elements cpu.fft's scatter and gather copy at a time, not a multiple of
// them, with an odd plane count (one grid of a pair half empty), stride and dilation: 1D and 2D,
// every pass and the step, on 1 and 2 threads.
TEST(CpuFft, LongRowsMatchReference) {
  std::mt19937_64 rng(test_seed() + 6);
  for (const Shape& s : {Shape::make({3, 5, 3, 1, {203}, {7}, {4}, {2}, {2}}),
                         Shape::make({1, 3, 5, 1, {5, 150}, {3, 5}, {1, 2}, {1, 3}, {1, 1}})}) {
    const Case c = make_case(rng, s);
    for (int threads : {1, 2}) {
      AlgoOptions opt;
      opt.threads = threads;
      const auto algo = make_algorithm("cpu.fft", opt);
      for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
        const Outputs out = run_pass(*algo, c, p);
        for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
          if (!pass_covered(p, q)) continue;
          EXPECT_LE(rel_error(out.of(q).data(), c.ref[int(q)].values), tolerance(c.shape, q, c.ref[int(q)]))
              << s.to_string() << ", " << threads << " threads, " << to_string(p) << ": " << to_string(q);
        }
      }
    }
  }
}

// Shapes whose outputs see one or two products of whole, mostly padded signals: the FFT's
// error follows the signals' norms, not the few products (transform_condition, not condition).
std::vector<Shape> few_product_shapes() {
  return {Shape::make({1, 1, 1, 1, {3, 3}, {3, 3}, {1}, {1}, {2}}),  // one output, one product
          Shape::make({1, 1, 1, 1, {4}, {3}, {2}, {1}, {3}}),
          Shape::make({2, 2, 1, 1, {3, 2, 3}, {2, 2, 2}, {1}, {1}, {2}})};
}

// Gauss's 3m products (OpenBLAS cgemm3m) forced: every pass and the step within the fp32
// tolerance on random shapes, 1D-3D; the rows name the products that ran 3m; on a layer whose
// products reach the BLAS the results differ from cgemm's (the 3m path ran); an unknown choice
// is refused by name. The planner's choice (timed) is either of two correct paths.
TEST(CpuFft, GaussComplexGemmsMatchTheReference) {
  AlgoOptions gauss, usual;
  gauss.complex_gemm = "3m", usual.complex_gemm = "4m";
  gauss.fft_size = usual.fft_size = FftSizePolicy::smooth;  // no step timing: the products are the point
  const auto a3 = make_algorithm("cpu.fft", gauss), a4 = make_algorithm("cpu.fft", usual);
  std::mt19937_64 rng(test_seed() + 21);
  std::vector<Shape> shapes = {parse_shape_spec("N=16,C=32,K=24,in=12x12,k=3x3,pad=1")};
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 8; ++i) shapes.push_back(random_shape(rng, dims));
  for (const Shape& s : shapes) {
    SCOPED_TRACE(s.to_string());
    const Case c = make_case(rng, s);
    for (Pass p : kAllPasses) {
      const Outputs o = run_pass(*a3, c, p);
      const bool large = s.N * s.Kg() * s.Cg() > 64;  // fprop's product reaches the BLAS
      if (p == Pass::fprop) {
        EXPECT_EQ(a3->detail().find("complex GEMMs 3m (Gauss): fprop") != std::string::npos, large);
      }
      for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad})
        if (pass_covered(p, q)) {
          EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
              << to_string(p) << "/" << to_string(q);
        }
    }
  }
  const Case c = make_case(rng, shapes[0]);
  const Outputs o3 = run_pass(*a3, c, Pass::step), o4 = run_pass(*a4, c, Pass::step);
  EXPECT_NE(a3->detail().find("3m (Gauss): fprop, dgrad, wgrad"), std::string::npos) << a3->detail();
  EXPECT_EQ(a4->detail().find("3m"), std::string::npos) << a4->detail();
  for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad}) EXPECT_NE(o3.of(q), o4.of(q)) << to_string(q);
  AlgoOptions bad;
  bad.complex_gemm = "2m";
  EXPECT_NE(make_algorithm("cpu.fft", bad)->supports(shapes[0], Pass::fprop).find("complex_gemm '2m'"),
            std::string::npos);
}

// OpenBLAS 0.3.21's threaded cgemm3m never returns, so cpu.fft keeps OpenBLAS single-threaded
// wherever 3m may run: the bins run across its threads even when fewer bins are kept than there
// are threads (a layer band-limited to one bin), and with threads = 1 under a larger OpenMP
// default it runs 4m and says so. (A regression hangs here: ctest's TIMEOUT ends it.)
TEST(CpuFft, GaussOnlyWhereOpenBlasRunsSingleThreaded) {
  std::mt19937_64 rng(test_seed() + 23);
  const Case one_bin = make_case(rng, parse_shape_spec("N=16,C=64,K=64,in=4x4,k=3x3,pad=1"));
  const Case exact = make_case(rng, parse_shape_spec("N=16,C=32,K=24,in=12x12,k=3x3,pad=1"));
  for (const char* choice : {"3m", "planner"}) {
    AlgoOptions opt, usual;
    opt.complex_gemm = choice, usual.complex_gemm = "4m";
    opt.threads = usual.threads = 2;
    opt.compression = usual.compression = 0.95;  // 6 x 6 transforms keep 1 of 24 bins
    const auto a = make_algorithm("cpu.fft", opt), b = make_algorithm("cpu.fft", usual);
    for (Pass p : kAllPasses) {
      const Outputs o = run_pass(*a, one_bin, p), u = run_pass(*b, one_bin, p);
      if (std::string(choice) == "3m") {
        EXPECT_NE(a->detail().find("complex GEMMs 3m (Gauss)"), std::string::npos) << a->detail();
      }
      for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad})
        if (pass_covered(p, q)) {
          EXPECT_LT(rel_diff(o.of(q), u.of(q)), 1e-5) << choice << " " << to_string(p) << "/" << to_string(q);
        }
    }
  }
  AlgoOptions single;
  single.complex_gemm = "3m", single.threads = 1;
  const auto a = make_algorithm("cpu.fft", single);
  for (Pass p : kAllPasses) {
    const Outputs o = run_pass(*a, exact, p);
    const bool blas_threads = omp_get_max_threads() > 1;
    EXPECT_EQ(a->detail().find("complex GEMMs 4m: 3m needs OpenBLAS single-threaded") != std::string::npos, blas_threads)
        << a->detail();
    EXPECT_EQ(a->detail().find("complex GEMMs 3m (Gauss)") != std::string::npos, !blas_threads) << a->detail();
    for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad})
      if (pass_covered(p, q)) {
        EXPECT_LE(rel_error(o.of(q).data(), exact.ref[int(q)].values), tolerance(exact.shape, q, exact.ref[int(q)]))
            << to_string(p) << "/" << to_string(q);
      }
  }
}

// FFTW_MEASURE and FFTW_PATIENT plan by running transforms on the chunk buffers (overwriting
// them): planned in prepare, before any data, every pass and the step match the reference on
// random shapes, 1D-3D, as with FFTW_ESTIMATE; an unknown planning is refused by name.
TEST(CpuFft, MeasuredAndPatientPlansMatchTheReference) {
  std::mt19937_64 rng(test_seed() + 22);
  for (const char* planning : {"measure", "patient"}) {
    AlgoOptions opt;
    opt.fft_planning = planning;
    opt.fft_size = FftSizePolicy::smooth;  // 7-smooth sizes: FFTW's composite plans, where planning matters
    const auto algo = make_algorithm("cpu.fft", opt);
    for (int dims = 1; dims <= 3; ++dims)
      for (int i = 0; i < 2; ++i) {
        const Shape s = random_shape(rng, dims);
        SCOPED_TRACE(std::string(planning) + " " + s.to_string());
        const Case c = make_case(rng, s);
        for (Pass p : kAllPasses) {
          const Outputs o = run_pass(*algo, c, p);
          for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad})
            if (pass_covered(p, q)) {
              EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
                  << to_string(p) << "/" << to_string(q);
            }
        }
      }
  }
  AlgoOptions bad;
  bad.fft_planning = "exhaustive";
  EXPECT_NE(make_algorithm("cpu.fft", bad)->supports(random_shape(rng, 2), Pass::fprop).find("fft_planning 'exhaustive'"),
            std::string::npos);
}

// The stages cpu.fft marks for --stages, one per tensor transform and per GEMM: they show the
// step's reuse (x, w, dy transformed once each) and run_backward() after fprop transforming dy
// only. Without a clock nothing is marked.
TEST(CpuFft, MarksOneStagePerTransformAndGemm) {
  std::mt19937_64 rng(test_seed());
  const Shape s = random_shape(rng, 2);
  SCOPED_TRACE(s.to_string() + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
  const Case c = make_case(rng, s);
  const auto algo = make_algorithm("cpu.fft");
  testing::StageRecorder clock;
  algo->set_stage_clock(&clock);
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
    clock.stages.clear();
    run_pass(*algo, c, p);
    EXPECT_EQ(clock.stages, testing::fft_stages(p)) << to_string(p);
  }
  Outputs out(s);
  algo->prepare(s, Pass::step);
  clock.stages.clear();
  algo->run(Pass::fprop, out.buffers(c.x.data(), c.w.data(), c.dy.data()));
  algo->run_backward(out.buffers(c.x.data(), c.w.data(), c.dy.data()));
  std::vector<std::string> expected = testing::fft_stages(Pass::fprop);
  for (const char* st : {"forward dy", "gemm dgrad", "inverse dx", "gemm wgrad", "inverse dw"}) expected.push_back(st);
  EXPECT_EQ(clock.stages, expected);
  if (!testing::all_zero(c.ref[2])) {  // marking changes nothing in the results
    EXPECT_LE(rel_error(out.dw.data(), c.ref[2].values), tolerance(s, Pass::wgrad, c.ref[2]));
  }
  algo->set_stage_clock(nullptr);
  clock.stages.clear();
  run_pass(*algo, c, Pass::fprop);
  EXPECT_TRUE(clock.stages.empty());
}

// cpu.onednn's rows say which implementation oneDNN chose for each prepared pass (as cudnn.best's
// name cuDNN's algorithm), and which of the pass's tensors it copied into or out of its formats.
TEST(CpuOnednn, DetailNamesTheImplementationOfEachPreparedPass) {
  std::mt19937_64 rng(test_seed());
  const std::map<Pass, std::set<std::string>> touches = {
      {Pass::fprop, {"x", "w", "y"}}, {Pass::dgrad, {"w", "dy", "dx"}}, {Pass::wgrad, {"x", "dy", "dw"}}};
  for (int dims = 1; dims <= 3; ++dims) {
    const Shape s = random_shape(rng, dims);
    SCOPED_TRACE(s.to_string() + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
    const auto algo = make_algorithm("cpu.onednn");
    EXPECT_EQ(algo->detail(), "");  // nothing prepared yet
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
      algo->prepare(s, p);
      const std::string d = algo->detail();
      // "fprop jit:avx512_core; dgrad ...; 5 reorders (x, w, dy)": one part per pass, in order.
      std::vector<std::string> parts;
      for (size_t at = 0; at <= d.size();) {
        const size_t end = std::min(d.find("; ", at), d.size());
        parts.push_back(d.substr(at, end - at));
        at = end + 2;
      }
      std::vector<Pass> passes = {p};
      if (p == Pass::step) passes = {Pass::fprop, Pass::dgrad, Pass::wgrad};
      ASSERT_GE(parts.size(), passes.size()) << d;
      std::set<std::string> allowed;
      for (size_t i = 0; i < passes.size(); ++i) {
        const std::string head = std::string(to_string(passes[i])) + " ";
        EXPECT_EQ(parts[i].rfind(head, 0), 0u) << d;
        EXPECT_GT(parts[i].size(), head.size()) << d;  // the implementation's name
        allowed.insert(touches.at(passes[i]).begin(), touches.at(passes[i]).end());
      }
      ASSERT_LE(parts.size(), passes.size() + 1) << d;
      if (parts.size() == passes.size()) continue;  // oneDNN took our layouts as they are
      const std::string& copies = parts.back();
      const size_t open = copies.find(" reorders (");
      ASSERT_NE(open, std::string::npos) << d;
      EXPECT_GE(std::stoi(copies.substr(0, open)), 1) << d;
      std::string names = copies.substr(open + 11);
      ASSERT_EQ(names.back(), ')') << d;
      names.pop_back();
      for (size_t at = 0; at <= names.size();) {
        const size_t end = std::min(names.find(", ", at), names.size());
        EXPECT_TRUE(allowed.count(names.substr(at, end - at))) << names.substr(at, end - at) << " in " << d;
        at = end + 2;
      }
    }
  }
}

TEST(Tolerance, TransformConditionIsTheWholeSignalErrorScale) {
  // One output y = x[1,1] * w[1,1]: condition 1, transform_condition sqrt(log2(2P)/P)||x|| ||w|| / |y|.
  std::mt19937_64 rng(test_seed() + 3);
  const Shape s = few_product_shapes()[0];
  for (int draw = 0; draw < 20; ++draw) {
    const Case c = make_case(rng, s);
    const Reference& r = c.ref[int(Pass::fprop)];
    ASSERT_EQ(r.values.size(), 1u);
    const double y = double(c.x[4]) * double(c.w[4]);
    EXPECT_NEAR(r.values[0], y, 1e-12);
    EXPECT_NEAR(r.condition, 1.0, 1e-12);
    double x2 = 0, w2 = 0;
    for (float v : c.x) x2 += double(v) * v;
    for (float v : c.w) w2 += double(v) * v;
    const double P = 25;  // padded 5 x 5
    EXPECT_NEAR(r.transform_condition, std::sqrt(std::log2(2 * P) / P * x2 * w2) / std::abs(y),
                1e-9 * r.transform_condition);
  }
}

// Round to nearest at TF32's 10 explicit mantissa bits: what tensor cores do to their inputs.
float to_tf32(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&v, &u, 4);
  return v;
}

TEST(Tolerance, Tf32BoundCoversRoundedInputsAndStaysNearTheirError) {
  // The exact result of tf32-rounded inputs is what tensor cores approach: its distance from the
  // exact fp32-input result is TF32's own error. The bound must cover it on any shape and, on
  // dense layers (where that error is ~2^-11 relative), stay within 100x of it: a bound
  // proportional to `condition` (~sqrt(L) on random data) would be 1000x loose and pass anything.
  std::mt19937_64 rng(test_seed() + 5);
  const auto rounded = [](std::vector<float> v) {
    for (float& f : v) f = to_tf32(f);
    return v;
  };
  const auto distance = [](const std::vector<double>& a, const std::vector<double>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    return std::sqrt(num / den);
  };
  std::vector<std::pair<Shape, bool>> shapes = {{Shape::make({4, 16, 24, 1, {12, 12}, {3, 3}, {1}, {1}, {1}}), true},
                                                {Shape::make({2, 8, 8, 1, {20}, {5}, {2}, {1}, {1}}), true},
                                                {Shape::make({2, 4, 6, 1, {6, 5, 7}, {3, 2, 3}, {1}, {1}, {1}}), true}};
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 3; ++i) shapes.push_back({random_shape(rng, dims), false});
  for (const auto& [s, dense] : shapes) {
    const Case c = make_case(rng, s);
    const std::vector<float> x = rounded(c.x), w = rounded(c.w), dy = rounded(c.dy);
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
      const Reference& exact = c.ref[int(p)];
      if (testing::all_zero(exact)) continue;
      const double err = distance(reference(s, p, x.data(), w.data(), dy.data()).values, exact.values);
      const double tol = tolerance(s, p, exact, "tf32");
      EXPECT_LE(err, tol) << s.to_string() << " " << to_string(p);
      if (dense) {
        EXPECT_GT(err, 1e-5) << s.to_string() << " " << to_string(p);  // the rounding happened
        EXPECT_LE(tol, 100 * err) << s.to_string() << " " << to_string(p) << ": product_spread "
                                  << exact.product_spread << ", transform_condition " << exact.transform_condition;
      }
    }
  }
}

TEST(Tolerance, CoversFftWhenFewProductsReachTheResult) {
  // Fresh draws make |result| << ||x|| ||w|| now and then; FFT rows must stay within tolerance.
  std::mt19937_64 rng(test_seed() + 4);
  for (const std::string name : {"cpu.fft", "cpu.fft_tiled"}) {
    const auto algo = make_algorithm(name);
    for (const Shape& s : few_product_shapes()) {
      double worst = 0;
      for (int draw = 0; draw < 150; ++draw) {
        const Case c = make_case(rng, s);
        const Outputs out = run_pass(*algo, c, Pass::step);
        for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
          const double err = rel_error(out.of(p).data(), c.ref[int(p)].values);
          EXPECT_LE(err, tolerance(s, p, c.ref[int(p)])) << name << " " << s.to_string() << " " << to_string(p);
          worst = std::max(worst, err / tolerance(s, p, c.ref[int(p)]));
        }
      }
      std::printf("%s %s: worst rel_error/tolerance %.3g\n", name.c_str(), s.to_string().c_str(), worst);
    }
  }
}

std::vector<std::string> cpu_algorithm_names() {
  std::vector<std::string> names;
  for (const auto& e : algorithm_list())
    if (e.make({})->device() == Device::cpu) names.emplace_back(e.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, CpuAlgorithm, ::testing::ValuesIn(cpu_algorithm_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (ch == '.') ch = '_';
                           return n;
                         });

TEST(AlgorithmList, UnknownNameListsKnownOnes) {
  try {
    make_algorithm("cpu.nope");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cpu.nope"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cpu.direct"), std::string::npos);
  }
}

TEST(AlgorithmList, NamesAreUniqueAndMatchTheObjects) {
  std::set<std::string> seen;
  for (const auto& e : algorithm_list()) {
    EXPECT_TRUE(seen.insert(std::string(e.name)).second) << e.name;
    EXPECT_EQ(e.make({})->name(), e.name);
  }
}

// The bench notes a tuning option that no algorithm run reads; that note is only as right as
// uses_option(). Only FFT algorithms are tuned, a tiled one reads what its inner one reads plus
// the tile, and each field has its readers.
TEST(AlgorithmList, TuningOptionsAreReadByTheFftAlgorithmsThatTakeThem) {
  const char* fields[] = {"fft_planning", "fft_tile", "filter_spectra", "small_fft_split", "fft_grid_bytes",
                          "complex_gemm"};
  std::map<std::string, std::set<std::string>> read;  // algorithm -> fields
  for (const auto& e : algorithm_list()) {
    const auto a = e.make({});
    for (const char* f : fields)
      if (a->uses_option(f)) read[std::string(e.name)].insert(f);
    EXPECT_FALSE(a->uses_option("threads")) << e.name;
    if (!a->plans_fft_sizes()) {
      EXPECT_TRUE(read[std::string(e.name)].empty()) << e.name;
    }
    const std::string name(e.name);
    const bool tiled = name.size() > 6 && name.compare(name.size() - 6, 6, "_tiled") == 0;
    EXPECT_EQ(a->uses_option("fft_tile"), tiled) << e.name;
  }
  EXPECT_EQ(read["cpu.fft"], (std::set<std::string>{"fft_planning", "complex_gemm"}));
  for (auto& [name, f] : read) {
    if (name.size() <= 6 || name.compare(name.size() - 6, 6, "_tiled") != 0) continue;
    std::set<std::string> inner = read[name.substr(0, name.size() - 6)];
    inner.insert("fft_tile");
    EXPECT_EQ(f, inner) << name;
  }
  if (read.count("cuda.fbfft")) {
    EXPECT_TRUE(read["cuda.fbfft"].count("small_fft_split"));
    EXPECT_FALSE(read["cuda.fft"].count("small_fft_split"));  // cuFFT's transforms are not split
    EXPECT_TRUE(read["cuda.fft"].count("filter_spectra") && read["cuda.fft"].count("fft_grid_bytes"));
  }
}

// The bench asks these, not the names: a size planner reports sizes for every shape, and only
// FFT algorithms plan sizes.
TEST(AlgorithmList, SizePlannersAreFftAlgorithmsThatReportTheirSizes) {
  const Shape shapes[] = {Shape::make({2, 3, 4, 1, {9}, {3}, {1}, {1}, {1}}),
                          Shape::make({1, 2, 2, 1, {7, 10}, {3, 2}, {1}, {2}, {1}}),
                          Shape::make({1, 1, 1, 1, {5, 6, 4}, {2, 2, 2}, {0}, {1}, {1}})};
  std::set<std::string> planners;
  for (const auto& e : algorithm_list()) {
    const auto a = e.make({});
    if (a->plans_fft_sizes()) {
      planners.insert(std::string(e.name));
      EXPECT_TRUE(a->fft_method()) << e.name;
    }
    for (const Shape& s : shapes) {
      const Extent nf = a->transform_sizes(s, Pass::fprop);
      const Shape t = a->modelled_shape(s, Pass::fprop);  // what is transformed: tiles, for a tiled one
      for (int i = 0; i < kMaxDims; ++i) {
        if (!a->plans_fft_sizes()) EXPECT_EQ(nf[i], 0) << e.name << " " << s.to_string();
        else EXPECT_GE(nf[i], i < kMaxDims - s.dims ? 1 : t.in[i] + 2 * t.pad[i]) << e.name << " " << s.to_string();
      }
    }
  }
  EXPECT_TRUE(planners.count("cpu.fft") && planners.count("cpu.fft_tiled"));
  for (const char* n : {"cpu.direct", "cpu.im2col", "cpu.onednn"}) {
    EXPECT_FALSE(planners.count(n)) << n;
    EXPECT_FALSE(make_algorithm(n)->fft_method()) << n;
  }
}

}  // namespace
}  // namespace convbench
