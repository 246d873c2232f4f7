// Every CUDA and cuDNN algorithm x pass x dims against the float64 reference on random shapes,
// through the harness's own device layer (device tensors, NaN-filled outputs, the benchmark
// stream). Without a CUDA device every test that needs one is SKIPPED with the reason; the
// error-check macros are tested everywhere.
#include <fftw3.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "algorithms.hpp"
#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_check.hpp"
#include "convbench/cuda_info.hpp"
#include "convbench/reference.hpp"
#include "convbench/small_fft_block.hpp"
#include "device.hpp"
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

#define REQUIRE_CUDA_DEVICE()                                                   \
  do {                                                                          \
    if (cuda_device_count() == 0) {                                             \
      GTEST_SKIP() << "no CUDA device: " << cuda_summary();                     \
    }                                                                           \
  } while (0)

// Random shapes per dims; CONVBENCH_TEST_SHAPES overrides (fewer under compute-sanitizer).
int random_shapes_per_dims() {
  const char* v = std::getenv("CONVBENCH_TEST_SHAPES");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 25;
}
constexpr Pass kPasses[3] = {Pass::fprop, Pass::dgrad, Pass::wgrad};

// Host copies of y, dx, dw after one run of pass p on the device (NaN where not written).
struct Outputs {
  std::vector<float> out[3];
  const std::vector<float>& of(Pass p) const { return out[int(p)]; }
};

Outputs run_on_device(BenchDevice& dev, Algorithm& algo, const Case& c, Pass p) {
  dev.load(c.shape, c.x, c.w, c.dy);
  dev.reset_outputs();
  algo.set_stream(dev.stream());
  algo.prepare(c.shape, p);
  algo.run(p, dev.buffers());
  dev.synchronize();
  Outputs o;
  for (Pass q : kPasses) {
    const float* h = dev.output(q);
    o.out[int(q)].assign(h, h + output_elems(c.shape, q));
  }
  return o;
}

bool is_cudnn(const std::string& name) { return name.rfind("cudnn.", 0) == 0; }
// cuda.fbfft's own transforms (and so its tiled variant) are 1D/2D only.
bool own_transforms(const std::string& name) { return name == "cuda.fbfft" || name == "cuda.fbfft_tiled"; }
// What one of our algorithms may decline: 3D for the own transforms.
bool may_decline(const std::string& name, const Shape& s) { return is_cudnn(name) || (own_transforms(name) && s.dims == 3); }
// A refusal only when asked to prepare or run: allowed where declining is (cuDNN, 3D own transforms).
void expect_may_refuse(const std::string& name, const Shape& s, const Unsupported& e) {
  EXPECT_TRUE(may_decline(name, s)) << name << " refused " << s.to_string() << ": " << e.what();
}

// Every output pass p computed (reference not all zero) within its fp32 tolerance; `what`
// names the case in a failure.
void expect_matches_reference(const Outputs& o, const Case& c, Pass p, const std::string& what) {
  for (Pass q : kPasses)
    if (pass_covered(p, q) && !testing::all_zero(c.ref[int(q)])) {
      EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(c.shape, q, c.ref[int(q)]))
          << what << " " << to_string(p) << "/" << to_string(q);
    }
}

std::vector<std::string> cuda_algorithm_names() {
  std::vector<std::string> names;
  for (const auto& e : algorithm_list())
    if (e.make({})->device() == Device::cuda) names.emplace_back(e.name);
  if (names.empty()) names.emplace_back("<none>");  // a suite that says why it did not run
  return names;
}

class CudaAlgorithm : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaAlgorithm, MatchesReferenceOnRandomShapes) {
  REQUIRE_CUDA_DEVICE();
  const std::string name = GetParam();
  auto dev = make_cuda_device();  // first, so destroyed last: the algorithm's handles use its stream
  const auto algo = make_algorithm(name);
  std::mt19937_64 rng(test_seed() ^ std::hash<std::string>{}(name));
  std::vector<Shape> shapes = edge_shapes();
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < random_shapes_per_dims(); ++i) shapes.push_back(random_shape(rng, dims));

  double worst = 0;
  std::map<std::string, int> ran, skipped;  // per pass
  std::string a_reason;
  for (const Shape& s : shapes) {
    SCOPED_TRACE(name + " " + s.to_string() + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
    const Case c = make_case(rng, s);
    Outputs separate[3];
    bool ran_pass[3] = {};
    for (Pass p : kPasses) {
      std::string why = algo->supports(s, p);
      if (why.empty()) {
        try {
          separate[int(p)] = run_on_device(*dev, *algo, c, p);
        } catch (const Unsupported& e) {
          why = e.what();
        }
      }
      if (!why.empty()) {
        // Ours run everything (cuda.fbfft: 1D/2D); cuDNN algorithms decline shapes, passes or both.
        ASSERT_TRUE(may_decline(name, s)) << name << " declined " << to_string(p) << ": " << why;
        ++skipped[std::string(to_string(p))];
        a_reason = why;
        continue;
      }
      ran_pass[int(p)] = true;
      ++ran[std::string(to_string(p))];
      const double err = rel_error(separate[int(p)].of(p).data(), c.ref[int(p)].values);
      const double tol = tolerance(s, p, c.ref[int(p)]);
      EXPECT_LE(err, tol) << to_string(p);
      if (!std::isnan(err)) worst = std::max(worst, err / tol);
    }
    std::string why = algo->supports(s, Pass::step);
    Outputs step;
    if (why.empty()) {
      try {
        step = run_on_device(*dev, *algo, c, Pass::step);
      } catch (const Unsupported& e) {
        why = e.what();
      }
    }
    if (!why.empty()) {
      ASSERT_TRUE(may_decline(name, s)) << name << " declined step: " << why;
      ++skipped["step"];
    } else {
      ++ran["step"];
      for (Pass p : kPasses) {
        EXPECT_LE(rel_error(step.of(p).data(), c.ref[int(p)].values), tolerance(s, p, c.ref[int(p)]))
            << "step " << to_string(p);
        // Same arithmetic as the separate pass, up to summation order (cudnn.best may pick
        // another algorithm per run, so only ours are held to this).
        if (ran_pass[int(p)] && !is_cudnn(name) && !testing::all_zero(c.ref[int(p)])) {
          EXPECT_LE(rel_diff(step.of(p), separate[int(p)].of(p)), tolerance(s, p, c.ref[int(p)]) / 4)
              << "step differs from separate " << to_string(p);
        }
      }
    }
    if (HasFailure()) break;  // one failing shape tells the story
  }
  std::string summary;
  for (const char* p : {"fprop", "dgrad", "wgrad", "step"})
    summary += std::string(" ") + p + " " + std::to_string(ran[p]) + " ran/" + std::to_string(skipped[p]) + " skipped";
  std::printf("%s: %zu shapes;%s; worst rel_error/tolerance %.3g%s%s\n", name.c_str(), shapes.size(), summary.c_str(),
              worst, a_reason.empty() ? "" : "; e.g. declined: ", a_reason.c_str());
  RecordProperty("worst_error_over_tolerance", std::to_string(worst));
  // cuDNN may decline a shape, but not all of them: a broken cuDNN must not pass as "declined".
  if (name == "cudnn.best") {
    for (const char* p : {"fprop", "dgrad", "wgrad", "step"}) EXPECT_GT(ran[p], 0) << p;
  }
  if (name == "cudnn.implicit_gemm") {
    EXPECT_GT(ran["fprop"], 0);
  }
  if (!is_cudnn(name)) {
    const int three_d = int(std::count_if(shapes.begin(), shapes.end(), [](const Shape& s) { return s.dims == 3; }));
    for (const char* p : {"fprop", "dgrad", "wgrad", "step"})
      EXPECT_EQ(skipped[p], own_transforms(name) ? three_d : 0) << p;
  }
}

TEST_P(CudaAlgorithm, RunWithoutPrepareForThatPassThrows) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();  // first, so destroyed last: the algorithm's handles use its stream
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed());
  const Case c = make_case(rng, random_shape(rng, 2));
  dev->load(c.shape, c.x, c.w, c.dy);
  algo->set_stream(dev->stream());
  EXPECT_THROW(algo->run(Pass::fprop, dev->buffers()), std::logic_error);
  if (!algo->supports(c.shape, Pass::fprop).empty()) return;
  try {
    algo->prepare(c.shape, Pass::fprop);
  } catch (const Unsupported&) {
    return;
  }
  EXPECT_THROW(algo->run(Pass::wgrad, dev->buffers()), std::logic_error);
}

TEST_P(CudaAlgorithm, PreparedOnceRunsManyTimesOnFreshData) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();  // first, so destroyed last: the algorithm's handles use its stream
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() + 1);
  algo->set_stream(dev->stream());
  // A 2D shape and pass the algorithm takes, the step where it can: cuDNN's algorithms of one
  // pass take only that one, and some decline most random shapes (Winograd: 3x3, stride and
  // dilation 1), so a few random shapes are tried, then a 3x3 'same' one.
  constexpr int kRandomShapes = 20;
  Shape s;
  Pass pass = Pass::step;
  bool prepared = false;
  std::string refusal;
  for (int attempt = 0; attempt <= kRandomShapes && !prepared; ++attempt) {
    s = attempt < kRandomShapes ? random_shape(rng, 2) : Shape::make({2, 4, 6, 1, {9, 10}, {3, 3}, {1}, {1}, {1}});
    for (Pass p : {Pass::step, Pass::fprop, Pass::dgrad, Pass::wgrad}) {
      if (!(refusal = algo->supports(s, p)).empty()) continue;
      try {
        algo->prepare(s, p);
      } catch (const Unsupported& e) {
        expect_may_refuse(GetParam(), s, e);
        refusal = e.what();
        continue;
      }
      pass = p, prepared = true;
      break;
    }
  }
  if (!prepared) GTEST_SKIP() << GetParam() << " took no 2D shape tried in any pass; last: " << refusal;
  for (int rep = 0; rep < 3; ++rep) {
    const Case c = make_case(rng, s);
    auto fresh = make_cuda_device();  // new tensors: the algorithm must hold no pointers from before
    fresh->load(s, c.x, c.w, c.dy);
    fresh->reset_outputs();
    algo->set_stream(fresh->stream());
    try {
      algo->run(pass, fresh->buffers());
    } catch (const Unsupported& e) {
      expect_may_refuse(GetParam(), s, e);
      algo->set_stream(dev->stream());
      GTEST_SKIP() << e.what();
    }
    fresh->synchronize();
    for (Pass q : kPasses) {
      if (!pass_covered(pass, q)) continue;
      EXPECT_LE(rel_error(fresh->output(q), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
          << s.to_string() << " rep " << rep << " " << to_string(pass) << "/" << to_string(q);
    }
    algo->set_stream(dev->stream());  // fresh's stream dies with it; the handles must not keep it
  }
}

// The training step's split: run(fprop), then run_backward() (FFT algorithms reuse fprop's
// spectra of x and w), for dx and dw and for dw alone.
TEST_P(CudaAlgorithm, BackwardAfterFpropMatchesReference) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();  // first, so destroyed last: the algorithm's handles use its stream
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() + 4);
  for (int dims = 1; dims <= 2; ++dims) {
    const Case c = make_case(rng, random_shape(rng, dims));
    const Shape& s = c.shape;
    if (!algo->supports(s, Pass::step).empty()) continue;
    algo->set_stream(dev->stream());
    try {
      algo->prepare(s, Pass::step);
    } catch (const Unsupported& e) {
      expect_may_refuse(GetParam(), s, e);
      continue;
    }
    for (bool with_dx : {true, false}) {
      dev->load(s, c.x, c.w, c.dy);
      dev->reset_outputs();
      ConvBuffers t = dev->buffers();
      try {  // a cuDNN algorithm may refuse a pass only when it runs
        algo->run(Pass::fprop, t);
        if (!with_dx) t.dx = nullptr;
        algo->run_backward(t);
      } catch (const Unsupported& e) {
        expect_may_refuse(GetParam(), s, e);
        break;
      }
      dev->synchronize();
      for (Pass p : {Pass::dgrad, Pass::wgrad}) {
        if (p == Pass::dgrad && !with_dx) continue;
        EXPECT_LE(rel_error(dev->output(p), c.ref[int(p)].values), tolerance(s, p, c.ref[int(p)]))
            << s.to_string() << " " << to_string(p) << (with_dx ? "" : " (dw only)");
      }
    }
  }
}

TEST_P(CudaAlgorithm, WorkspaceBytesMatchAfterPrepare) {
  REQUIRE_CUDA_DEVICE();
  const auto algo = make_algorithm(GetParam());
  std::mt19937_64 rng(test_seed() + 2);
  const Shape s = random_shape(rng, 2);
  for (Pass p : kAllPasses) {
    if (!algo->supports(s, p).empty()) continue;
    const std::size_t before = algo->workspace_bytes(s, p);
    try {
      algo->prepare(s, p);
    } catch (const Unsupported&) {
      continue;
    }
    if (GetParam() != "cudnn.best") {
      EXPECT_EQ(algo->workspace_bytes(s, p), before) << to_string(p);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, CudaAlgorithm, ::testing::ValuesIn(cuda_algorithm_names()), [](const auto& info) {
  std::string n = info.param;
  for (auto& ch : n)
    if (ch == '.' || ch == '<' || ch == '>') ch = '_';
  return n;
});

// The filter's spectra by the DFT over its taps (filter_spectra "dft") or by the transforms
// ("fft"): both against the reference in every pass and dims, with padding, stride, dilation
// and groups from the random shapes, and against each other band-limited (the same mask).
class CudaFftFilterSpectra : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaFftFilterSpectra, DftAndTransformsBothMatchTheReference) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 7);
  const int max_dims = GetParam() == "cuda.fbfft" ? 2 : 3;
  for (int dims = 1; dims <= max_dims; ++dims)
    for (int draw = 0; draw < 3; ++draw) {
      const Case c = make_case(rng, random_shape(rng, dims));
      const Shape& s = c.shape;
      for (double compression : {0.0, 0.5}) {
        Outputs by[2];
        for (int dft = 0; dft < 2; ++dft) {
          AlgoOptions opt;
          opt.filter_spectra = dft ? "dft" : "fft";
          opt.compression = compression;
          const auto algo = make_algorithm(GetParam(), opt);
          ASSERT_EQ(algo->supports(s, Pass::step), "") << s.to_string();
          testing::StageRecorder clock;
          algo->set_stage_clock(&clock);
          for (Pass p : kAllPasses) {
            const Outputs o = run_on_device(*dev, *algo, c, p);
            EXPECT_EQ(algo->detail().find("filter spectra by DFT GEMM") != std::string::npos, bool(dft)) << algo->detail();
            for (Pass q : kPasses) {
              if (pass_covered(p, q) && compression == 0 && !testing::all_zero(c.ref[int(q)])) {
                EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
                    << s.to_string() << " " << opt.filter_spectra << " " << to_string(p) << "/" << to_string(q);
              }
            }
            if (p == Pass::step) by[dft] = o;
          }
          // The DFT is one fused stage per direction, as an own transform is.
          const bool marks_w_kernels = std::count(clock.stages.begin(), clock.stages.end(), "place w") > 0;
          EXPECT_EQ(marks_w_kernels, !dft && GetParam() == "cuda.fft") << s.to_string();
          if (dft) {
            EXPECT_GT(std::count(clock.stages.begin(), clock.stages.end(), "forward w"), 0);
          }
        }
        if (compression == 0) continue;
        for (Pass q : kPasses) {  // the same band-limited convolution both ways, to float rounding
          if (testing::all_zero(c.ref[int(q)])) continue;
          const auto norm = [](const auto& v) { return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0)); };
          EXPECT_LE(rel_diff(by[1].of(q), by[0].of(q)),
                    2 * tolerance(s, q, c.ref[int(q)]) * norm(c.ref[int(q)].values) / std::max(norm(by[0].of(q)), 1e-30))
              << s.to_string() << " compression 0.5 " << to_string(q);
        }
      }
    }
}

// The planner's cost model: the DFT for a small kernel on a large grid, the transforms for a
// kernel that fills its grid; forcing either changes the workspace as the layouts say (the
// DFT needs no grid for w's 2^14 planes, the largest family here).
TEST_P(CudaFftFilterSpectra, PlannerTakesTheDftForSmallKernels) {
  REQUIRE_CUDA_DEVICE();
  const Shape small = Shape::make({2, 64, 256, 1, {32, 32}, {3, 3}, {1}, {1}, {1}});
  const Shape large = Shape::make({2, 8, 8, 1, {16, 16}, {11, 11}, {0}, {1}, {1}});
  const auto planner = make_algorithm(GetParam());
  planner->prepare(small, Pass::fprop);
  EXPECT_NE(planner->detail().find("DFT GEMM"), std::string::npos) << planner->detail();
  EXPECT_TRUE(planner->filter_spectra_by_dft(small, Pass::fprop));  // and the model counts the DFT
  planner->prepare(large, Pass::fprop);
  EXPECT_EQ(planner->detail().find("DFT GEMM"), std::string::npos) << planner->detail();
  EXPECT_FALSE(planner->filter_spectra_by_dft(large, Pass::fprop));
  AlgoOptions dft, fft;
  dft.filter_spectra = "dft", fft.filter_spectra = "fft";
  if (GetParam() == "cuda.fft") {
    EXPECT_LT(make_algorithm(GetParam(), dft)->workspace_bytes(small, Pass::fprop),
              make_algorithm(GetParam(), fft)->workspace_bytes(small, Pass::fprop));
  }
  AlgoOptions bad;
  bad.filter_spectra = "fast";
  EXPECT_NE(make_algorithm(GetParam(), bad)->supports(small, Pass::fprop).find("filter_spectra 'fast'"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Fft, CudaFftFilterSpectra, ::testing::Values("cuda.fft", "cuda.fbfft"),
                         [](const auto& info) { return info.param == "cuda.fft" ? "cuda_fft" : "cuda_fbfft"; });

// cuda.fbfft at transform lengths 32 and 64 in their compiled kernels (small_fft_split
// "compiled") or split in two levels ("split"): both match the reference in every pass, 1D and
// 2D, with padding and stride, and each other band-limited; `detail` names what ran split, the
// planner's choice is one of the two per tensor, other lengths never split, and an unknown value
// is refused.
TEST(CudaFbfftSmallSplit, BothWaysMatchTheReferenceAndDetailSaysWhichRan) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 13);
  const std::vector<std::pair<Shape, int64_t>> shapes = {  // shape, its pow2 transform length
      {Shape::make({2, 3, 4, 1, {30, 30}, {3, 3}, {1}, {1}, {1}}), 32},
      {Shape::make({2, 2, 3, 1, {31, 31}, {3, 3}, {0}, {2}, {1}}), 32},
      {Shape::make({1, 2, 2, 1, {60, 60}, {5, 5}, {2}, {1}, {1}}), 64},
      {Shape::make({2, 3, 2, 1, {60}, {5}, {2}, {1}, {1}}), 64},
      {Shape::make({2, 2, 2, 1, {14, 14}, {3, 3}, {1}, {1}, {1}}), 16}};
  const std::string marker = "small FFTs split in two levels";
  for (const auto& [s, n] : shapes) {
    const Case c = make_case(rng, s);
    for (double compression : {0.0, 0.5}) {
      Outputs step[2];
      for (const char* how : {"compiled", "split", "planner"}) {
        AlgoOptions opt;
        opt.fft_size = FftSizePolicy::pow2, opt.compression = compression, opt.small_fft_split = how;
        const auto algo = make_algorithm("cuda.fbfft", opt);
        ASSERT_EQ(algo->supports(s, Pass::step), "") << s.to_string();
        ASSERT_EQ(algo->transform_sizes(s, Pass::step)[kMaxDims - 1], n) << s.to_string();
        for (Pass p : kAllPasses) {
          const Outputs o = run_on_device(*dev, *algo, c, p);
          const std::string detail = algo->detail();
          const bool split = detail.find(marker) != std::string::npos;
          if (std::string(how) == "split") {
            EXPECT_EQ(split, n != 16) << s.to_string() << " " << detail;
          } else if (std::string(how) == "compiled" || n == 16) {
            EXPECT_FALSE(split) << detail;
          }
          for (Pass q : kPasses) {
            if (pass_covered(p, q) && compression == 0 && !testing::all_zero(c.ref[int(q)])) {
              EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
                  << s.to_string() << " " << how << " " << to_string(p) << "/" << to_string(q);
            }
          }
          if (p == Pass::step && std::string(how) != "planner") step[std::string(how) == "split"] = o;
        }
      }
      for (Pass q : kPasses) {  // band-limited or not, the same convolution both ways
        if (testing::all_zero(c.ref[int(q)])) continue;
        const auto norm = [](const auto& v) { return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0)); };
        EXPECT_LE(rel_diff(step[1].of(q), step[0].of(q)),
                  2 * tolerance(s, q, c.ref[int(q)]) * norm(c.ref[int(q)].values) / std::max(norm(step[0].of(q)), 1e-30))
            << s.to_string() << " compression " << compression << " " << to_string(q);
      }
    }
  }
  AlgoOptions bad;
  bad.small_fft_split = "halved";
  EXPECT_NE(make_algorithm("cuda.fbfft", bad)->supports(shapes[0].first, Pass::fprop).find("small_fft_split 'halved'"),
            std::string::npos);
}

// Gauss's three real products per complex one (AlgoOptions::complex_gemm "3m") in every complex
// GEMM (per-bin products, the filter's DFT): every pass within the fp32 tolerance on random
// shapes (the simulation forms the three products and their sums as a 3m GEMM does), the rows
// name every product that ran so, and any other value is refused by name. The planner (the
// default) times both per GEMM in prepare and names its 3m choices among the pass's products.
class CudaFftComplexGemm : public ::testing::TestWithParam<std::string> {};

// The complex GEMMs pass p runs, as the row's detail names them.
std::set<std::string> complex_gemms(Pass p, bool filter_dft) {
  std::set<std::string> out;
  const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
  if (fp) out.insert("fprop");
  if (dg) out.insert("dgrad");
  if (wg) out.insert("wgrad");
  if (filter_dft && (fp || dg)) out.insert("filter DFT");
  if (filter_dft && wg) out.insert("filter inverse DFT");
  return out;
}

// The products a detail lists after "complex GEMMs 3m (Gauss): " (none when absent).
std::set<std::string> gauss_products(const std::string& detail) {
  const std::string tag = "complex GEMMs 3m (Gauss): ";
  std::set<std::string> out;
  const size_t at = detail.find(tag);
  if (at == std::string::npos) return out;
  const std::string list = detail.substr(at + tag.size(), detail.find(';', at) - at - tag.size());
  for (size_t from = 0; from <= list.size();) {
    const size_t comma = std::min(list.find(", ", from), list.size());
    out.insert(list.substr(from, comma - from));
    from = comma + 2;
  }
  return out;
}

TEST_P(CudaFftComplexGemm, GaussThreeProductsMatchTheReference) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 12);
  AlgoOptions opt, four;
  opt.complex_gemm = "3m", four.complex_gemm = "4m";
  const auto algo = make_algorithm(GetParam(), opt), usual = make_algorithm(GetParam(), four);
  const int max_dims = GetParam() == "cuda.fbfft" ? 2 : 3;
  int differ = 0;  // steps whose outputs are not 4m's to the bit: 3m ran
  for (int dims = 1; dims <= max_dims; ++dims)
    for (int draw = 0; draw < 3; ++draw) {
      const Case c = make_case(rng, random_shape(rng, dims));
      const Shape& s = c.shape;
      for (Pass p : kAllPasses) {
        const Outputs o = run_on_device(*dev, *algo, c, p);
        EXPECT_EQ(gauss_products(algo->detail()), complex_gemms(p, algo->filter_spectra_by_dft(s, p)))
            << algo->detail();
        expect_matches_reference(o, c, p, s.to_string());
        if (p == Pass::step) {
          const Outputs u = run_on_device(*dev, *usual, c, p);
          differ += o.of(Pass::fprop) != u.of(Pass::fprop) || o.of(Pass::wgrad) != u.of(Pass::wgrad);
        }
      }
    }
  // The simulation always forms Gauss's products; cuBLAS may run a small GEMM by its 4m kernels
  // under the 3m call, so on a device identical bits are reported, not failed.
  if (dev->name().find("host simulation") != std::string::npos)
    EXPECT_GT(differ, 0) << "forced 3m gave 4m's outputs to the bit: the plan was not followed";
  else if (differ == 0)
    std::printf("note: on %s forced 3m gave 4m's outputs to the bit on these shapes\n", dev->name().c_str());
  AlgoOptions bad;
  bad.complex_gemm = "5m";
  const Shape s = parse_shape_spec("N=2,C=3,K=4,in=9x9,k=3x3");
  EXPECT_NE(make_algorithm(GetParam(), bad)->supports(s, Pass::fprop).find("complex_gemm '5m'"), std::string::npos);
  EXPECT_EQ(make_algorithm(GetParam())->detail().find("3m"), std::string::npos);
}

TEST_P(CudaFftComplexGemm, PlannerChoosesAmongThePassGemmsAndStaysWithItsChoice) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 13);
  AlgoOptions four;
  four.complex_gemm = "4m";
  const auto planner = make_algorithm(GetParam()), again = make_algorithm(GetParam()),
             forced = make_algorithm(GetParam(), four);
  const int max_dims = GetParam() == "cuda.fbfft" ? 2 : 3;
  for (int dims = 1; dims <= max_dims; ++dims) {
    const Case c = make_case(rng, random_shape(rng, dims));
    const Shape& s = c.shape;
    for (Pass p : kAllPasses) {
      const Outputs o = run_on_device(*dev, *planner, c, p);
      const std::set<std::string> chosen = gauss_products(planner->detail()),
                                  all = complex_gemms(p, planner->filter_spectra_by_dft(s, p));
      EXPECT_TRUE(std::includes(all.begin(), all.end(), chosen.begin(), chosen.end())) << planner->detail();
      // Decided once per GEMM shape in the process: another instance runs the same.
      run_on_device(*dev, *again, c, p);
      EXPECT_EQ(gauss_products(again->detail()), chosen) << s.to_string() << " " << to_string(p);
      run_on_device(*dev, *forced, c, p);
      EXPECT_TRUE(gauss_products(forced->detail()).empty()) << forced->detail();
      expect_matches_reference(o, c, p, s.to_string() + " " + planner->detail());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fft, CudaFftComplexGemm, ::testing::Values("cuda.fft", "cuda.fbfft"),
                         [](const auto& info) { return info.param == "cuda.fft" ? "cuda_fft" : "cuda_fbfft"; });

// cuda.fbfft above 64 points per dim: the planner takes a split length (small_fft::
// split_lengths: two levels of compiled lengths) rather than a run-time one, and every pass and
// the step match the reference there, 1D and 2D, with padding, stride and groups.
TEST(CudaFbfftSplitLengths, PlannerTakesThemAndEveryPassMatchesTheReference) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 11);
  const auto algo = make_algorithm("cuda.fbfft");
  for (const Shape& s : {Shape::make({2, 3, 4, 1, {66, 66}, {5, 5}, {2}, {1}, {1}}),      // padded 70: 72 x 72
                         Shape::make({1, 4, 6, 2, {90, 75}, {3, 4}, {1}, {2}, {1}}),       // 92 x 77: 96 x 81
                         Shape::make({3, 2, 5, 1, {121}, {7}, {3}, {1}, {1}})}) {          // 127: 128
    const Extent nf = algo->transform_sizes(s, Pass::step);
    for (int d = kMaxDims - s.dims; d < kMaxDims; ++d)
      EXPECT_TRUE(small_fft::split_length(int(nf[d]))) << s.to_string() << " dim " << d << ": " << nf[d];
    const Case c = make_case(rng, s);
    for (Pass p : kAllPasses) {
      const Outputs o = run_on_device(*dev, *algo, c, p);
      expect_matches_reference(o, c, p, s.to_string() + " " + algo->fft_size());
    }
  }
}

// Band-limited cuda.fft and cuda.fbfft use cpu.fft's mask, so at the same compression and
// transform sizes all compute the same band-limited convolution: compare them (not the exact
// reference, which the compression moves away from), for every pass and step (cuda.fbfft:
// 1D/2D). The sizes are the smooth policy's: cpu.fft's cheapest follows its own timings, and
// the mask depends on the sizes.
class CudaFftBandLimited : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaFftBandLimited, MatchesCpuFftAtTheSameCompression) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 3);
  const int max_dims = GetParam() == "cuda.fbfft" ? 2 : 3;
  for (double c : {0.0, 0.3, 0.5, 0.9}) {
    AlgoOptions opt;
    opt.compression = c;
    opt.fft_size = FftSizePolicy::smooth;
    const auto gpu = make_algorithm(GetParam(), opt), cpu = make_algorithm("cpu.fft", opt);
    for (int dims = 1; dims <= max_dims; ++dims) {
      // A shape whose exact outputs are all zero has no scale to compare the two at: draw again.
      Case k = make_case(rng, random_shape(rng, dims));
      while (std::any_of(std::begin(k.ref), std::end(k.ref), testing::all_zero)) k = make_case(rng, random_shape(rng, dims));
      const Shape& s = k.shape;
      std::vector<float> out[3] = {std::vector<float>(s.y_elems()), std::vector<float>(s.x_elems()),
                                   std::vector<float>(s.w_elems())};
      cpu->prepare(s, Pass::step);
      cpu->run(Pass::step, {k.x.data(), k.w.data(), k.dy.data(), out[0].data(), out[1].data(), out[2].data()});
      ASSERT_EQ(gpu->transform_sizes(s, Pass::step), cpu->transform_sizes(s, Pass::step)) << s.to_string();
      for (Pass p : kAllPasses) {
        const Outputs o = run_on_device(*dev, *gpu, k, p);
        for (Pass q : kPasses) {
          if (!pass_covered(p, q)) continue;
          // Each pipeline's float error is within the exact FFT's bound, tolerance * ||ref||
          // (band-limiting drops bins, it adds no rounding); relative to the band-limited result.
          const double norm_ref = std::sqrt(std::inner_product(k.ref[int(q)].values.begin(), k.ref[int(q)].values.end(),
                                                               k.ref[int(q)].values.begin(), 0.0));
          const double norm_out = std::sqrt(std::inner_product(out[int(q)].begin(), out[int(q)].end(),
                                                               out[int(q)].begin(), 0.0));
          const double tol = c == 0 ? tolerance(s, q, k.ref[int(q)])
                                    : 2 * tolerance(s, q, k.ref[int(q)]) * norm_ref / std::max(norm_out, 1e-30);
          EXPECT_LE(rel_diff(o.of(q), out[int(q)]), tol)
              << s.to_string() << " compression " << c << " " << to_string(p) << "/" << to_string(q);
        }
      }
    }
  }
}

TEST_P(CudaFftBandLimited, WorkspaceShrinksWithCompression) {
  REQUIRE_CUDA_DEVICE();
  const Shape s = Shape::make({8, 16, 16, 1, {32, 32}, {3, 3}, {1}, {1}, {1}});
  std::size_t previous = 0;
  for (double c : {0.9, 0.5, 0.0}) {
    AlgoOptions o;
    o.compression = c;
    const std::size_t ws = make_algorithm(GetParam(), o)->workspace_bytes(s, Pass::step);
    EXPECT_GT(ws, previous) << "compression " << c;
    previous = ws;
  }
}

INSTANTIATE_TEST_SUITE_P(Fft, CudaFftBandLimited, ::testing::Values("cuda.fft", "cuda.fbfft"),
                         [](const auto& info) { return info.param == "cuda.fft" ? "cuda_fft" : "cuda_fbfft"; });

// cuda.fft's grid takes the planes in chunks, and so does the filter DFT's staging (cuda.fft and
// cuda.fbfft); AlgoOptions::fft_grid_bytes here makes chunks of two planes (five on the large
// shapes; balanced, so the last may hold fewer): every pass and the step, exact and band-limited,
// against the whole-grid run and the reference; the chunks are real (a family's kernels run once
// per chunk). Fewer random shapes with CONVBENCH_TEST_SHAPES (under compute-sanitizer).
class CudaFftGridChunks : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaFftGridChunks, MatchTheWholeGridInEveryPass) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 11);
  const bool own = GetParam() == "cuda.fbfft";
  int chunked = 0;
  // Random shapes, and two large enough that the placement kernels' threads take all kItems.
  std::vector<Case> cases = {make_case(rng, parse_shape_spec("N=4,C=8,K=6,in=30x28,k=3x3,pad=1"))};
  if (!own) cases.push_back(make_case(rng, parse_shape_spec("N=2,C=4,K=4,in=12x11x12,k=3x3x2,pad=1")));
  const size_t large = cases.size();
  const int draws = std::clamp(random_shapes_per_dims() / 3, 1, 3);
  for (int dims = 1; dims <= (own ? 2 : 3); ++dims)
    for (int draw = 0; draw < draws; ++draw) {
      Case c = make_case(rng, random_shape(rng, dims));
      while (c.shape.N * c.shape.C < 3 || c.shape.K * c.shape.Cg() < 3 ||
             std::any_of(std::begin(c.ref), std::end(c.ref), testing::all_zero))
        c = make_case(rng, random_shape(rng, dims));
      cases.push_back(std::move(c));
    }
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const Shape& s = c.shape;
    const int64_t per_chunk = k < large ? 5 : 2;
    for (const char* filter : {"fft", "dft"}) {
      if (own && std::string(filter) == "fft") continue;  // no grid at all
      for (double compression : {0.0, 0.5}) {
        AlgoOptions whole, chunks;
        whole.compression = chunks.compression = compression;
        whole.filter_spectra = chunks.filter_spectra = filter;
        const auto a = make_algorithm(GetParam(), whole);
        const Extent nf = a->transform_sizes(s, Pass::step);
        const int64_t plane = std::string(filter) == "dft" && own ? s.kernel_volume() : nf[0] * nf[1] * (nf[2] / 2 + 1);
        chunks.fft_grid_bytes = int64_t(sizeof(float) * 2) * ((per_chunk + 1) * plane - 1);
        const auto b = make_algorithm(GetParam(), chunks);
        EXPECT_LT(b->workspace_bytes(s, Pass::step), a->workspace_bytes(s, Pass::step)) << s.to_string();
        testing::StageRecorder clock;
        b->set_stage_clock(&clock);
        for (Pass p : kAllPasses) {
          const Outputs wo = run_on_device(*dev, *a, c, p);
          clock.stages.clear();
          const Outputs ch = run_on_device(*dev, *b, c, p);
          const char* marks = own ? "forward w" : "fft x";
          if (p == Pass::step && std::count(clock.stages.begin(), clock.stages.end(), marks) > 1) {
            ++chunked;
            EXPECT_NE(b->detail().find(own ? "chunks: w in " : "chunks: x in "), std::string::npos) << b->detail();
          }
          EXPECT_EQ(a->detail().find("chunks"), std::string::npos) << a->detail();  // small: one chunk
          for (Pass q : kPasses) {
            if (!pass_covered(p, q)) continue;
            const double tol = tolerance(s, q, c.ref[int(q)]);
            if (compression == 0) {
              EXPECT_LE(rel_error(ch.of(q).data(), c.ref[int(q)].values), tol) << s.to_string() << " chunks";
              EXPECT_LE(rel_error(wo.of(q).data(), c.ref[int(q)].values), tol) << s.to_string() << " whole";
            }
            EXPECT_LE(rel_diff(ch.of(q), wo.of(q)), compression == 0 ? tol / 4 : tol)
                << s.to_string() << " " << filter << " compression " << compression << " " << to_string(p) << "/"
                << to_string(q);
          }
        }
      }
    }
  }
  EXPECT_GT(chunked, 0) << "no shape ran in more than one chunk";
}

INSTANTIATE_TEST_SUITE_P(Fft, CudaFftGridChunks, ::testing::Values("cuda.fft", "cuda.fbfft"),
                         [](const auto& info) { return info.param == "cuda.fft" ? "cuda_fft" : "cuda_fbfft"; });

// DESIGN.md's band-limited layers (ResNet-18 on CIFAR, batch 128): at 50% compression the
// workspace of every pass is at most 0.6x that of compression 0, since the grid, the one buffer
// that does not shrink with the kept bins, holds a chunk of the planes; and smaller than the
// whole grid would be.
TEST(CudaFftWorkspace, AtHalfCompressionIsAtMostSixTenthsOnTheBandLimitedLayers) {
  REQUIRE_CUDA_DEVICE();
  for (const char* spec : {"N=128,C=64,K=64,in=32x32,k=3x3,pad=1", "N=128,C=128,K=128,in=16x16,k=3x3,pad=1",
                           "N=128,C=256,K=256,in=8x8,k=3x3,pad=1", "N=128,C=512,K=512,in=4x4,k=3x3,pad=1"}) {
    const Shape s = parse_shape_spec(spec);
    for (const char* filter : {"planner", "fft"}) {
      AlgoOptions full, half;
      full.filter_spectra = half.filter_spectra = filter;
      half.compression = 0.5;
      AlgoOptions whole_grid = half;
      whole_grid.fft_grid_bytes = int64_t{1} << 40;  // every family's planes in one chunk
      const auto a = make_algorithm("cuda.fft", full), b = make_algorithm("cuda.fft", half);
      const auto w = make_algorithm("cuda.fft", whole_grid);
      for (Pass p : kAllPasses) {
        const double ratio = double(b->workspace_bytes(s, p)) / double(a->workspace_bytes(s, p));
        EXPECT_LE(ratio, 0.6) << spec << " " << filter << " " << to_string(p);
        EXPECT_GE(ratio, 0.45) << spec << " " << filter << " " << to_string(p);  // the spectra halve, no more
        EXPECT_LT(b->workspace_bytes(s, p), w->workspace_bytes(s, p)) << spec << " " << filter << " " << to_string(p);
        std::printf("%s %s %s: workspace at 50%% %.3fx\n", spec, filter, std::string(to_string(p)).c_str(), ratio);
      }
    }
  }
}

// A tile extent for s from its largest dilated kernel to its largest padded input, so that
// most shapes are cut into several tiles.
int64_t random_tile_extent(std::mt19937_64& rng, const Shape& s) {
  int64_t lo = 1, hi = 1;
  for (int d = kMaxDims - s.dims; d < kMaxDims; ++d) lo = std::max(lo, s.dilated_kernel(d)), hi = std::max(hi, s.padded(d));
  return testing::uniform_int(rng, lo, hi);
}

// The tiled variants with tiles forced to a random extent, so that most shapes are cut: every
// pass, the step, and fprop + run_backward, against the float64 reference.
class CudaFftTiled : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaFftTiled, MatchesReferenceWithForcedTiles) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 5);
  const int max_dims = own_transforms(GetParam()) ? 2 : 3;
  for (int dims = 1; dims <= max_dims; ++dims)
    for (int i = 0; i < 15; ++i) {
      const Case c = make_case(rng, random_shape(rng, dims));
      const Shape& s = c.shape;
      AlgoOptions opt;
      opt.fft_tile = random_tile_extent(rng, s);
      const auto algo = make_algorithm(GetParam(), opt);
      SCOPED_TRACE(s.to_string() + " tile extent " + std::to_string(opt.fft_tile) +
                   " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
      ASSERT_EQ(algo->supports(s, Pass::step), "");
      for (Pass p : kAllPasses) {
        const Outputs o = run_on_device(*dev, *algo, c, p);
        for (Pass q : kPasses) {
          if (!pass_covered(p, q)) continue;
          EXPECT_LE(rel_error(o.of(q).data(), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
              << to_string(p) << "/" << to_string(q) << " " << algo->detail();
        }
      }
      dev->load(s, c.x, c.w, c.dy);
      dev->reset_outputs();
      algo->prepare(s, Pass::step);
      ConvBuffers t = dev->buffers();
      algo->run(Pass::fprop, t);
      algo->run_backward(t);
      dev->synchronize();
      for (Pass q : {Pass::dgrad, Pass::wgrad})
        EXPECT_LE(rel_error(dev->output(q), c.ref[int(q)].values), tolerance(s, q, c.ref[int(q)]))
            << "fprop + run_backward " << to_string(q);
      if (HasFailure()) return;
    }
}

// The kernels' 64-bit index paths, which real tensors take only from 2^30 elements (4 GiB of
// floats), on small shapes: with cuda_wide_index_from() at 0 every launch takes them. Every pass
// and the step against the reference; the filter's spectra by transforms and by DFT, tiles
// forced for the tiled variants. (cuda.direct always indexes in 64 bits.)
TEST(CudaWideIndices, EveryKernelMatchesTheReference) {
  REQUIRE_CUDA_DEVICE();
  struct Restore {
    int64_t was = cuda_wide_index_from().exchange(0);
    ~Restore() { cuda_wide_index_from() = was; }
  } restore;
  auto dev = make_cuda_device();
  std::mt19937_64 rng(test_seed() + 11);
  for (const std::string name : {"cuda.im2col", "cuda.fft", "cuda.fbfft", "cuda.fft_tiled", "cuda.fbfft_tiled"})
    for (int dims = 1; dims <= (own_transforms(name) ? 2 : 3); ++dims)
      for (int draw = 0; draw < 4; ++draw) {
        const Case c = make_case(rng, random_shape(rng, dims));
        AlgoOptions opt;
        opt.filter_spectra = draw % 2 ? "dft" : "fft";
        if (name.find("tiled") != std::string::npos) opt.fft_tile = random_tile_extent(rng, c.shape);
        const auto algo = make_algorithm(name, opt);
        const std::string what = name + " " + c.shape.to_string() + " filter " + opt.filter_spectra + " tile " +
                                 std::to_string(opt.fft_tile) + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")";
        ASSERT_EQ(algo->supports(c.shape, Pass::step), "") << what;
        for (Pass p : kAllPasses) expect_matches_reference(run_on_device(*dev, *algo, c, p), c, p, what);
        if (HasFailure()) return;
      }
}

INSTANTIATE_TEST_SUITE_P(Tiles, CudaFftTiled, ::testing::Values("cuda.fft_tiled", "cuda.fbfft_tiled"),
                         [](const auto& info) { return info.param == "cuda.fft_tiled" ? "cuda_fft_tiled" : "cuda_fbfft_tiled"; });

// The stages cuda.fft (kernel by kernel) and cuda.fbfft (one fused kernel per transform) mark
// for --stages, and the device's event timer that times them on the benchmark stream.
TEST(CudaFftStages, MarkOnePipelinePerTransformAndGemm) {
  REQUIRE_CUDA_DEVICE();
  std::mt19937_64 rng(test_seed());
  const Shape s = random_shape(rng, 2);
  SCOPED_TRACE(s.to_string() + " (CONVBENCH_TEST_SEED=" + std::to_string(test_seed()) + ")");
  const Case c = make_case(rng, s);
  const auto dev = make_cuda_device();
  for (const std::string name : {"cuda.fft", "cuda.fbfft"}) {
    const bool kernels = name == "cuda.fft";
    auto expected = [&](Pass p) {  // "forward x" -> cuda.fft's place, fft and transpose kernels of x
      std::vector<std::string> out;
      for (const std::string& st : testing::fft_stages(p)) {
        const size_t sp = st.find(' ');
        const std::string what = st.substr(0, sp), tensor = st.substr(sp);
        if (!kernels || what == "gemm") out.push_back(st);
        else if (what == "forward") out.insert(out.end(), {"place" + tensor, "fft" + tensor, "transpose" + tensor});
        else out.insert(out.end(), {"transpose" + tensor, "ifft" + tensor, "crop" + tensor});
      }
      return out;
    };
    AlgoOptions transforms;  // w through the same pipeline as x and dy (its DFT: CudaFftFilterSpectra)
    transforms.filter_spectra = "fft";
    const auto algo = make_algorithm(name, transforms);
    ASSERT_EQ(algo->supports(s, Pass::step), "") << name;
    testing::StageRecorder clock;
    algo->set_stage_clock(&clock);
    for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
      clock.stages.clear();
      run_on_device(*dev, *algo, c, p);
      EXPECT_EQ(clock.stages, expected(p)) << name << " " << to_string(p);
    }
    const auto timer = dev->stage_timer();
    algo->set_stage_clock(timer.get());
    algo->run(Pass::step, dev->buffers());
    algo->set_stage_clock(nullptr);
    std::vector<std::string> timed;
    for (const auto& [stage, ms] : timer->stages()) {
      timed.push_back(stage);
      EXPECT_GE(ms, 0) << stage;
    }
    EXPECT_EQ(timed, expected(Pass::step)) << name;
  }
}

// cuda.fbfft's transforms alone: the same batched R2C (plane-major) by our kernels, by cuFFT and
// by FFTW in double precision on the host, at power-of-two and mixed-radix sizes, 1D and 2D; at
// 32 and 64 also split in two levels (cuda.fbfft_split), which refuses every other size.
TEST(OwnSmallFft, MatchesCufftAndFftwOnTheDevice) {
  REQUIRE_CUDA_DEVICE();
  auto dev = make_cuda_device();
  for (int dims : {1, 2})
    for (int n : {2, 8, 12, 16, 32, 35, 64, 72, 81, 100, 108, 128}) {
      const int64_t batch = 37;  // not a multiple of the planes per block
      const uint64_t seed = test_seed() + uint64_t(n);
      std::vector<std::string> impls{"cuda.fbfft"};
      if (n == 32 || n == 64)
        impls.push_back("cuda.fbfft_split");
      else
        EXPECT_THROW(make_r2c_transform("cuda.fbfft_split", dims, n, batch, seed, dev->stream()), std::invalid_argument)
            << n;
      for (const auto& impl : impls) {
        SCOPED_TRACE(impl + " dims " + std::to_string(dims) + " n " + std::to_string(n));
        auto own = make_r2c_transform(impl, dims, n, batch, seed, dev->stream());
        auto cufft = make_r2c_transform("cufft", dims, n, batch, seed, dev->stream());
        ASSERT_EQ(own->input(), cufft->input());
        own->run();
        cufft->run();
        const auto got = own->result(), theirs = cufft->result();
        const int nh = dims == 2 ? n : 1, bins = nh * (n / 2 + 1);
        ASSERT_EQ(got.size(), size_t(batch * bins));
        double num_own = 0, num_cufft = 0, den = 0;
        for (int64_t p = 0; p < batch; ++p) {
          std::vector<double> plane(own->input().begin() + p * nh * n, own->input().begin() + (p + 1) * nh * n);
          std::vector<std::complex<double>> want(static_cast<size_t>(bins));
          fftw_plan plan = fftw_plan_dft_r2c_2d(nh, n, plane.data(), reinterpret_cast<fftw_complex*>(want.data()),
                                                FFTW_ESTIMATE);
          fftw_execute(plan);
          fftw_destroy_plan(plan);
          for (int b = 0; b < bins; ++b) {
            const auto w = want[size_t(b)];
            num_own += std::norm(std::complex<double>(got[size_t(p * bins + b)]) - w);
            num_cufft += std::norm(std::complex<double>(theirs[size_t(p * bins + b)]) - w);
            den += std::norm(w);
          }
        }
        const double bound = 2e-6 * std::log2(double(nh * n)) + 1e-6;
        EXPECT_LT(std::sqrt(num_own / den), bound) << impl << " vs FFTW";
        EXPECT_LT(std::sqrt(num_cufft / den), bound) << "cuFFT vs FFTW";
      }
    }
}

// Band-limiting masks follow the transform sizes, so cpu and cuda FFTs must plan the same ones
// under a fixed policy, padded extents of 1 included (no device needed: planning is host code).
TEST(CudaFftSizes, MatchCpuFftUnderFixedPolicies) {
  std::mt19937_64 rng(test_seed() + 6);
  std::vector<Shape> shapes = testing::edge_shapes();
  shapes.push_back(Shape::make({2, 3, 2, 1, {1, 5, 1}, {1, 3, 1}, {0, 1, 0}, {1}, {1}}));  // padded 1 in d and w
  for (int dims = 1; dims <= 3; ++dims)
    for (int i = 0; i < 40; ++i) shapes.push_back(random_shape(rng, dims));
  for (FftSizePolicy policy : {FftSizePolicy::smooth, FftSizePolicy::pow2}) {
    AlgoOptions opt;
    opt.fft_size = policy;
    const auto cpu = make_algorithm("cpu.fft", opt);
    for (const char* name : {"cuda.fft", "cuda.fbfft"}) {
      const auto gpu = make_algorithm(name, opt);
      for (const Shape& s : shapes) {
        const Extent nf = cpu->transform_sizes(s, Pass::step);
        EXPECT_EQ(gpu->transform_sizes(s, Pass::step), nf) << name << " " << s.to_string();
        for (int d = kMaxDims - s.dims; d < kMaxDims; ++d) EXPECT_GE(nf[d], 2) << s.to_string();
      }
    }
  }
}

TEST(CudaAlgorithmList, HasEveryAlgorithmOfTheDesign) {
  std::set<std::string> names;
  for (const auto& e : algorithm_list()) names.insert(std::string(e.name));
  for (const char* n : {"cuda.direct", "cuda.im2col", "cuda.fft", "cuda.fbfft", "cuda.fft_tiled", "cuda.fbfft_tiled", "cudnn.implicit_gemm", "cudnn.implicit_precomp_gemm",
                        "cudnn.gemm", "cudnn.direct", "cudnn.fft", "cudnn.fft_tiling", "cudnn.winograd",
                        "cudnn.winograd_nonfused", "cudnn.bwd_data_algo_0", "cudnn.bwd_data_algo_1",
                        "cudnn.bwd_filter_algo_0", "cudnn.bwd_filter_algo_1", "cudnn.bwd_filter_algo_3", "cudnn.best"})
    EXPECT_TRUE(names.count(n)) << n;
  // Constructing them touches no device: the list works on a GPU-less machine.
  for (const auto& e : algorithm_list()) EXPECT_EQ(e.make({})->name(), e.name);
}

// What the bench asks instead of the names: the FFT model for every FFT algorithm, a row per
// size policy only for ours (cuDNN's FFT plans its own sizes).
TEST(CudaAlgorithmList, FftAlgorithmsAndSizePlannersAreTheOnesThatAre) {
  const std::set<std::string> fft = {"cuda.fft", "cuda.fbfft", "cuda.fft_tiled", "cuda.fbfft_tiled", "cudnn.fft", "cudnn.fft_tiling"};
  for (const auto& e : algorithm_list()) {
    const std::string n(e.name);
    if (n.rfind("cpu.", 0) == 0) continue;
    const auto a = e.make({});
    EXPECT_EQ(a->fft_method(), fft.count(n) == 1) << n;
    EXPECT_EQ(a->plans_fft_sizes(), fft.count(n) == 1 && n.rfind("cudnn.", 0) != 0) << n;
  }
}

TEST(CudaAlgorithmList, ForwardOnlyCudnnAlgorithmsDeclineBackwardPasses) {
  const Shape s = Shape::make({1, 2, 2, 1, {8, 8}, {3, 3}, {1}, {1}, {1}});
  const auto algo = make_algorithm("cudnn.implicit_gemm");
  EXPECT_NE(algo->supports(s, Pass::dgrad).find("no dgrad algorithm"), std::string::npos) << algo->supports(s, Pass::dgrad);
  EXPECT_NE(algo->supports(s, Pass::step), "");
  const auto bwd = make_algorithm("cudnn.bwd_filter_algo_1");
  EXPECT_NE(bwd->supports(s, Pass::fprop).find("no fprop algorithm"), std::string::npos);
}

// Our kernels index with int: a tensor past INT32_MAX elements is declined up front, naming the
// extent, never run with wrapped indices; no device needed.
TEST(CudaAlgorithmList, OurAlgorithmsDeclineShapesBeyondIntIndices) {
  const Shape big = Shape::make({1, 1, 1, 1, {2048, 2048, 1024}, {1, 1, 1}, {0}, {1}, {1}});  // 2^32 elements
  const Shape fits = Shape::make({1, 1, 1, 1, {1024, 1024, 1024}, {1, 1, 1}, {0}, {1}, {1}});  // 2^30
  for (const char* name : {"cuda.direct", "cuda.im2col", "cuda.fft", "cuda.fbfft"}) {
    const auto algo = make_algorithm(name);
    const std::string why = algo->supports(big, Pass::fprop);
    EXPECT_NE(why.find("input volume of " + big.to_string() + " exceeds int range"), std::string::npos)
        << name << ": " << why;
    EXPECT_EQ(algo->supports(fits, Pass::fprop).find("int range"), std::string::npos) << name;
  }
}

// The check macros name the call as written, its status, file and line; no device needed.
TEST(CudaCheck, MacrosNameTheFailingCall) {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no exception";
  };
  const std::string cuda_msg = message([] { CB_CUDA(cudaSetDevice(-1)); });
  EXPECT_NE(cuda_msg.find("cudaSetDevice(-1) failed: cuda"), std::string::npos) << cuda_msg;
  EXPECT_NE(cuda_msg.find("test_algorithms_cuda.cpp:"), std::string::npos) << cuda_msg;

  const std::string blas_msg = message([] { CB_CUBLAS(cublasSetStream(nullptr, nullptr)); });
  EXPECT_NE(blas_msg.find("cublasSetStream(nullptr, nullptr) failed: CUBLAS_STATUS_NOT_INITIALIZED"),
            std::string::npos)
      << blas_msg;

  const std::string fft_msg = message([] { CB_CUFFT(cufftExecR2C(cufftHandle(-7), nullptr, nullptr)); });
  EXPECT_NE(fft_msg.find("cufftExecR2C(cufftHandle(-7), nullptr, nullptr) failed: CUFFT_"), std::string::npos)
      << fft_msg;

  // A launch check reports the pending error under the kernel's name.
  (void)cudaSetDevice(-1);
  (void)cudaGetLastError();
  const std::string launch_msg = message([] {
    if (cudaSetDevice(-1) != cudaSuccess) CB_LAUNCH("some_kernel");
  });
  EXPECT_NE(launch_msg.find("launch of some_kernel failed"), std::string::npos) << launch_msg;
}

TEST(CudaCheck, DeviceOutOfMemoryIsABadAlloc) {
  REQUIRE_CUDA_DEVICE();
  try {
    cuda::DeviceBuffer huge(std::size_t(1) << 60);
    FAIL() << "a 1 EiB allocation succeeded";
  } catch (const std::bad_alloc& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMalloc"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convbench
