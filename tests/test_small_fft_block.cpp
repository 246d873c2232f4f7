// cuda.fbfft's kernels (convbench/small_fft_block.hpp) run on the host: every block, every phase
// by all threads of the block in turn (what the barriers between phases guarantee on a GPU),
// against FFTW in double precision. Covers the compile-time lengths and the run-time
// mixed-radix path, 1D and 2D, the fused placement (padding, stride, dilation), the
// frequency-major group-major layout, the band-limiting bin map and the crop/scale of the
// inverse. Shared memory starts as NaN, so a phase that reads what no earlier phase wrote shows.
#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "convbench/band_limit.hpp"
#include "convbench/small_fft_block.hpp"
#include "random_shapes.hpp"

namespace convbench {
namespace {

using small_fft::BlockGeom;
using small_fft::Cf;
using cd = std::complex<double>;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

// Runs every block of a forward (or inverse) launch; threads of a phase in ascending or, to
// expose a phase that depends on another thread's writes of the same phase, descending order.
template <class Args>
void simulate(const BlockGeom& g, const Args& args, bool reverse_threads) {
  std::vector<Cf> spec(g.shared_bytes() / sizeof(Cf), Cf{kNan, kNan});
  const int threads = small_fft::kBlockThreads;
  small_fft::with_instance(g, [&]<int MaxN>() {
    for (int64_t blk = 0; blk < g.blocks(); ++blk)
      for (int phase = 0; phase < small_fft::phase_count<MaxN>(); ++phase)
        for (int i = 0; i < threads; ++i) {
          const int tid = reverse_threads ? threads - 1 - i : i;
          small_fft::block_phase<MaxN>(phase, g, args, blk, tid, threads, spec.data());
        }
  });
}

// One transform problem: `planes` planes of an nh x nw grid (nh = 1: 1D) holding a tensor of
// ext at off + i*step, frequency-major with `groups` (planes = outer*groups*inner) or
// plane-major, band-limited at `compression`.
struct Problem {
  int nh, nw;
  int64_t planes;
  Placement pl;
  int64_t groups, inner;
  bool freq_major;
  double compression;
  bool split_small = false;  // block_geom's: 32 and 64 split in two levels

  std::string name() const {
    return std::to_string(nh) + "x" + std::to_string(nw) + " planes " + std::to_string(planes) + " tensor " +
           std::to_string(pl.ext[1]) + "x" + std::to_string(pl.ext[2]) + " off " + std::to_string(pl.off[1]) + "," +
           std::to_string(pl.off[2]) + " step " + std::to_string(pl.step[1]) + "," + std::to_string(pl.step[2]) +
           (freq_major ? " freq-major" : " plane-major") + " groups " + std::to_string(groups) + " compression " +
           std::to_string(compression) + (split_small ? " split" : "");
  }
  int bins() const { return nh * (nw / 2 + 1); }
  int64_t vol() const { return int64_t(pl.ext[1]) * pl.ext[2]; }
  PlaneOrder order() const { return {groups, planes / (groups * inner), inner}; }
};

// A tensor that fits the grid: random offset and step per used dim.
Placement random_placement(std::mt19937_64& rng, int nh, int nw) {
  Placement pl{};
  const int n[3] = {1, nh, nw};
  for (int d = 0; d < 3; ++d) {
    pl.ext[d] = 1, pl.off[d] = 0, pl.step[d] = 1;
    if (n[d] == 1) continue;
    pl.step[d] = int(testing::uniform_int(rng, 1, 2));
    pl.off[d] = int(testing::uniform_int(rng, 0, std::min(2, n[d] - 1)));
    pl.ext[d] = int(testing::uniform_int(rng, 1, (n[d] - 1 - pl.off[d]) / pl.step[d] + 1));
  }
  return pl;
}

// The grid of plane p in double: the tensor at its placement, zeros elsewhere.
std::vector<double> grid_of(const Problem& pr, const std::vector<float>& tensor, int64_t p) {
  std::vector<double> grid(size_t(pr.nh) * pr.nw, 0.0);
  for (int ih = 0; ih < pr.pl.ext[1]; ++ih)
    for (int iw = 0; iw < pr.pl.ext[2]; ++iw)
      grid[size_t(pr.pl.off[1] + ih * pr.pl.step[1]) * pr.nw + pr.pl.off[2] + iw * pr.pl.step[2]] =
          tensor[size_t(p * pr.vol() + ih * pr.pl.ext[2] + iw)];
  return grid;
}

std::vector<cd> fftw_r2c(int nh, int nw, std::vector<double> grid) {
  std::vector<cd> out(size_t(nh) * (nw / 2 + 1));
  fftw_plan plan = fftw_plan_dft_r2c_2d(nh, nw, grid.data(), reinterpret_cast<fftw_complex*>(out.data()), FFTW_ESTIMATE);
  fftw_execute(plan);
  fftw_destroy_plan(plan);
  return out;
}

std::vector<double> fftw_c2r(int nh, int nw, std::vector<cd> spec) {
  std::vector<double> out(size_t(nh) * nw);
  fftw_plan plan = fftw_plan_dft_c2r_2d(nh, nw, reinterpret_cast<fftw_complex*>(spec.data()), out.data(), FFTW_ESTIMATE);
  fftw_execute(plan);
  fftw_destroy_plan(plan);
  return out;
}

// row_of_bin of the band-limiting mask (-1: dropped), and the number of kept rows.
std::vector<int> bin_rows(const Problem& pr, int& rows) {
  std::vector<int> map(size_t(pr.bins()), -1);
  const auto kept = band_limit_bins(Extent{1, pr.nh, pr.nw}, pr.compression);
  rows = int(kept.size());
  for (size_t j = 0; j < kept.size(); ++j) map[size_t(kept[j])] = int(j);
  return map;
}

int64_t spectrum_index(const Problem& pr, const std::vector<int>& map, int64_t p, int b) {
  if (!pr.freq_major) return p * pr.bins() + b;
  return map[size_t(b)] < 0 ? -1 : int64_t(map[size_t(b)]) * pr.planes + pr.order()(p);
}

// The half-spectrum columns up to the last one with a kept bin, as cuda.fbfft passes them.
int kept_columns(const Problem& pr, const std::vector<int>& map) {
  const int nwc = pr.nw / 2 + 1;
  int cols = 0;
  for (int b = 0; b < pr.bins(); ++b)
    if (map[size_t(b)] >= 0) cols = std::max(cols, b % nwc + 1);
  return cols;
}

void check_forward(const Problem& pr, uint64_t seed) {
  SCOPED_TRACE(pr.name() + " seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto tensor = testing::random_tensor(rng, pr.planes * pr.vol());
  int rows = pr.bins();
  const std::vector<int> map = bin_rows(pr, rows);
  const BlockGeom g = small_fft::block_geom(pr.nh, pr.nw, pr.planes, pr.split_small);
  ASSERT_GT(g.max_n, 0);
  ASSERT_EQ(g.split, pr.split_small || small_fft::split_lengths(pr.nh, pr.nw));
  std::vector<Cf> out(size_t(rows) * pr.planes, Cf{kNan, kNan});
  small_fft::SpectrumAddr addr{out.data(), pr.planes, pr.bins(), pr.order(), pr.freq_major ? map.data() : nullptr,
                               pr.freq_major};
  if (!pr.freq_major) addr.order = PlaneOrder{1, pr.planes, 1};
  if (pr.freq_major) addr.kept_columns = kept_columns(pr, map);
  for (bool reverse : {false, true}) {
    std::fill(out.begin(), out.end(), Cf{kNan, kNan});
    simulate(g, small_fft::ForwardArgs{tensor.data(), pr.pl, addr}, reverse);
    double num = 0, den = 0;
    for (int64_t p = 0; p < pr.planes; ++p) {
      const auto want = fftw_r2c(pr.nh, pr.nw, grid_of(pr, tensor, p));
      for (int b = 0; b < pr.bins(); ++b) {
        const int64_t at = spectrum_index(pr, map, p, b);
        if (at < 0) continue;
        const cd got{out[size_t(at)].re, out[size_t(at)].im};
        num += std::norm(got - want[size_t(b)]), den += std::norm(want[size_t(b)]);
      }
    }
    for (const Cf& v : out) ASSERT_FALSE(std::isnan(v.re) || std::isnan(v.im)) << "an output bin was never written";
    EXPECT_LT(std::sqrt(num / den), 2e-6 * std::log2(double(pr.nh * pr.nw) + 1) + 1e-6) << "reverse " << reverse;
  }
}

void check_inverse(const Problem& pr, uint64_t seed) {
  SCOPED_TRACE(pr.name() + " seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int rows = pr.bins();
  const std::vector<int> map = bin_rows(pr, rows);
  // Spectra of random real grids (Hermitian where it must be), dropped bins absent.
  std::vector<std::vector<cd>> masked(size_t(pr.planes));
  std::vector<Cf> in(size_t(rows) * pr.planes, Cf{kNan, kNan});
  for (int64_t p = 0; p < pr.planes; ++p) {
    const auto x = testing::random_tensor(rng, int64_t(pr.nh) * pr.nw);
    auto spec = fftw_r2c(pr.nh, pr.nw, std::vector<double>(x.begin(), x.end()));
    for (int b = 0; b < pr.bins(); ++b) {
      const int64_t at = spectrum_index(pr, map, p, b);
      if (at < 0) {
        spec[size_t(b)] = 0.0;
        continue;
      }
      const Cf v{float(spec[size_t(b)].real()), float(spec[size_t(b)].imag())};
      in[size_t(at)] = v;
      spec[size_t(b)] = {v.re, v.im};
    }
    masked[size_t(p)] = std::move(spec);
  }
  const BlockGeom g = small_fft::block_geom(pr.nh, pr.nw, pr.planes, pr.split_small);
  ASSERT_GT(g.max_n, 0);
  ASSERT_EQ(g.split, pr.split_small || small_fft::split_lengths(pr.nh, pr.nw));
  small_fft::SpectrumAddr addr{in.data(), pr.planes, pr.bins(), pr.order(), pr.freq_major ? map.data() : nullptr,
                               pr.freq_major};
  if (!pr.freq_major) addr.order = PlaneOrder{1, pr.planes, 1};
  if (pr.freq_major) addr.kept_columns = kept_columns(pr, map);
  const float scale = 1.0f / float(pr.nh * pr.nw);
  std::vector<float> dst(size_t(pr.planes * pr.vol()));
  for (bool reverse : {false, true}) {
    std::fill(dst.begin(), dst.end(), kNan);
    simulate(g, small_fft::InverseArgs{addr, pr.pl, dst.data(), scale}, reverse);
    double num = 0, den = 0;
    for (int64_t p = 0; p < pr.planes; ++p) {
      const auto grid = fftw_c2r(pr.nh, pr.nw, masked[size_t(p)]);
      for (int ih = 0; ih < pr.pl.ext[1]; ++ih)
        for (int iw = 0; iw < pr.pl.ext[2]; ++iw) {
          const double want = grid[size_t(pr.pl.off[1] + ih * pr.pl.step[1]) * pr.nw + pr.pl.off[2] + iw * pr.pl.step[2]] /
                              double(pr.nh * pr.nw);
          const float got = dst[size_t(p * pr.vol() + ih * pr.pl.ext[2] + iw)];
          ASSERT_FALSE(std::isnan(got)) << "plane " << p << " (" << ih << ", " << iw << ") never written";
          num += (got - want) * (got - want), den += want * want;
        }
    }
    EXPECT_LT(std::sqrt(num / den), 2e-6 * std::log2(double(pr.nh * pr.nw) + 1) + 1e-6) << "reverse " << reverse;
  }
}

// Sizes of all three paths: compile-time lengths (1D, and 2D within one bucket: square,
// rectangular, odd), split lengths above 64 (1D, 2D square, rectangular, odd: 81) and run-time
// mixed radix (lengths not compiled in, buckets mixed, above 64 but not 3-smooth or mixed with
// a compiled length).
const std::vector<std::pair<int, int>> kSizes = {
    {1, 8},    {1, 16},   {1, 32},   {1, 64},  {8, 8},    {16, 16},   {32, 32},  {64, 64},  {1, 2},
    {1, 27},   {6, 6},    {3, 4},    {12, 9},  {18, 18},  {24, 32},   {36, 36},  {54, 48},  {1, 35},
    {1, 7},    {10, 10},  {35, 35},  {12, 20}, {7, 9},    {5, 64},    {16, 32},  {1, 72},   {1, 81},
    {1, 96},   {1, 108},  {1, 128},  {72, 72}, {81, 81},  {96, 96},   {108, 108}, {128, 128}, {72, 128},
    {81, 108}, {1, 100},  {100, 100}, {64, 128}};
// Compiled lengths that also run split on request (block_geom's split_small).
const std::vector<std::pair<int, int>> kSplitSmallSizes = {{1, 32}, {1, 64}, {32, 32}, {64, 64}, {32, 64}};

std::vector<Problem> problems(std::mt19937_64& rng) {
  std::vector<Problem> out;
  std::vector<std::tuple<int, int, bool>> sizes;
  for (auto [nh, nw] : kSizes) sizes.emplace_back(nh, nw, false);
  for (auto [nh, nw] : kSplitSmallSizes) sizes.emplace_back(nh, nw, true);
  for (auto [nh, nw, split_small] : sizes) {
    const BlockGeom g = small_fft::block_geom(nh, nw, 1 << 20, split_small);
    // A few blocks and a partial last one (with groups: planes a multiple of groups*inner = 6).
    const int64_t planes = nh * nw >= 64 * 64 ? g.per_block + 2 : 2 * g.per_block + 3;  // a quick FFTW reference
    for (int variant = 0; variant < 5; ++variant) {
      Problem pr{nh, nw, planes, random_placement(rng, nh, nw), 1, 1, variant == 1 || variant == 2, 0.0, split_small};
      if (variant == 2) pr.groups = 2, pr.inner = 3, pr.compression = 0.5, pr.planes = (planes + 5) / 6 * 6;
      // Whole rows, as in the transform benchmark or an x unpadded along w: load_grid's 16-byte path.
      if (variant == 3) pr.pl.off[2] = 0, pr.pl.step[1] = pr.pl.step[2] = 1, pr.pl.ext[2] = nw;
      // Unit steps, a tensor inside the grid (x padded, w undilated): its 4-float items.
      if (variant == 4) pr.pl.step[1] = pr.pl.step[2] = 1;
      out.push_back(pr);
    }
  }
  return out;
}

// fft_fixed<N> both ways against the DFT in double, at every compiled length and a few more.
template <int N>
void check_fixed_length(std::mt19937_64& rng) {
  Cf v[N], u[N];
  std::vector<cd> x(N);
  for (int i = 0; i < N; ++i) {
    x[size_t(i)] = {std::normal_distribution<double>()(rng), std::normal_distribution<double>()(rng)};
    u[i] = v[i] = {float(x[size_t(i)].real()), float(x[size_t(i)].imag())};
  }
  small_fft::fft_fixed<N, -1>(v);
  small_fft::fft_fixed<N, +1>(u);
  for (int k = 0; k < N; ++k) {
    cd fwd = 0, inv = 0;
    for (int i = 0; i < N; ++i) {
      const double a = 2.0 * std::numbers::pi * double(i) * double(k) / N;
      fwd += x[size_t(i)] * cd(std::cos(a), -std::sin(a));
      inv += x[size_t(i)] * cd(std::cos(a), std::sin(a));
    }
    EXPECT_LT(std::abs(cd(v[k].re, v[k].im) - fwd), 1e-5 * std::sqrt(double(N)) * 4) << "N " << N << " k " << k;
    EXPECT_LT(std::abs(cd(u[k].re, u[k].im) - inv), 1e-5 * std::sqrt(double(N)) * 4) << "N " << N << " k " << k;
  }
}

template <int... N>
void check_fixed_lengths(std::mt19937_64& rng, std::integer_sequence<int, N...>) {
  (check_fixed_length<N>(rng), ...);
}

// The placement kernels' index split (fft_grid.hpp): FastDiv agrees with / and % for every
// divisor up to 4096 and large ones, at dividends around its multiples, small ones and random
// ones up to 2^31 - 1.
TEST(FastDiv, MatchesIntegerDivisionBelowTwoToThe31) {
  std::mt19937_64 rng(testing::test_seed());
  std::vector<uint32_t> divisors;
  for (uint32_t d = 1; d <= 4096; ++d) divisors.push_back(d);
  for (uint32_t d : {65535u, 65536u, 65537u, 1000003u, (1u << 20) + 7, (1u << 30) - 1, 1u << 30, (1u << 31) - 1})
    divisors.push_back(d);
  constexpr uint32_t kMax = (1u << 31) - 1;
  for (uint32_t d : divisors) {
    const FastDiv fd(d);
    std::vector<uint32_t> n = {0, 1, 2, d - 1, d, d + 1, kMax, kMax - 1};
    for (uint32_t k : {2u, 3u, 7u, 1000u, kMax / d})
      if (uint64_t{k} * d <= kMax) n.insert(n.end(), {k * d - 1, k * d, std::min(k * d + 1, kMax)});
    for (int r = 0; r < 64; ++r) n.push_back(static_cast<uint32_t>(rng() % (uint64_t{kMax} + 1)));
    for (uint32_t v : n) {
      uint32_t rem = 0;
      const uint32_t q = fd.divmod(v, rem);
      ASSERT_EQ(q, v / d) << v << " / " << d;
      ASSERT_EQ(rem, v % d) << v << " % " << d;
    }
  }
}

TEST(SmallFftBlock, FixedLengthFftMatchesTheDft) {
  std::mt19937_64 rng(testing::test_seed());
  check_fixed_lengths(rng, small_fft::FixedLengths{});  // the lengths compiled in
  check_fixed_lengths(rng, std::integer_sequence<int, 5, 7, 10, 35, 49, 60, 63, 128>{});  // and other 7-smooth ones
}

// with_length runs each compiled length at exactly that length, every other length of its
// bucket nowhere (block_geom routes it to the run-time bucket), and the run-time bucket at any.
TEST(SmallFftBlock, WithLengthDispatchesEachCompiledLength) {
  auto dispatch = [](int n, int& capacity, bool& fixed) {
    capacity = 0, fixed = false;
    auto record = [&](auto l) { capacity = decltype(l)::capacity, fixed = decltype(l)::fixed; };
    switch (small_fft::kernel_bucket(n)) {
      case 8: return small_fft::with_length<8>(n, record);
      case 16: return small_fft::with_length<16>(n, record);
      case 32: return small_fft::with_length<32>(n, record);
      case 64: return small_fft::with_length<64>(n, record);
      default: return small_fft::with_length<128>(n, record);
    }
  };
  int compiled = 0;
  for (int n = 1; n <= small_fft::kMaxSize; ++n) {
    int capacity = 0;
    bool fixed = false;
    dispatch(n, capacity, fixed);
    if (small_fft::fixed_length(n)) {
      ++compiled;
      EXPECT_TRUE(fixed && capacity == n) << n;
      EXPECT_LE(n, small_fft::kMaxFixed);
      EXPECT_TRUE(small_fft::supported(n)) << n;
    } else if (n > small_fft::kMaxFixed) {
      EXPECT_TRUE(!fixed && capacity == small_fft::kMaxSize) << n;
    } else {
      EXPECT_EQ(capacity, 0) << n << " is not compiled in but ran";
    }
  }
  EXPECT_EQ(compiled, int(small_fft::FixedLengths::size()));
}

TEST(SmallFftBlock, CompileTimeTwiddlesAreAccurate) {
  for (int n : {3, 7, 64, 128, 1000})
    for (int k = 0; k < n; ++k) {
      double s = 0, c = 0;
      small_fft::sincos_2pi(k, n, s, c);
      EXPECT_NEAR(s, std::sin(2.0 * std::numbers::pi * k / n), 1e-14) << k << "/" << n;
      EXPECT_NEAR(c, std::cos(2.0 * std::numbers::pi * k / n), 1e-14) << k << "/" << n;
    }
}

TEST(SmallFftBlock, GeometryPicksTheInstantiationAndFitsSharedMemory) {
  for (int nh = 1; nh <= 128; ++nh)
    for (int nw : {1, 2, 8, 12, 27, 32, 35, 36, 64, 72, 81, 96, 100, 108, 128}) {
      const BlockGeom g = small_fft::block_geom(nh, nw, 1000);
      if (!small_fft::supported(nh) || !small_fft::supported(nw)) {
        EXPECT_EQ(g.max_n, 0) << nh << "x" << nw;
        continue;
      }
      EXPECT_GE(g.max_n, std::max(nh, nw)) << nh << "x" << nw;
      // Compile-time lengths: both compiled in and in the bucket (1..8, 9..16, 17..32, 33..64).
      auto in_bucket = [&](int n) { return n <= g.max_n && (g.max_n == 8 || 2 * n > g.max_n); };
      if (g.fixed())
        EXPECT_TRUE(small_fft::fixed_length(nw) && in_bucket(nw) &&
                    (nh == 1 || (small_fft::fixed_length(nh) && in_bucket(nh))))
            << nh << "x" << nw;
      else
        EXPECT_EQ(g.max_n, small_fft::kMaxSize) << nh << "x" << nw;
      EXPECT_LE(g.shared_bytes(), small_fft::kMaxSharedBytes) << nh << "x" << nw;
      EXPECT_GE(g.per_block, 1);
      if (g.per_block > 1) {  // one round per phase: no thread does a second row pair or column
        EXPECT_LE(g.per_block * std::max(g.pairs(), nh > 1 ? g.nwc : 1), small_fft::kBlockThreads) << nh << "x" << nw;
      }
      EXPECT_GE(g.rpitch(), nw) << "a real row fits in its spectrum row";
      EXPECT_EQ(g.spec_elems() % 2, 1) << "odd plane stride";
      EXPECT_EQ(g.split, !g.fixed() && small_fft::split_lengths(nh, nw)) << nh << "x" << nw;
      if (g.split && g.per_block > 1) {  // level one's tasks (R per row pair or column) in one round
        EXPECT_LE(g.per_block * std::max(g.pairs() * small_fft::split_radix(nw),
                                         nh > 1 ? g.nwc * small_fft::split_radix(nh) : 1),
                  small_fft::kBlockThreads)
            << nh << "x" << nw;
      }
      if (g.split) {  // a row pair's Z (nw complex values) fits its two rows
        EXPECT_EQ(g.grid_rows() % 2, 0) << nh << "x" << nw;
        EXPECT_GE(2 * g.spitch, nw) << nh << "x" << nw;
        EXPECT_EQ(g.shared_bytes(), 2 * sizeof(Cf) * size_t(g.per_block) * size_t(g.spec_elems())) << nh << "x" << nw;
      }
    }
}

// The split lengths are every 3-smooth length from 65 to 128, each R * M of compiled lengths
// with M at most 32 (a thread's registers, as in bucket 32); 32 and 64 have split kernels too.
TEST(SmallFftBlock, SplitLengthsAreTheThreeSmoothOnesAbove64InCompiledParts) {
  int count = 0;
  for (int n = 1; n <= small_fft::kMaxSize; ++n) {
    int m = n;
    for (int p : {2, 3})
      while (m % p == 0) m /= p;
    const bool smooth3 = m == 1;
    EXPECT_EQ(small_fft::split_length(n), smooth3 && n > small_fft::kMaxFixed) << n;
    if (!small_fft::split_capable(n)) continue;  // split_length's, and 32 and 64 (below)
    ++count;
    small_fft::with_split(n, [&](auto l) {
      using S = decltype(l);
      EXPECT_EQ(S::N, n);
      EXPECT_EQ(S::R * S::M, n);
      EXPECT_TRUE(small_fft::fixed_length(S::R) && small_fft::fixed_length(S::M)) << n;
      EXPECT_LE(S::M, small_fft::kMaxSplitPart) << n;
    });
  }
  EXPECT_EQ(count, int(small_fft::SplitLengths::size()));
  EXPECT_TRUE(small_fft::block_geom(128, 128, 10).split);
  EXPECT_TRUE(small_fft::block_geom(1, 72, 10).split);
  EXPECT_FALSE(small_fft::block_geom(100, 100, 10).split);  // 5-smooth: run-time
  EXPECT_FALSE(small_fft::block_geom(64, 128, 10).split);   // a compiled length with a split one
  EXPECT_FALSE(small_fft::block_geom(64, 64, 10).split);
  // On request, 32 and 64 too (both dims, or 1D), and nothing else below 65.
  for (int n = 1; n <= small_fft::kMaxFixed; ++n)
    EXPECT_EQ(small_fft::split_capable(n), n == 32 || n == 64) << n;
  EXPECT_TRUE(small_fft::block_geom(64, 64, 10, true).split);
  EXPECT_TRUE(small_fft::block_geom(1, 32, 10, true).split);
  EXPECT_TRUE(small_fft::block_geom(32, 64, 10, true).split);
  EXPECT_TRUE(small_fft::block_geom(64, 128, 10, true).split);
  EXPECT_FALSE(small_fft::block_geom(16, 32, 10, true).split);  // 16 has no split kernel
  EXPECT_FALSE(small_fft::block_geom(1, 48, 10, true).split);
  EXPECT_EQ(small_fft::block_geom(64, 64, 10, true).max_n, small_fft::kMaxSize);
}

TEST(SmallFftBlock, GeometryRunsCompiledLengthsOfOneBucketAtCompileTime) {
  const std::vector<std::tuple<int, int, int>> cases = {  // nh, nw, the instantiation
      {36, 36, 64}, {64, 64, 64}, {54, 48, 64}, {1, 27, 32}, {12, 9, 16}, {6, 6, 8}, {3, 8, 8}, {1, 1, 8},
      {35, 35, 128}, {16, 32, 128}, {10, 10, 128}, {1, 100, 128}, {12, 20, 128}, {128, 128, 128}};
  for (auto [nh, nw, max_n] : cases) {
    const BlockGeom g = small_fft::block_geom(nh, nw, 100);
    EXPECT_EQ(g.max_n, max_n) << nh << "x" << nw;
    EXPECT_EQ(g.fixed(), max_n <= small_fft::kMaxFixed) << nh << "x" << nw;
  }
}

// Band-limited, the column transforms run only where a kept bin is: the kernels still match
// FFTW (the checks above), the skip is real at 50%, and one column fewer changes the result.
TEST(SmallFftBlock, BandLimitedTransformsOnlyColumnsWithKeptBins) {
  std::mt19937_64 rng(testing::test_seed() + 3);
  for (auto [nh, nw] : std::vector<std::pair<int, int>>{{32, 32}, {36, 36}, {10, 10}, {96, 96}, {1, 128}}) {
    Problem pr{nh, nw, 5, random_placement(rng, nh, nw), 1, 1, true, 0.5};
    int rows = 0;
    const std::vector<int> map = bin_rows(pr, rows);
    const int cols = kept_columns(pr, map);
    EXPECT_LT(cols, nw / 2 + 1) << nh << "x" << nw << ": 50% drops whole columns";
    check_forward(pr, rng());
    check_inverse(pr, rng());
    // A tensor filling the grid: with a few elements (a single one at the origin, say) the last
    // kept column's bins can equal their values before the column transform, by chance.
    Placement whole{};
    for (int d = 0; d < 3; ++d) whole.ext[d] = d == 0 ? 1 : d == 1 ? nh : nw, whole.off[d] = 0, whole.step[d] = 1;
    const auto tensor = testing::random_tensor(rng, pr.planes * nh * nw);
    auto forward = [&](int kept_columns) {
      std::vector<Cf> out(size_t(rows) * pr.planes, Cf{0, 0});
      small_fft::SpectrumAddr addr{out.data(), pr.planes, pr.bins(), pr.order(), map.data(), true, kept_columns};
      simulate(small_fft::block_geom(nh, nw, pr.planes), small_fft::ForwardArgs{tensor.data(), whole, addr}, false);
      return out;
    };
    const auto full = forward(0), pruned = forward(cols), short_by_one = forward(cols - 1);
    EXPECT_EQ(0, std::memcmp(full.data(), pruned.data(), full.size() * sizeof(Cf))) << nh << "x" << nw;
    EXPECT_NE(0, std::memcmp(full.data(), short_by_one.data(), full.size() * sizeof(Cf))) << nh << "x" << nw;
  }
}

TEST(SmallFftBlock, ForwardKernelMatchesFftw) {
  std::mt19937_64 rng(testing::test_seed() + 1);
  for (const Problem& pr : problems(rng)) check_forward(pr, rng());
}

TEST(SmallFftBlock, InverseKernelMatchesFftw) {
  std::mt19937_64 rng(testing::test_seed() + 2);
  for (const Problem& pr : problems(rng)) check_inverse(pr, rng());
}

}  // namespace
}  // namespace convbench
