#include "fft_cost.hpp"

#include <fftw3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <complex>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "fft_parts.hpp"

namespace convbench {
namespace {

using cf = std::complex<float>;
using Clock = std::chrono::steady_clock;

// Largest plane timed as it is (complex elements, 2 MiB): a larger one is timed with its
// largest dim divided by its smallest prime factor until it fits, scaled back by operation
// count, so that a planner's timings stay quick on large inputs.
constexpr int64_t kTimedBins = int64_t(1) << 18;
// Largest GEMM timed as it is (about a millisecond).
constexpr int64_t kGemmMacs = int64_t(1) << 22;

// One thing to time: run() after an untimed reset(), best of several runs, scaled.
class Bench {
 public:
  virtual ~Bench() = default;
  virtual void reset() = 0;
  virtual void run() = 0;
  // One run after its reset, in ns.
  virtual double timed_run() {
    reset();
    const auto t0 = Clock::now();
    run();
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  }
  double best = std::numeric_limits<double>::infinity();
};

// Runs every bench in turn, round after round; the first round warms caches and is not
// counted. Rounds go on until each bench ran 3 times and the rounds took 4 ms per bench (at
// most 1000), keeping each one's best: the best is rarely one of this VM's slow spells, and
// interleaved, a spell falls on every candidate alike instead of deciding between them.
// All rounds run on one thread of a two-thread parallel region, entered once: cpu.fft's per-bin
// cgemm runs in its own region, where OpenBLAS's OpenMP build does not thread, and so must the
// timed one. (A region per run cost a scheduler time slice per run on a loaded machine: a
// 0.5 s tile planning took 2-12 s.)
void time_together(const std::vector<Bench*>& benches) {
  const double budget = 4e6 * double(benches.size());
#pragma omp parallel num_threads(2)
#pragma omp single
  {
    double spent = 0;
    for (int round = 0; round < 4 || (spent < budget && round < 1000); ++round)
      for (Bench* b : benches) {
        const double ns = b->timed_run();
        if (round > 0) b->best = std::min(b->best, ns), spent += ns;
      }
  }
}

// A batch of forward transforms laid out as cpu.fft's stages (without their pruning): two real
// planes per complex grid, plane-innermost with padded rows and slabs (GridPitch); complex
// stages along the last dim, then along each other dim, each vectorised across the grids and
// out of place, between two buffers.
class TransformBench final : public Bench {
 public:
  TransformBench(const Extent& nf, unsigned flags) {
    const int64_t total = nf[0] * nf[1] * nf[2];
    grids_ = std::max<int64_t>(1, chunk_planes(total * int64_t(sizeof(float))) / 2);  // about a chunk of cpu.fft's
    const GridPitch pitch(nf, grids_);
    const int64_t m = grids_, elems = pitch.elems;
    // The same random data before every run: planning with FFTW_MEASURE overwrites the buffer,
    // and repeated unnormalised transforms would overflow.
    try {
      data_.resize(static_cast<size_t>(2 * elems));
    } catch (const std::bad_alloc&) {
      return;
    }
    fill_random(data_.data(), 2 * elems);
    buf_ = reinterpret_cast<cf*>(fftwf_alloc_complex(static_cast<size_t>(elems)));
    other_ = reinterpret_cast<cf*>(fftwf_alloc_complex(static_cast<size_t>(elems)));
    if (!buf_ || !other_) return;
    fftwf_complex* c[2] = {reinterpret_cast<fftwf_complex*>(buf_), reinterpret_cast<fftwf_complex*>(other_)};
    auto i = [](int64_t v) { return static_cast<int>(v); };
    std::lock_guard lock(fftw_planner_mutex());
    fftwf_plan_with_nthreads(1);
    // Per dim: the stride between its points and the vector loops {count, stride} over the rest.
    const int64_t strides[3] = {pitch.slab, pitch.row, m};
    const std::vector<std::array<int64_t, 2>> loops[3] = {{{nf[1], pitch.row}, {nf[2] * m, 1}},
                                                          {{nf[0], pitch.slab}, {nf[2] * m, 1}},
                                                          {{nf[0], pitch.slab}, {nf[1], pitch.row}, {m, 1}}};
    for (int d = 2; d >= 0; --d) {
      if (nf[d] == 1 && d < 2) continue;
      const fftwf_iodim along{i(nf[d]), i(strides[d]), i(strides[d])};
      std::vector<fftwf_iodim> vec;
      for (const auto& [n, stride] : loops[d])
        if (n > 1) vec.push_back({i(n), i(stride), i(stride)});
      fftwf_complex *in = c[count_ % 2], *out = c[(count_ + 1) % 2];
      stages_[count_++] =
          fftwf_plan_guru_dft(1, &along, static_cast<int>(vec.size()), vec.data(), in, out, FFTW_FORWARD, flags);
    }
  }
  ~TransformBench() override {
    {
      std::lock_guard lock(fftw_planner_mutex());
      for (int s = 0; s < count_; ++s)
        if (stages_[s]) fftwf_destroy_plan(stages_[s]);
    }
    if (buf_) fftwf_free(buf_);
    if (other_) fftwf_free(other_);
  }
  TransformBench(const TransformBench&) = delete;
  TransformBench& operator=(const TransformBench&) = delete;

  // False when there is no memory or no plan for it.
  bool ready() const {
    return buf_ && other_ && count_ > 0 &&
           std::all_of(stages_, stages_ + count_, [](fftwf_plan p) { return p != nullptr; });
  }
  void reset() override { std::copy(data_.begin(), data_.end(), reinterpret_cast<float*>(buf_)); }
  void run() override {
    for (int s = 0; s < count_; ++s) fftwf_execute(stages_[s]);
  }
  // ns per (real) plane.
  double per_plane() const { return best / double(2 * grids_); }

 private:
  int64_t grids_ = 1;
  std::vector<float> data_;
  cf* buf_ = nullptr;
  cf* other_ = nullptr;
  fftwf_plan stages_[kMaxDims] = {};
  int count_ = 0;
};

// cpu.fft's cgemm on one thread, as its per-bin loop runs it (time_together's parallel region).
class GemmBench final : public Bench {
 public:
  explicit GemmBench(const GemmShape& g) : g_(g), a_(2 * g.M * g.K), b_(2 * g.K * g.N), c_(g.M * g.N) {
    fill_random(a_.data(), int64_t(a_.size()));
    fill_random(b_.data(), int64_t(b_.size()));
  }
  void reset() override {}
  void run() override {
    cgemm(false, false, g_.M, g_.N, g_.K, reinterpret_cast<const cf*>(a_.data()), g_.K,
          reinterpret_cast<const cf*>(b_.data()), g_.N, c_.data(), g_.N);
  }
 private:
  GemmShape g_;
  std::vector<float> a_, b_;
  std::vector<cf> c_;
};

class MeasuredCost final : public FftCostModel {
 public:
  explicit MeasuredCost(bool measure_plans) : flags_(measure_plans ? FFTW_MEASURE : FFTW_ESTIMATE) {}

  void compare(const std::vector<Extent>& sizes, const std::vector<GemmShape>& gemms) const override {
    std::lock_guard lock(mutex_);
    measure(sizes, gemms);
  }

  double transform(const Extent& nf) const override {
    std::lock_guard lock(mutex_);
    measure({nf}, {});
    return transforms_.at(nf);
  }

  double gemm(int64_t M, int64_t N, int64_t K) const override {
    std::lock_guard lock(mutex_);
    measure({}, {{M, N, K}});
    return gemms_.at(std::make_tuple(M, N, K));
  }

 private:
  // Times the sizes and GEMMs not timed before, together, and keeps them for the process. A
  // plane over kTimedBins is timed with its largest dim divided by its smallest prime factor
  // until it fits, a GEMM over kGemmMacs with its largest dim cut: both scaled back by
  // operation count (time is linear in a GEMM's dims there).
  void measure(const std::vector<Extent>& sizes, const std::vector<GemmShape>& gemms) const {
    std::vector<std::unique_ptr<TransformBench>> transforms;
    std::vector<std::pair<Extent, double>> transform_keys;  // size, scale
    for (const Extent& nf : sizes) {
      if (transforms_.count(nf) || std::any_of(transform_keys.begin(), transform_keys.end(),
                                               [&](const auto& k) { return k.first == nf; }))
        continue;
      Extent timed = nf;
      while (timed[0] * timed[1] * (timed[2] / 2 + 1) > kTimedBins) {
        int64_t& d = *std::max_element(timed.begin(), timed.end());
        int64_t p = 2;
        while (d % p != 0) ++p;  // the smallest prime factor
        d /= p;
      }
      auto bench = std::make_unique<TransformBench>(timed, flags_);
      if (!bench->ready()) {
        transforms_[nf] = std::numeric_limits<double>::infinity();
        continue;
      }
      transform_keys.emplace_back(nf, counted_fft_cost().transform(nf) / counted_fft_cost().transform(timed));
      transforms.push_back(std::move(bench));
    }
    std::vector<std::unique_ptr<GemmBench>> products;
    std::vector<std::pair<std::tuple<int64_t, int64_t, int64_t>, double>> gemm_keys;  // shape, scale
    for (const GemmShape& g : gemms) {
      const auto key = std::make_tuple(g.M, g.N, g.K);
      if (gemms_.count(key) || std::any_of(gemm_keys.begin(), gemm_keys.end(),
                                           [&](const auto& k) { return k.first == key; }))
        continue;
      GemmShape cut = g;
      const int64_t macs = g.M * g.N * g.K;
      double scale = 1;
      if (macs > kGemmMacs) {
        int64_t* largest = &cut.M;
        if (cut.N > *largest) largest = &cut.N;
        if (cut.K > *largest) largest = &cut.K;
        const int64_t full = *largest;
        *largest = std::max<int64_t>(1, full * kGemmMacs / macs);
        scale = double(full) / double(*largest);
      }
      gemm_keys.emplace_back(key, scale);
      products.push_back(std::make_unique<GemmBench>(cut));
    }
    std::vector<Bench*> all;
    for (auto& b : transforms) all.push_back(b.get());
    for (auto& b : products) all.push_back(b.get());
    if (all.empty()) return;
    time_together(all);
    for (size_t i = 0; i < transforms.size(); ++i)
      transforms_[transform_keys[i].first] = transforms[i]->per_plane() * transform_keys[i].second;
    for (size_t i = 0; i < products.size(); ++i) gemms_[gemm_keys[i].first] = products[i]->best * gemm_keys[i].second;
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
