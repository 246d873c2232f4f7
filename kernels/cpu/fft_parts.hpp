// Pieces cpu.fft shares with its cost model (fft_cost.cpp), which times them.
#pragma once

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"

namespace convbench {

// Where the points of a chunk of complex grids lie in cpu.fft's chunk buffers: plane-innermost
// (the m pairs of a grid point contiguous), the rows of the last dim and the slabs of the last two
// each padded to an odd number of 64-byte lines. A stage along dim 1 or 0 reads its points a row
// or a slab apart: at a multiple of 4 KiB (32 points of 16 pairs, 64 of 8) every point of a
// column falls in the same L1 set, and FFTW's transforms ran 3-19x slower.
struct GridPitch {
  GridPitch(const Extent& nf, int64_t pairs)
      : m(pairs), n1(nf[1]), n2(nf[2]), row(odd_lines(nf[2] * pairs)), slab(odd_lines(nf[1] * row)),
        elems(nf[0] * slab) {}
  int64_t m, n1, n2;
  int64_t row, slab;  // complex elements from a row, a slab, to the next
  int64_t elems;      // of the whole chunk
  int64_t at(int64_t k0, int64_t k1, int64_t k2) const { return k0 * slab + k1 * row + k2 * m; }
  // Grid point g, flattened row-major over the transform size.
  int64_t at(int64_t g) const { return at(g / n2 / n1, g / n2 % n1, g % n2); }

 private:
  // Complex elements (8 bytes) rounded up to an odd number of 64-byte lines.
  static int64_t odd_lines(int64_t n) {
    n = (n + 7) / 8 * 8;
    return n / 8 % 2 == 0 ? n + 8 : n;
  }
};

// Planes of plane_bytes each that one of cpu.fft's per-thread chunk buffers holds (and the cost
// model's timed batches): as many as 256 KiB holds, so that a chunk's spectrum is still cached
// when it is transposed into the frequency-major rows, and at least 32 where a quarter of the
// core's L2 (sysconf) holds them: each half of a chunk then writes two whole 64-byte lines to a
// row instead of one. At least 1. On a 2 MiB L2, 64x64 grids (16 -> 32 planes) ran 4-25% faster
// a pass; larger chunks for smaller grids gained nothing and, with many threads, would cost the
// band-limited layers their workspace savings (the buffers do not shrink with compression).
int64_t chunk_planes(int64_t plane_bytes);

// Fresh uniform values in [-1, 1) (seeded from std::random_device): what planners time on.
void fill_random(float* p, int64_t n);

// Threads a CPU algorithm runs with: AlgoOptions::threads, or OpenMP's default.
int thread_count(const AlgoOptions& opt);

// A planner's timing of its finalists, each as the training step of layer s on fresh random
// tensors: make(i) builds finalist i, prepared for the step here (not timed); then a warm-up
// round and two timed rounds, round-robin (a slow spell of the machine falls on all alike).
// Finalists come most promising first: when the model's one-thread ns (modelled_ns, one per
// finalist) spread over `threads`, or then the warm-up round's mean run time, says timing all
// would take over limit_ns, only the first ones that fit are timed, if two or more. Not timed,
// with the reason in `not_timed` ("timing 3 finalists would take over 10 s", "no memory to time
// its finalists", "a finalist cannot run: ..."), when fewer fit or a finalist throws.
struct FinalistTimes {
  std::vector<double> best_ns;  // the first best_ns.size() finalists' best rounds; empty when not timed
  std::string not_timed;        // why the others were not ("...: the first 2 timed"); "" when all were
};
FinalistTimes time_finalist_steps(const Shape& s, const std::vector<double>& modelled_ns, int threads,
                                  const std::function<std::unique_ptr<Algorithm>(size_t)>& make, double limit_ns);

// FFTW's planner keeps global state: every plan creation and destruction goes through here.
std::mutex& fftw_planner_mutex();

// Row-major C (M x N) = op(A) * op(B), op = identity or conjugate transpose: one per-bin
// product of cpu.fft; `gauss`: OpenBLAS's cgemm3m (three real products per complex one).
void cgemm(bool conj_a, bool conj_b, int64_t M, int64_t N, int64_t K, const std::complex<float>* A, int64_t lda,
           const std::complex<float>* B, int64_t ldb, std::complex<float>* C, int64_t ldc, bool gauss = false);

}  // namespace convbench
