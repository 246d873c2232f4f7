// Pieces cpu.fft shares with its cost model (fft_cost.cpp), which times them.
#pragma once

#include <complex>
#include <cstdint>
#include <mutex>

namespace convbench {

// Fresh uniform values in [-1, 1) (seeded from std::random_device): what planners time on.
void fill_random(float* p, int64_t n);

// FFTW's planner keeps global state: every plan creation and destruction goes through here.
std::mutex& fftw_planner_mutex();

// Row-major C (M x N) = op(A) * op(B), op = identity or conjugate transpose: one per-bin
// product of cpu.fft.
void cgemm(bool conj_a, bool conj_b, int64_t M, int64_t N, int64_t K, const std::complex<float>* A, int64_t lda,
           const std::complex<float>* B, int64_t ldb, std::complex<float>* C, int64_t ldc);

}  // namespace convbench
