#include "fft_parts.hpp"

#include <cblas.h>
#include <fftw3.h>
#include <fmt/format.h>
#include <omp.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <new>
#include <random>

namespace convbench {

using cf = std::complex<float>;

int64_t chunk_planes(int64_t plane_bytes) {
  static const int64_t quarter_l2 = [] {
    int64_t l2 = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE)
    l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);  // 0 or -1 where the C library cannot tell
#endif
    return std::max<int64_t>(0, l2 / 4);
  }();
  constexpr int64_t kChunkBytes = 256 << 10, kLinesPlanes = 32;
  plane_bytes = std::max<int64_t>(1, plane_bytes);
  return std::max<int64_t>({1, kChunkBytes / plane_bytes, std::min(kLinesPlanes, quarter_l2 / plane_bytes)});
}

void fill_random(float* p, int64_t n) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) p[i] = u(rng);
}

int thread_count(const AlgoOptions& opt) { return opt.threads > 0 ? opt.threads : omp_get_max_threads(); }

FinalistTimes time_finalist_steps(const Shape& s, const std::vector<double>& modelled_ns, int threads,
                                  const std::function<std::unique_ptr<Algorithm>(size_t)>& make, double limit_ns) {
  using Clock = std::chrono::steady_clock;
  constexpr int kRuns = 3;  // a warm-up and two timed rounds
  const std::string over =
      fmt::format("timing {} finalists would take over {:g} s", modelled_ns.size(), limit_ns / 1e9);
  // The first finalists whose modelled rounds fit the limit; two at least (one decides nothing).
  size_t count = 0;
  double estimate = 0;
  for (double ns : modelled_ns) {
    estimate += kRuns * ns / std::max(1, threads);
    if (!(estimate <= limit_ns)) break;
    ++count;
  }
  if (count < modelled_ns.size() && count < 2) return {{}, over};
  try {
    auto random = [](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      fill_random(v.data(), n);
      return v;
    };
    const auto x = random(s.N * s.C * s.in_volume()), w = random(s.K * s.Cg() * s.kernel_volume()),
               dy = random(s.N * s.K * s.out_volume());
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    const ConvBuffers t{x.data(), w.data(), dy.data(), y.data(), dx.data(), dw.data()};
    std::vector<std::unique_ptr<Algorithm>> algos;
    std::vector<double> best(count, std::numeric_limits<double>::infinity());
    double spent = 0;
    for (int round = 0; round < kRuns; ++round)
      for (size_t i = 0; i < count; ++i) {
        if (round == 0) {
          algos.push_back(make(i));
          algos.back()->prepare(s, Pass::step);
        }
        const auto t0 = Clock::now();
        algos[i]->run(Pass::step, t);
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
        spent += ns;
        if (round > 0) best[i] = std::min(best[i], ns);
        // The warm-up says what the model could not (a first run's page faults among it): as
        // many finalists as its mean run time lets fit, if two or more.
        const double fit = limit_ns / (spent / double(i + 1) * kRuns);
        if (round == 0 && fit < double(count)) {
          if (fit < 2) return {{}, over};
          count = static_cast<size_t>(fit);
          algos.resize(std::min(algos.size(), count)), best.resize(count);
        }
      }
    return {best, count < modelled_ns.size() ? fmt::format("{}: the first {} timed", over, count) : ""};
  } catch (const std::bad_alloc&) {
    return {{}, "no memory to time its finalists"};
  } catch (const std::exception& e) {
    return {{}, std::string("a finalist cannot run: ") + e.what()};
  }
}

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  static const int threads_ready = fftwf_init_threads();  // once, before any plan
  (void)threads_ready;
  return m;
}

// Per-bin products are often tiny (single channel, depthwise groups) and a BLAS call would cost more than the
// arithmetic, so those run inline; real/imag parts are spelled out to avoid __mulsc3.
void cgemm(bool conj_a, bool conj_b, int64_t M, int64_t N, int64_t K, const cf* A, int64_t lda, const cf* B,
           int64_t ldb, cf* C, int64_t ldc, bool gauss) {
  if (M * N * K > 64) {
    const cf one{1.0f, 0.0f}, zero{0.0f, 0.0f};
    (gauss ? cblas_cgemm3m : cblas_cgemm)(CblasRowMajor, conj_a ? CblasConjTrans : CblasNoTrans,
                                          conj_b ? CblasConjTrans : CblasNoTrans, blasint(M), blasint(N), blasint(K),
                                          &one, A, blasint(lda), B, blasint(ldb), &zero, C, blasint(ldc));
    return;
  }
  const float sa = conj_a ? -1.0f : 1.0f, sb = conj_b ? -1.0f : 1.0f;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float re = 0, im = 0;
      for (int64_t l = 0; l < K; ++l) {
        const cf a = conj_a ? A[l * lda + i] : A[i * lda + l];
        const cf b = conj_b ? B[j * ldb + l] : B[l * ldb + j];
        const float ar = a.real(), ai = sa * a.imag(), br = b.real(), bi = sb * b.imag();
        re += ar * br - ai * bi;
        im += ar * bi + ai * br;
      }
      C[i * ldc + j] = {re, im};
    }
}

}  // namespace convbench
