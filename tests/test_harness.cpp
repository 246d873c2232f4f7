// Shape specs, sweep files, the results CSV and the model.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "convbench/band_limit.hpp"
#include "convbench/cuda_info.hpp"
#include "convbench/model.hpp"
#include "device.hpp"
#include "env_info.hpp"
#include "host_load.hpp"
#include "host_memory.hpp"
#include "openblas_core.hpp"
#include "results_csv.hpp"
#include "shape_spec.hpp"
#include "sweep.hpp"

namespace convbench {
namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// --stages: a stage an algorithm marks once per chunk of planes is one entry, its times summed,
// in the order of its first mark; a run with the CPU's stage timer lists what was marked.
TEST(StageTimes, RepeatedMarksAreSummedInFirstMarkOrder) {
  const auto summed = summed_by_name({{"place x", 1.0}, {"fft x", 2.0}, {"place x", 0.5}, {"gemm", 4.0}, {"fft x", 0.25}});
  const std::vector<std::pair<std::string, double>> expected = {{"place x", 1.5}, {"fft x", 2.25}, {"gemm", 4.0}};
  EXPECT_EQ(summed, expected);
  EXPECT_TRUE(summed_by_name({}).empty());
  const auto timer = make_cpu_device()->stage_timer();
  for (const char* st : {"a", "b", "a"}) timer->mark(st);
  const auto marks = timer->stages();
  ASSERT_EQ(marks.size(), 3u);
  const auto once = summed_by_name(marks);
  ASSERT_EQ(once.size(), 2u);
  EXPECT_EQ(once[0].first, "a");
  EXPECT_DOUBLE_EQ(once[0].second, marks[0].second + marks[2].second);
}

TEST(ShapeSpec, ParsesEveryKey) {
  const Shape s = parse_shape_spec("N=8,C=64,K=32,in=64x48,k=9x7,pad=1x2,stride=2,dilation=1x3,groups=2");
  EXPECT_EQ(s.dims, 2);
  EXPECT_EQ(s.N, 8);
  EXPECT_EQ(s.C, 64);
  EXPECT_EQ(s.K, 32);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.in, (Extent{1, 64, 48}));
  EXPECT_EQ(s.kernel, (Extent{1, 9, 7}));
  EXPECT_EQ(s.pad, (Extent{0, 1, 2}));
  EXPECT_EQ(s.stride, (Extent{1, 2, 2}));
  EXPECT_EQ(s.dilation, (Extent{1, 1, 3}));
  EXPECT_EQ(parse_shape_spec(s.to_string()), s);  // to_string round-trips
}

TEST(ShapeSpec, DefaultsAndDims) {
  const Shape s = parse_shape_spec("in=50");
  EXPECT_EQ(s.dims, 1);
  EXPECT_EQ(s.N, 1);
  EXPECT_EQ(s.kernel, (Extent{1, 1, 1}));
  EXPECT_EQ(parse_shape_spec("in=5x6x7,k=3x3x3").dims, 3);
}

TEST(ShapeSpec, ErrorsNameTheKey) {
  EXPECT_EQ(error_of([] { parse_shape_spec("N=8,C=6x4,in=8"); }), "shape key 'C': '6x4' is not an integer");
  EXPECT_EQ(error_of([] { parse_shape_spec("N=8,frob=1,in=8"); }),
            "shape: unknown key 'frob' (expected N, C, K, in, k, pad, stride, dilation, groups)");
  EXPECT_EQ(error_of([] { parse_shape_spec("N=8"); }), "shape key 'in' is required (e.g. in=64x64)");
  EXPECT_EQ(error_of([] { parse_shape_spec("in=8,in=9"); }), "shape key 'in' given twice");
  EXPECT_EQ(error_of([] { parse_shape_spec("in=8,k"); }), "shape: 'k' is not key=value");
  EXPECT_EQ(error_of([] { parse_shape_spec("in=8,k=9"); }), "kernel 9 > padded input 8 in dim W");
  EXPECT_EQ(error_of([] { parse_shape_spec("in=8x8,k=3x3,pad=1x1x1"); }),
            "pad: expected 1 or 2 values (one per dim), got 3");
  EXPECT_EQ(error_of([] { parse_shape_spec("in=8,N="); }), "shape key 'N': '' is not an integer");
}

TEST(Sweep, GridIsTheCartesianProductAndImpossiblePointsAreCounted) {
  const Sweep sw = parse_sweep(R"({
    "name": "t", "algorithms": ["cpu.*"], "passes": ["fprop", "step"], "reps": 3,
    "grids": [{"dims": [1, 2], "N": [1, 2], "C": 4, "K": {"from": 2, "to": 8, "times": 2},
               "in": [4, 8], "k": {"from": 3, "to": 7, "step": 2}}],
    "shapes": ["N=1,C=1,K=1,in=5x5x5,k=2x2x2", "N=1,C=4,K=2,in=8,k=3"]
  })", "t.json");
  // 2 dims x 2 N x 3 K x 2 in x 3 k = 72 points; k=5,7 do not fit in=4: 2*2*3*1*2 = 24 dropped.
  EXPECT_EQ(sw.dropped, 24);
  EXPECT_EQ(sw.first_drop_reason, "kernel 5 > padded input 4 in dim W");
  // 48 grid shapes + 1 new explicit shape (the second explicit one repeats a grid point).
  EXPECT_EQ(sw.shapes.size(), 49u);
  EXPECT_EQ(sw.reps, 3);
  EXPECT_EQ(sw.passes, (std::vector<std::string>{"fprop", "step"}));
  EXPECT_EQ(sw.shapes.back().dims, 3);
}

TEST(Sweep, PerDimExtentsAndDefaults) {
  const Sweep sw = parse_sweep(R"({"grids": [{"in": "16x12", "k": ["3x5", "1x1"], "pad": "1x2"}]})", "dir/my_sweep.json");
  EXPECT_EQ(sw.name, "my_sweep");
  ASSERT_EQ(sw.shapes.size(), 2u);
  EXPECT_EQ(sw.shapes[0].kernel, (Extent{1, 3, 5}));
  EXPECT_EQ(sw.shapes[0].pad, (Extent{0, 1, 2}));
  EXPECT_EQ(sw.reps, 5);
  EXPECT_EQ(sw.algorithms, (std::vector<std::string>{"*"}));
  EXPECT_EQ(sw.compression, (std::vector<double>{0.0}));
  EXPECT_EQ(sw.fft_size, (std::vector<FftSizePolicy>{FftSizePolicy::cheapest}));
}

TEST(Sweep, FftSizeIsAPolicyOrAListOfThem) {
  EXPECT_EQ(parse_sweep(R"({"fft_size": "pow2", "shapes": ["in=8,k=3"]})", "s.json").fft_size,
            (std::vector<FftSizePolicy>{FftSizePolicy::pow2}));
  EXPECT_EQ(parse_sweep(R"({"fft_size": ["smooth", "cheapest"], "shapes": ["in=8,k=3"]})", "s.json").fft_size,
            (std::vector<FftSizePolicy>{FftSizePolicy::smooth, FftSizePolicy::cheapest}));
}

TEST(Sweep, ErrorsNameFileKeyAndExpectedType) {
  auto err = [](const char* text) { return error_of([&] { parse_sweep(text, "s.json"); }); };
  EXPECT_EQ(err(R"({"reps": "5", "shapes": []})"), "s.json: key 'reps' must be an integer, got \"5\"");
  EXPECT_EQ(err(R"({"reps": 0, "shapes": []})"), "s.json: key 'reps' must be >= 1, got 0");
  EXPECT_EQ(err(R"({"rep": 5, "shapes": []})").rfind("s.json: unknown key 'rep' (expected one of:", 0), 0u);
  EXPECT_EQ(err(R"({"grids": [{"in": 8, "kk": 3}]})").rfind("s.json: unknown key 'grids[0].kk'", 0), 0u);
  EXPECT_EQ(err(R"({"grids": [{"in": [8, "x"]}]})"), "s.json: key 'grids[0].in[1]' must be an integer, got \"x\"");
  EXPECT_EQ(err(R"({"grids": [{"in": ["8x", "x"]}]})"),
            "s.json: key 'grids[0].in[0]' must be integers >= 1 joined by 'x' (e.g. \"64x32\"), got \"8x\"");
  EXPECT_EQ(err(R"({"grids": [{"in": 8, "k": [3, 2.5]}]})"), "s.json: key 'grids[0].k[1]' must be an integer, got 2.5");
  EXPECT_EQ(err(R"({"grids": [{"in": 8, "N": {"from": 1}}]})"), "s.json: key 'grids[0].N' range needs 'from' and 'to'");
  EXPECT_EQ(err(R"({"grids": [{"dims": 4, "in": 8}]})"), "s.json: key 'grids[0].dims' must be 1, 2 or 3, got 4");
  EXPECT_EQ(err(R"({"grids": [{"dims": 2, "in": "8x8x8"}]})"), "s.json: key 'grids[0].in' has 3 extents but dims is 2");
  EXPECT_EQ(err(R"({"grids": [{"k": 3}]})"), "s.json: key 'grids[0]' needs an 'in' axis");
  EXPECT_EQ(err(R"({"passes": ["fwd"], "shapes": []})"), "s.json: key 'passes[0]' must be fprop, dgrad, wgrad or step, got \"fwd\"");
  EXPECT_EQ(err(R"({"compression": [0.99], "shapes": []})"), "s.json: key 'compression[0]' must be in [0, 0.95], got 0.99");
  EXPECT_EQ(err(R"({"fft_size": "odd", "shapes": []})"), "s.json: key 'fft_size' must be \"cheapest\", \"smooth\" or \"pow2\", got \"odd\"");
  EXPECT_EQ(err(R"({"fft_size": ["pow2", "odd"], "shapes": []})"), "s.json: key 'fft_size' must be \"cheapest\", \"smooth\" or \"pow2\", got \"odd\"");
  EXPECT_EQ(err(R"({"fft_size": [], "shapes": []})"), "s.json: key 'fft_size' must be a string or a non-empty list of strings, got []");
  EXPECT_EQ(err(R"({"shapes": ["in=4,k=9"]})"), "s.json: key 'shapes[0]' is invalid: kernel 9 > padded input 4 in dim W");
  EXPECT_EQ(err(R"({"name": "x"})"), "s.json: needs 'grids' or 'shapes'");
  EXPECT_EQ(err(R"([1, 2])"), "s.json: must hold a JSON object at the top level");
  EXPECT_EQ(err(R"({"shapes": [)").rfind("s.json: not valid JSON: ", 0), 0u);
  EXPECT_EQ(error_of([] { load_sweep("/nonexistent/x.json"); }), "/nonexistent/x.json: cannot open sweep file");
}

// Found by tests/fuzz: a range's values were made before they were counted, so a huge 'to'
// ran out of memory; and a grid of impossible points could loop for hours.
TEST(Sweep, RangesAndGridsAreBoundedBeforeTheyAreMade) {
  auto err = [](const std::string& text) { return error_of([&] { parse_sweep(text, "s.json"); }); };
  EXPECT_EQ(err(R"({"grids": [{"in": {"from": 8, "to": 6466666666666, "step": 4}, "k": 7}]})"),
            "s.json: key 'grids[0].in' range has more than 100000 values");
  EXPECT_EQ(err(R"({"grids": [{"in": {"from": 8, "to": 400008, "step": 4}}]})"),
            "s.json: key 'grids[0].in' range has more than 100000 values");  // 100001 values
  const Sweep most = parse_sweep(R"({"grids": [{"in": {"from": 8, "to": 400007, "step": 4}}]})", "s.json");
  EXPECT_EQ(most.shapes.size(), 100000u);
  EXPECT_EQ(most.shapes.back().in[2], 400004);
  // Near the int64 limit (UBSan would flag an overflow): a step range stops at 'to', a
  // geometric one before passing it. Shapes too large to exist are dropped, not lost.
  const Sweep wide = parse_sweep(R"({"grids": [{"in": 1, "N": {"from": 1, "to": 9223372036854775807,
                                                  "step": 9223372036854775806}}]})", "s.json");
  EXPECT_EQ(wide.shapes.size() + wide.dropped, 2u);
  EXPECT_EQ(wide.shapes.at(0).N, 1);
  const Sweep doubling = parse_sweep(R"({"grids": [{"in": 1, "N": {"from": 3, "to": 9223372036854775807,
                                                      "times": 2}}]})", "s.json");
  EXPECT_EQ(doubling.shapes.size() + doubling.dropped, 62u);  // 3 * 2^0 ... 3 * 2^61 < 2^63 - 1 < 3 * 2^62
  EXPECT_EQ(doubling.shapes.at(1).N, 6);
  // 4 * 10^7 points, every one impossible (kernel > input): refused before the loops; and grids
  // count together.
  EXPECT_EQ(err(R"({"grids": [{"in": {"from": 1, "to": 100, "step": 1}, "k": {"from": 1000, "to": 1999, "step": 1},
                                 "C": {"from": 1, "to": 400, "step": 1}}]})"),
            "s.json: key 'grids[0]' expands the sweep to more than 1000000 grid points");
  const std::string big =  // 600000 points, all dropped: one parses, two do not
      R"({"in": 1, "k": 9, "N": {"from": 1, "to": 1000, "step": 1}, "C": {"from": 1, "to": 600, "step": 1}})";
  EXPECT_EQ(err(R"({"grids": [)" + big + "," + big + "]}"),
            "s.json: key 'grids[1]' expands the sweep to more than 1000000 grid points");
}

TEST(Sweep, ShippedSweepFilesParse) {
  const std::filesystem::path dir = std::filesystem::path(CONVBENCH_SOURCE_DIR) / "sweeps";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    const Sweep sw = load_sweep(entry.path().string());
    EXPECT_FALSE(sw.shapes.empty());
    EXPECT_FALSE(sw.source.empty()) << "every sweep says where its numbers come from";
  }
  EXPECT_GE(files, 10);
}

TEST(OpenblasCore, StrongestCoreTheFeaturesRun) {
  CpuFeatures f;
  EXPECT_EQ(openblas_core_for(f), "") << "SSE only: the generic kernels";
  f.avx2 = true;
  EXPECT_EQ(openblas_core_for(f), "") << "Haswell's kernels use FMA too";
  f.fma = true;
  EXPECT_EQ(openblas_core_for(f), "Haswell");
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  EXPECT_EQ(openblas_core_for(f), "Haswell") << "SkylakeX needs AVX-512 CD as well";
  f.avx512cd = true;
  EXPECT_EQ(openblas_core_for(f), "SkylakeX");
  f.avx512bf16 = true;
  EXPECT_EQ(openblas_core_for(f), "Cooperlake");
  f.avx512bw = false;
  EXPECT_EQ(openblas_core_for(f), "Haswell") << "BF16 without the whole AVX-512 set";
}

TEST(Glob, Matches) {
  EXPECT_TRUE(glob_match("cpu.*", "cpu.fft"));
  EXPECT_TRUE(glob_match("*", "cudnn.best"));
  EXPECT_TRUE(glob_match("c?u.f*t", "cpu.fft"));
  EXPECT_FALSE(glob_match("cpu.*", "cuda.fft"));
  EXPECT_FALSE(glob_match("cpu.fft", "cpu.fft2"));
  EXPECT_TRUE(glob_match("*fft*", "cuda.fbfft"));
}

class CsvFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("convbench_csv_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

ResultRow row_for(const std::string& algo, const std::string& spec) {
  ResultRow r;
  r.sweep = "t";
  r.shape = parse_shape_spec(spec);
  r.algo = algo;
  r.pass = "fprop";
  r.reason = "has, a comma and \"quotes\"";
  r.reps = 3;
  r.time_ms = 1.5;
  return r;
}

TEST_F(CsvFile, RowsRoundTripAndKeysComeBack) {
  {
    CsvWriter w(path_);
    w.write(row_for("cpu.fft", "N=2,C=3,K=4,in=9x9,k=3x3,pad=1x0"));
    w.write(row_for("cpu.im2col", "N=2,C=3,K=4,in=9x9,k=3x3,pad=1x0"));
  }
  std::ifstream in(path_);
  std::string header, line;
  std::getline(in, header);
  const auto cols = split_csv_line(header);
  for (const char* c : {"sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "pad", "stride",
                        "dilation", "groups", "algo", "pass", "precision", "fft_size", "compression", "status",
                        "reason", "reps", "time_ms", "time_min_ms", "time_max_ms", "time_std_ms", "direct_flops",
                        "model_flops", "effective_gflops", "model_bytes", "workspace_bytes", "peak_mem_bytes",
                        "rel_error", "sm_clock_mhz", "device"})
    EXPECT_NE(std::find(cols.begin(), cols.end(), c), cols.end()) << c;
  std::getline(in, line);
  const auto f = split_csv_line(line);
  ASSERT_EQ(f.size(), cols.size());
  auto field = [&](const char* c) { return f[std::find(cols.begin(), cols.end(), c) - cols.begin()]; };
  EXPECT_EQ(field("reason"), "has, a comma and \"quotes\"");
  EXPECT_EQ(field("pad"), "1x0");
  EXPECT_EQ(field("in_d"), "1");  // unused dims hold 1
  EXPECT_EQ(field("in_w"), "9");
  const auto keys = completed_row_keys(path_);
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_TRUE(keys.count(row_key(row_for("cpu.fft", "N=2,C=3,K=4,in=9x9,k=3x3,pad=1x0"))));
  EXPECT_FALSE(keys.count(row_key(row_for("cpu.direct", "N=2,C=3,K=4,in=9x9,k=3x3,pad=1x0"))));
}

TEST_F(CsvFile, TornLastLineIsDroppedAndAppendingContinues) {
  {
    CsvWriter w(path_);
    w.write(row_for("cpu.fft", "in=9"));
  }
  std::ofstream(path_, std::ios::app) << "t,1,1,1,1,1,1,9,1,1";  // a row killed mid-write
  EXPECT_EQ(completed_row_keys(path_).size(), 1u);
  {
    CsvWriter w(path_);
    w.write(row_for("cpu.im2col", "in=9"));
  }
  EXPECT_EQ(completed_row_keys(path_).size(), 2u);
}

TEST_F(CsvFile, RefusesToAppendToAForeignFile) {
  std::ofstream(path_) << "a,b,c\n1,2,3\n";
  EXPECT_NE(error_of([&] { CsvWriter w(path_); }).find("different header"), std::string::npos);
  EXPECT_NE(error_of([&] { completed_row_keys(path_); }).find("header differs"), std::string::npos);
}

// A VM's generic CPU name hides the host's generation; family and model numbers tell them apart
// (machine folders and the device column are named from it).
TEST(Environment, GenericCpuNamesCarryFamilyAndModel) {
  EXPECT_EQ(cpu_label("AMD EPYC", "26", "2"), "AMD EPYC (family 26 model 2)");
  EXPECT_NE(cpu_label("AMD EPYC", "25", "1"), cpu_label("AMD EPYC", "26", "2"));
  EXPECT_EQ(cpu_label("AMD EPYC 7763 64-Core Processor", "25", "1"), "AMD EPYC 7763 64-Core Processor");
  EXPECT_EQ(cpu_label("Neoverse-V2", "", ""), "Neoverse-V2");
  EXPECT_EQ(cpu_label("", "6", "85"), "unknown CPU");
}

// The roofline's ceilings from what cudaDeviceGetAttribute reports (deviceQuery's figures for
// these boards) agree with NVIDIA's published peaks (FP32 TFLOP/s, DRAM TB/s) to 1%.
TEST(Environment, GpuPeaksFromDeviceAttributesMatchPublishedFigures) {
  struct Board {
    CudaDeviceFacts facts;
    double tflops, tb_per_s;
  };
  const Board boards[] = {
      {{"V100 SXM2", 7, 0, 80, 1530000, 877000, 4096}, 15.7, 0.900},
      {{"A100 SXM4 40GB", 8, 0, 108, 1410000, 1215000, 5120}, 19.5, 1.555},
      {{"RTX 4090", 8, 9, 128, 2520000, 10501000, 384}, 82.6, 1.008},
      {{"H100 SXM5", 9, 0, 132, 1980000, 2619000, 5120}, 67.0, 3.35},
  };
  for (const Board& b : boards) {
    EXPECT_NEAR(peak_fp32_flops(b.facts) / 1e12, b.tflops, 0.01 * b.tflops) << b.facts.name;
    EXPECT_NEAR(peak_dram_bytes_per_s(b.facts) / 1e12, b.tb_per_s, 0.01 * b.tb_per_s) << b.facts.name;
  }
  // A compute capability the lane table does not know gives no compute ceiling, not a guess.
  EXPECT_EQ(fp32_lanes_per_sm(3, 5), 0);
  EXPECT_EQ(peak_fp32_flops({"future", 42, 0, 100, 2000000, 3000000, 8192}), 0);
}

// A fake /proc and /sys/fs/cgroup per test: the tightest of MemAvailable and the cgroup
// limits wins, reclaimable page cache is not counted as used, "max" and v1's huge number mean
// no limit, and a cgroup path missing under the mount (a container's view) reads the root.
class HostMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int r : {RLIMIT_AS, RLIMIT_DATA}) {
      struct rlimit lim{};
      if (getrlimit(r, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        GTEST_SKIP() << "this process has an address-space or data rlimit, which would be the tightest bound";
    }
    root_ = std::filesystem::temp_directory_path() /
            ("convbench_mem_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    write("proc/meminfo", "MemTotal:       33554432 kB\nMemAvailable:   16777216 kB\n");  // 16 GiB available
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    const auto path = root_ / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  MemoryBudget budget() const { return host_memory_available((root_ / "proc").string(), (root_ / "cg").string()); }
  static constexpr double GiB = double(1 << 30);
  std::filesystem::path root_;
};

TEST_F(HostMemory, WithoutCgroupLimitsMemAvailableBounds) {
  write("proc/self/cgroup", "0::/\n");
  write("cg/memory.max", "max\n");
  const MemoryBudget b = budget();
  EXPECT_EQ(b.bound, "MemAvailable");
  EXPECT_EQ(b.bytes, 16 * GiB);
}

TEST_F(HostMemory, CgroupV2LimitLessItsNonReclaimableUse) {
  write("proc/self/cgroup", "0::/job.slice/step\n");
  write("cg/job.slice/memory.max", std::to_string(int64_t(6 * GiB)));
  write("cg/job.slice/memory.current", std::to_string(int64_t(3 * GiB)));
  write("cg/job.slice/memory.stat", "anon 1073741824\ninactive_file 1073741824\nactive_file 5\n");
  write("cg/job.slice/step/memory.max", "max\n");
  write("cg/job.slice/step/memory.current", std::to_string(int64_t(2 * GiB)));
  MemoryBudget b = budget();
  EXPECT_EQ(b.bound, "cgroup memory.max");
  EXPECT_EQ(b.bytes, 4 * GiB);  // the parent's 6 GiB limit, 3 GiB used of which 1 GiB reclaimable
  write("cg/job.slice/step/memory.max", std::to_string(int64_t(3 * GiB)));
  EXPECT_EQ(budget().bytes, 1 * GiB);  // now the step's own limit is tighter
  write("cg/job.slice/memory.max", std::to_string(int64_t(40 * GiB)));
  write("cg/job.slice/step/memory.max", "max\n");
  EXPECT_EQ(budget().bound, "MemAvailable");
}

TEST_F(HostMemory, CgroupV1LimitAndAContainersNamespacedPath) {
  write("proc/self/cgroup", "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n");
  write("cg/memory/memory.limit_in_bytes", std::to_string(int64_t(8 * GiB)));
  write("cg/memory/memory.usage_in_bytes", std::to_string(int64_t(5 * GiB)));
  write("cg/memory/memory.stat", "cache 1\ntotal_inactive_file 2147483648\nhierarchical_memory_limit 9223372036854771712\n");
  MemoryBudget b = budget();
  EXPECT_EQ(b.bound, "cgroup memory.limit_in_bytes");
  EXPECT_EQ(b.bytes, 5 * GiB);
  write("cg/memory/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "unlimited"
  EXPECT_EQ(budget().bound, "MemAvailable");
  write("cg/memory/memory.stat", "total_inactive_file 0\nhierarchical_memory_limit 7516192768\n");
  b = budget();
  EXPECT_EQ(b.bound, "cgroup memory.limit_in_bytes");
  EXPECT_EQ(b.bytes, 2 * GiB);  // 7 GiB hierarchical limit, 5 GiB used
}

TEST_F(HostMemory, UseAboveTheLimitLeavesNothingAndMissingFilesLeaveMemAvailable) {
  write("proc/self/cgroup", "0::/\n");
  write("cg/memory.max", std::to_string(int64_t(1 * GiB)));
  write("cg/memory.current", std::to_string(int64_t(2 * GiB)));
  EXPECT_EQ(budget().bytes, 0);
  std::filesystem::remove(root_ / "cg/memory.max");
  EXPECT_EQ(budget().bound, "MemAvailable");
  std::filesystem::remove(root_ / "proc/self/cgroup");
  EXPECT_EQ(budget().bound, "MemAvailable");
}

// /proc/stat: "cpuN user nice system idle iowait irq softirq steal guest guest_nice", in ticks.
TEST(HostLoad, ProcStatSumsTheBusyAndStealTicksOfTheWatchedCpusOnly) {
  const std::string stat =
      "cpu  9000 9000 9000 9000 9000 9000 9000 9000 9000 9000\n"  // the total line: not a CPU
      "cpu0 100 20 30 5000 70 4 6 8 50 1\n"
      "cpu1 1 1 1 1 1 1 1 1 1 1\n"
      "cpu2 200 0 100 0 0 0 0 40\n"  // no guest fields (an older kernel)
      "cpu10 7 0 0\n"                 // too short: missing fields count as 0
      "intr 12345 0 1\nctxt 99\ncpufreq 1 2\n";
  const CpuTicks t = parse_proc_stat(stat, {0, 2, 10, 3}, 100.0);
  EXPECT_EQ(t.cpus, 3);  // cpu3 is not listed, cpu1 not wanted
  // user + nice + system + irq + softirq; idle, iowait and guest (inside user) are not added.
  EXPECT_DOUBLE_EQ(t.busy_s, (100 + 20 + 30 + 4 + 6 + 200 + 100 + 7) / 100.0);
  EXPECT_DOUBLE_EQ(t.steal_s, (8 + 40) / 100.0);
  EXPECT_EQ(parse_proc_stat(stat, {1}, 100.0).busy_s, 0.05);
  EXPECT_EQ(parse_proc_stat(stat, {5}, 100.0).cpus, 0);
}

TEST(HostLoad, OthersAreTheBusyTimeLessThisProcesssAndWarnAboveATenth) {
  const CpuTicks before{10.0, 1.0, 4}, after{16.0, 1.2, 4};
  HostLoad l = host_load_between(before, after, /*self_s=*/2.0, /*wall_s=*/5.0);
  EXPECT_EQ(l.cpus, 4);
  EXPECT_DOUBLE_EQ(l.others_cpu_s, 4.0);
  EXPECT_DOUBLE_EQ(l.others_share(), 4.0 / 20.0);
  EXPECT_NEAR(l.steal_cpu_s, 0.2, 1e-12);
  EXPECT_NE(host_load_warning(l).find("other processes kept 20% of its 4 CPUs busy"), std::string::npos)
      << host_load_warning(l);
  // This process's own time is not others'; tick rounding cannot make it negative.
  l = host_load_between(before, after, 6.5, 5.0);
  EXPECT_EQ(l.others_cpu_s, 0.0);
  EXPECT_EQ(host_load_warning(l), "");
  l = host_load_between(before, after, 5.8, 5.0);  // 0.2 of 20 CPU-seconds: 1%
  EXPECT_EQ(host_load_warning(l), "");
  // Stolen time alone warns too.
  l = host_load_between(before, CpuTicks{10.0, 4.0, 4}, 0.0, 5.0);
  EXPECT_NE(host_load_warning(l).find("hypervisor took 15%"), std::string::npos) << host_load_warning(l);
  // A share of a few ticks is not evidence: 0.04 CPU-seconds of a 0.1 s run on 1 CPU.
  EXPECT_EQ(host_load_warning(host_load_between(CpuTicks{0, 0, 1}, CpuTicks{0.04, 0, 1}, 0, 0.1)), "");
  EXPECT_EQ(to_json(host_load_between(before, after, 2.0, 5.0))["others_share"], 0.2);
}

TEST(HostLoad, WatchReadsProcStatAtStartAndAtLoadAndTheSidecarRecordsIt) {
  const auto root = std::filesystem::temp_directory_path() / ("convbench_load_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);
  auto write_stat = [&](int busy_ticks) {
    std::string text = "cpu  1 1 1 1\n";
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) text += fmt::format("cpu{} {} 0 0 100 0 0 0 0\n", cpu, busy_ticks);
    std::ofstream(root / "stat") << text;
  };
  write_stat(1000);
  const HostLoadWatch watch(root.string());
  const long hz = sysconf(_SC_CLK_TCK);
  write_stat(1000 + 50 * int(hz));  // 50 s of others' work on every CPU
  const auto load = watch.load();
  ASSERT_TRUE(load.has_value());
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mask), &mask), 0);
  EXPECT_EQ(load->cpus, CPU_COUNT(&mask));
  EXPECT_LE(load->others_cpu_s, 50.0 * load->cpus);
  EXPECT_GT(load->others_cpu_s, 50.0 * load->cpus - 10.0);  // less what this process ran meanwhile
  EXPECT_NE(host_load_warning(*load), "");

  // The sidecar: the entry of this run (not an older one that looks alike) gets host_load.
  const std::string sidecar = (root / "r.csv.env.json").string();
  const nlohmann::json older = {{"command", "convbench bench"}, {"date", "2026-01-01"}};
  const nlohmann::json run = {{"command", "convbench bench"}, {"date", "2026-01-02"}};
  append_env_sidecar(sidecar, older);
  append_env_sidecar(sidecar, run);
  report_host_load(watch, {sidecar}, run);
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(sidecar));
  EXPECT_FALSE(doc["runs"][0].contains("host_load"));
  EXPECT_EQ(doc["runs"][1]["host_load"]["cpus"], load->cpus);
  EXPECT_GT(doc["runs"][1]["host_load"]["others_share"].get<double>(), 0.5);
  EXPECT_THROW(amend_env_sidecar(sidecar, {{"date", "never"}}, "host_load", 1), std::runtime_error);
  // At the end of a run whose rows are written, a sidecar that cannot take it is a warning.
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(report_host_load(watch, {sidecar}, {{"date", "never"}}));
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("warning: host_load not recorded"), std::string::npos);

  std::filesystem::remove(root / "stat");  // unreadable: no load rather than a made-up one
  EXPECT_FALSE(watch.load().has_value());
  EXPECT_FALSE(HostLoadWatch(root.string()).load().has_value());
  std::filesystem::remove_all(root);
}

// Mathieu et al.'s RAM table, 4 n (n+1) (S f + S f' + f f') bytes, MB = 1e6 bytes.
TEST(Model, MathieuMemoryTableComesOutExactly) {
  struct Row {
    int S, n, f, fp, mb;
  };
  auto mb = [](const Row& r) {
    ShapeParams p;
    p.N = r.S, p.C = r.f, p.K = r.fp, p.in = {r.n, r.n}, p.kernel = {3, 3};
    return model(Shape::make(p), Pass::fprop, FftSizePolicy::smooth).mathieu_fft_mem_bytes / 1e6;
  };
  for (const Row r : {Row{128, 16, 96, 256, 76}, Row{128, 32, 96, 256, 294}, Row{64, 64, 96, 256, 784},
                      Row{128, 64, 96, 256, 1159}})
    EXPECT_EQ(std::lround(mb(r)), r.mb) << r.S << "," << r.n << "," << r.f << "," << r.fp;
  // The table's f = 256/384 rows are what the formula gives for S = 64 (S = 128, as listed in
  // DESIGN.md, gives 196/761/267/1038 MB); the paper prints 151 where the formula gives 151.5.
  for (const Row r : {Row{64, 16, 256, 384, 151}, Row{64, 32, 256, 384, 588}, Row{64, 16, 384, 384, 214},
                      Row{64, 32, 384, 384, 830}})
    EXPECT_NEAR(mb(r), r.mb, 0.53) << r.S << "," << r.n << "," << r.f << "," << r.fp;
}

TEST(Model, CountsFollowTheFormulas) {
  const Shape s = parse_shape_spec("N=128,C=96,K=256,in=32x32,k=7x7");
  const PassModel f = model(s, Pass::fprop, FftSizePolicy::pow2);
  const double np = 26.0 * 26.0, n2 = 32.0 * 32.0, k2 = 49;
  EXPECT_DOUBLE_EQ(f.mathieu_direct_macs, 128.0 * 256 * 96 * np * k2);
  EXPECT_DOUBLE_EQ(model(s, Pass::dgrad, FftSizePolicy::pow2).mathieu_direct_macs, 128.0 * 256 * 96 * n2 * k2);
  EXPECT_DOUBLE_EQ(f.direct_macs, 128.0 * 256 * 96 * np * k2);
  EXPECT_EQ(f.fft_size, "32x32");
  EXPECT_DOUBLE_EQ(f.bins, 32.0 * 17);
  // 2 C n^2 log2 n [f'S + fS + f'f] + 4 S f' f n^2 with C = 2.5, n = 32
  EXPECT_DOUBLE_EQ(f.mathieu_fft_ops, 2 * 2.5 * n2 * 5 * (256.0 * 128 + 96.0 * 128 + 256.0 * 96) + 4 * 128.0 * 256 * 96 * n2);
  EXPECT_EQ(model(s, Pass::fprop, FftSizePolicy::smooth).fft_size, "32x32");
  EXPECT_EQ(model(parse_shape_spec("in=34x34,k=3x3"), Pass::fprop, FftSizePolicy::pow2).fft_size, "64x64");
  EXPECT_EQ(model(parse_shape_spec("in=34x34,k=3x3"), Pass::fprop, FftSizePolicy::smooth).fft_size, "35x35");
}

TEST(Model, FilterDftCountsItsGemmInsteadOfTheFiltersTransforms) {
  const Shape s = parse_shape_spec("N=8,C=16,K=32,in=20x20,k=5x5,pad=2");
  for (Pass p : {Pass::fprop, Pass::wgrad, Pass::step}) {
    const PassModel m = model(s, p, FftSizePolicy::smooth), d = with_filter_dft(m, s, p);
    EXPECT_DOUBLE_EQ(m.points, 24.0 * 24);  // 20 + 2 * 2 = 24, 7-smooth
    const double per_plane = 8 * m.bins * 25 - 2.5 * m.points * std::log2(m.points);
    EXPECT_DOUBLE_EQ(d.fft_flops - m.fft_flops, (p == Pass::step ? 2 : 1) * 32.0 * 16 * per_plane) << to_string(p);
    EXPECT_DOUBLE_EQ(d.fft_bytes, m.fft_bytes);
  }
}

// Band-limited: the GEMMs and the spectra's traffic scale with the kept bins, the transforms
// do not; the filter DFT runs over the kept bins too.
TEST(Model, BandLimitedCountsTheKeptBinsInGemmsAndSpectra) {
  const Shape s = parse_shape_spec("N=8,C=16,K=32,in=20x20,k=5x5,pad=2");
  const double kept = double(band_limit_bins(Extent{1, 24, 24}, 0.5).size()), bins = 24.0 * 13;
  ASSERT_GT(kept, 0.4 * bins);
  ASSERT_LT(kept, 0.6 * bins);
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad, Pass::step}) {
    const PassModel full = model(s, p, FftSizePolicy::smooth), half = model(s, p, FftSizePolicy::smooth, 0.5);
    EXPECT_DOUBLE_EQ(full.kept_bins, bins);
    EXPECT_DOUBLE_EQ(half.kept_bins, kept);
    EXPECT_DOUBLE_EQ(half.transforms, full.transforms);
    const double transforms = full.transforms * 2.5 * full.points * std::log2(full.points);
    EXPECT_NEAR(half.fft_flops - transforms, (full.fft_flops - transforms) * kept / bins, 1e-6 * full.fft_flops)
        << to_string(p);
    EXPECT_NEAR(half.fft_bytes - half.min_bytes, (full.fft_bytes - full.min_bytes) * kept / bins,
                1e-9 * full.fft_bytes)
        << to_string(p);
    const double n_w = (p == Pass::step ? 2 : 1) * 32.0 * 16;
    EXPECT_NEAR(with_filter_dft(half, s, p).fft_flops - half.fft_flops,
                n_w * (8 * kept * 25 - 2.5 * full.points * std::log2(full.points)), 1e-9 * full.fft_flops)
        << to_string(p);
    const PassModel zero = model(s, p, FftSizePolicy::smooth, 0.0);
    EXPECT_DOUBLE_EQ(zero.fft_flops, full.fft_flops);
    EXPECT_DOUBLE_EQ(zero.fft_bytes, full.fft_bytes);
  }
}

TEST(Model, StepReusesTransformsSixInsteadOfNine) {
  const Shape s = parse_shape_spec("N=8,C=16,K=32,in=20x20,k=5x5,pad=2");
  double separate = 0;
  for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) separate += model(s, p, FftSizePolicy::smooth).transforms;
  EXPECT_DOUBLE_EQ(model(s, Pass::step, FftSizePolicy::smooth).transforms * 3, separate * 2);
  EXPECT_LT(model(s, Pass::step, FftSizePolicy::smooth).fft_flops,
            3 * model(s, Pass::fprop, FftSizePolicy::smooth).fft_flops);
}

}  // namespace
}  // namespace convbench
