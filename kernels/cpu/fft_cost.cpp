#include "fft_cost.hpp"

#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <complex>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <tuple>
#include <vector>

#include "fft_parts.hpp"

namespace convbench {
namespace {

using cf = std::complex<float>;
using Clock = std::chrono::steady_clock;

// Complex elements a timed batch spans: about a chunk of cpu.fft's (256 KiB), in cache.
constexpr int64_t kBatchElems = 32 * 1024;
// Largest plane timed as it is (complex elements, 2 MiB): a larger one is timed with its
// largest dim divided by its smallest prime factor until it fits, scaled back by operation
// count, so that a planner's timings stay quick on large inputs.
constexpr int64_t kTimedBins = int64_t(1) << 18;
// Largest GEMM timed as it is (about a millisecond).
constexpr int64_t kGemmMacs = int64_t(1) << 22;

void fill_random(float* p, int64_t n) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) p[i] = u(rng);
}

// Best of several runs of fn, in ns, each after an untimed reset(): the first run warms caches
// and is not counted; runs continue until 4 ms were spent (at least 3), so that the best is
// rarely one of this VM's slow spells (one run of a 64x64 plane batch: ~0.3 ms).
template <class Fn, class Reset>
double best_ns(const Fn& fn, const Reset& reset) {
  reset();
  fn();
  double best = 1e300, spent = 0;
  for (int rep = 0; rep < 3 || (spent < 4e6 && rep < 1000); ++rep) {
    reset();
    const auto t0 = Clock::now();
    fn();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    best = std::min(best, ns), spent += ns;
  }
  return best;
}

class MeasuredCost final : public FftCostModel {
 public:
  explicit MeasuredCost(bool measure_plans) : flags_(measure_plans ? FFTW_MEASURE : FFTW_ESTIMATE) {}

  double transform(const Extent& nf) const override {
    std::lock_guard lock(mutex_);
    if (const auto it = transforms_.find(nf); it != transforms_.end()) return it->second;
    Extent timed = nf;
    while (timed[0] * timed[1] * (timed[2] / 2 + 1) > kTimedBins) {
      int64_t& d = *std::max_element(timed.begin(), timed.end());
      int64_t p = 2;
      while (d % p != 0) ++p;  // the smallest prime factor
      d /= p;
    }
    const double scale = counted_fft_cost().transform(nf) / counted_fft_cost().transform(timed);
    return transforms_[nf] = time_transform(timed) * scale;
  }

  double gemm(int64_t M, int64_t N, int64_t K) const override {
    std::lock_guard lock(mutex_);
    const auto key = std::make_tuple(M, N, K);
    if (const auto it = gemms_.find(key); it != gemms_.end()) return it->second;
    return gemms_[key] = time_gemm(M, N, K);
  }

 private:
  // ns per plane of a forward transform laid out as cpu.fft's stages (without their pruning):
  // in-place r2c rows along the last dim, then complex columns along each other dim (at most
  // kTimedBins per plane). Infinity when there is no memory or no plan for it.
  double time_transform(const Extent& nf) const {
    constexpr double kUntimeable = std::numeric_limits<double>::infinity();
    const int64_t half = nf[2] / 2 + 1, bins = nf[0] * nf[1] * half;
    const int64_t planes = std::max<int64_t>(1, kBatchElems / bins);
    const int64_t elems = planes * bins;
    // The same random data before every run: planning with FFTW_MEASURE overwrites the buffer,
    // and repeated unnormalised transforms would overflow.
    std::vector<float> data;
    try {
      data.resize(static_cast<size_t>(2 * elems));
    } catch (const std::bad_alloc&) {
      return kUntimeable;
    }
    fill_random(data.data(), 2 * elems);
    cf* buf = reinterpret_cast<cf*>(fftwf_alloc_complex(static_cast<size_t>(elems)));
    if (!buf) return kUntimeable;
    auto* c = reinterpret_cast<fftwf_complex*>(buf);
    auto* r = reinterpret_cast<float*>(buf);
    auto i = [](int64_t v) { return static_cast<int>(v); };
    fftwf_plan stages[kMaxDims] = {};
    int count = 0;
    {
      std::lock_guard lock(fftw_planner_mutex());
      fftwf_plan_with_nthreads(1);
      const fftwf_iodim row{i(nf[2]), 1, 1};
      const fftwf_iodim rows[2] = {{i(planes), i(2 * bins), i(bins)}, {i(nf[0] * nf[1]), i(2 * half), i(half)}};
      stages[count++] = fftwf_plan_guru_dft_r2c(1, &row, 2, rows, r, c, flags_);
      for (int d = 1; d >= 0; --d) {
        if (nf[d] == 1) continue;
        const int64_t stride = d == 1 ? half : nf[1] * half;  // the columns are the inner dims
        const fftwf_iodim column{i(nf[d]), i(stride), i(stride)};
        const fftwf_iodim columns[3] = {{i(planes), i(bins), i(bins)}, {i(bins / (stride * nf[d])), i(stride * nf[d]), i(stride * nf[d])}, {i(stride), 1, 1}};
        stages[count++] = fftwf_plan_guru_dft(1, &column, 3, columns, c, c, FFTW_FORWARD, flags_);
      }
    }
    const bool planned = std::all_of(stages, stages + count, [](fftwf_plan p) { return p != nullptr; });
    double ns = kUntimeable;
    if (planned)
      ns = best_ns([&] {
        for (int s = 0; s < count; ++s) fftwf_execute(stages[s]);
      }, [&] { std::copy(data.begin(), data.end(), r); }) / double(planes);
    {
      std::lock_guard lock(fftw_planner_mutex());
      for (int s = 0; s < count; ++s)
        if (stages[s]) fftwf_destroy_plan(stages[s]);
    }
    fftwf_free(buf);
    return ns;
  }

  // ns per call of cpu.fft's cgemm, on one thread as its per-bin loop runs it (OpenBLAS's
  // OpenMP build does not thread inside an active parallel region). A large product is timed
  // with its largest dim cut to kGemmMacs multiply-adds and scaled back: time is linear there.
  static double time_gemm(int64_t M, int64_t N, int64_t K) {
    const int64_t macs = M * N * K;
    if (macs > kGemmMacs) {
      int64_t* largest = &M;
      if (N > *largest) largest = &N;
      if (K > *largest) largest = &K;
      const int64_t full = *largest;
      *largest = std::max<int64_t>(1, full * kGemmMacs / macs);
      return time_gemm(M, N, K) * double(full) / double(*largest);
    }
    std::vector<float> a(2 * M * K), b(2 * K * N);
    std::vector<cf> c(M * N);
    fill_random(a.data(), int64_t(a.size()));
    fill_random(b.data(), int64_t(b.size()));
    const cf* A = reinterpret_cast<const cf*>(a.data());
    const cf* B = reinterpret_cast<const cf*>(b.data());
    double ns = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    ns = best_ns([&] { cgemm(false, false, M, N, K, A, K, B, N, c.data(), N); }, [] {});
    return ns;
  }

  unsigned flags_;
  mutable std::mutex mutex_;
  mutable std::map<Extent, double> transforms_;
  mutable std::map<std::tuple<int64_t, int64_t, int64_t>, double> gemms_;
};

}  // namespace

const FftCostModel& measured_fft_cost(bool measure_plans) {
  static const MeasuredCost estimate(false), measure(true);
  return measure_plans ? measure : estimate;
}

}  // namespace convbench
