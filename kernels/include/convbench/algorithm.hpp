// The interface every convolution algorithm implements. Kernels know nothing of the harness:
// the harness builds a Shape, asks supports(), calls prepare() outside the timed region and
// then times run().
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "convbench/band_limit.hpp"
#include "convbench/shape.hpp"

namespace convbench {

enum class Device { cpu, cuda };

// Tensor pointers (host or device memory, per Algorithm::device()). Layouts:
// x N*C*in, w K*(C/groups)*kernel, y and dy N*K*out, dx like x, dw like w.
// fprop reads x,w writes y; dgrad reads dy,w writes dx; wgrad reads x,dy writes dw;
// step does all three. Outputs are overwritten, never accumulated into.
struct ConvBuffers {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* dy = nullptr;
  float* y = nullptr;
  float* dx = nullptr;
  float* dw = nullptr;
};

// Transform sizes: the cheapest 7-smooth size under the backend's cost (default), the smallest
// 7-smooth size, or the next power of two (the papers' padding).
enum class FftSizePolicy { cheapest, smooth, pow2 };

// Knobs shared by algorithms; each uses what applies to it.
struct AlgoOptions {
  FftSizePolicy fft_size = FftSizePolicy::cheapest;
  // cpu.fft's FFTW plans: "estimate", "measure" or "patient" (FFTW_ESTIMATE, _MEASURE, _PATIENT).
  std::string fft_planning = "estimate";
  // Tiled FFT algorithms: the tiles' input extent per dim (0: the planner chooses).
  int64_t fft_tile = 0;
  int threads = 0;           // 0: library default
  // Band-limiting: fraction of the stored half-spectrum's coefficients discarded (0 = exact).
  // Only algorithms whose supports_compression() is true accept a value > 0.
  double compression = 0;
  // Arithmetic of CUDA algorithms: "fp32" (strict: no TF32 in cuBLAS or cuDNN) or "tf32".
  std::string precision = "fp32";
  // cuda.fft / cuda.fbfft: the filter's spectra (w forward, dw back) by the transforms like the
  // other tensors ("fft"), or by a DFT restricted to the kernel's taps as one GEMM ("dft"), or
  // as the planner's cost model picks ("planner").
  std::string filter_spectra = "planner";
  // cuda.fbfft at lengths 32 and 64: its kernels compiled for the length ("compiled"), split in
  // two levels, 2 x 16 or 2 x 32 ("split"), or whichever prepare times faster ("planner").
  std::string small_fft_split = "planner";
  // cuda.fft / cuda.fbfft: bytes of the grid through which the tensors' planes pass in chunks
  // (cuFFT's in-place grid, the filter DFT's staging); a chunk holds at least one plane. 0: a
  // quarter of the largest family's kept spectra, at least 8 MiB.
  int64_t fft_grid_bytes = 0;
  // cpu.fft, cuda.fft, cuda.fbfft: the complex GEMMs (per-bin products, cuda's filter DFT) by the
  // BLAS's usual algorithm, four real products per complex one ("4m"), or by Gauss's three ("3m":
  // OpenBLAS's cgemm3m, cuBLAS's cublasCgemm3mStridedBatched; a quarter fewer multiplications, a
  // few more additions), or as the planner picks ("planner": both timed on each GEMM shape in
  // prepare, 3m kept where it runs in at most kGaussMargin of 4m's time).
  std::string complex_gemm = "planner";
};

// The complex-GEMM planners keep 3m only where it takes at most this fraction of 4m's time: its
// rounding is a little worse, and a near tie on a noisy machine is no reason to change.
constexpr double kGaussMargin = 0.95;

// Why the options cpu.fft and cuda.fft share (compression, complex_gemm) are refused, or "".
inline std::string fft_options_refusal(const AlgoOptions& opt) {
  if (!compression_in_range(opt.compression))
    return "compression " + std::to_string(opt.compression) + " not in " + kCompressionRange;
  if (opt.complex_gemm == "planner" || opt.complex_gemm == "4m" || opt.complex_gemm == "3m") return {};
  return "complex_gemm '" + opt.complex_gemm + "' is not planner, 4m or 3m";
}

// Thrown by prepare() or run() when a library refuses the shape only once asked to run it (a
// cuDNN algorithm whose workspace query succeeded, say): the harness makes it a skipped row.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a run's time goes: an algorithm marks the end of each stage of run() ("forward x",
// "gemm fprop", ...) and the harness's clock (wall time on the CPU, events on a CUDA stream)
// turns consecutive marks into stage times, in untimed runs (`convbench bench --stages`).
class StageClock {
 public:
  virtual ~StageClock() = default;
  virtual void mark(const char* stage) = 0;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  // One line: what the algorithm does and supports.
  virtual std::string description() const = 0;
  virtual Device device() const { return Device::cpu; }
  // Empty when the algorithm can run (shape, pass); otherwise the reason it cannot.
  virtual std::string supports(const Shape& s, Pass p) const = 0;
  // Scratch memory the algorithm allocates for (shape, pass), excluding the tensors.
  virtual std::size_t workspace_bytes(const Shape& s, Pass p) const = 0;
  // Plans and allocations, outside the timed region. Preparing for `step` covers every pass.
  virtual void prepare(const Shape& s, Pass p) = 0;
  virtual void run(Pass p, const ConvBuffers& t) = 0;
  // A training step's backward half (Mathieu et al.'s reuse): prepared for `step`, after
  // run(fprop) and with x, w unchanged, computes t.dx and/or t.dw (a null pointer skips that
  // pass) from t.x, t.w, t.dy. FFT algorithms reuse the spectra of x and w that fprop made;
  // the default runs dgrad and wgrad as separate passes.
  virtual void run_backward(const ConvBuffers& t) {
    if (t.dx) run(Pass::dgrad, t);
    if (t.dw) run(Pass::wgrad, t);
  }
  // True when run_backward() reuses fprop's work rather than recomputing it.
  virtual bool reuses_fprop() const { return false; }
  // FFT convolution: the bench's model columns count the FFT method for its rows.
  virtual bool fft_method() const { return false; }
  // Transform sizes follow AlgoOptions::fft_size (the bench runs a row per size policy) and
  // transform_sizes() reports them.
  virtual bool plans_fft_sizes() const { return false; }
  // Transform size chosen by prepare() ("64x64"), empty for non-FFT algorithms.
  virtual std::string fft_size() const { return {}; }
  // True when AlgoOptions::compression > 0 (band-limited FFT convolution) is implemented.
  virtual bool supports_compression() const { return false; }
  // CUDA algorithms enqueue their work on this stream (a cudaStream_t; nullptr: the default
  // stream). Called before prepare(), or later to move a prepared algorithm to another stream;
  // run() returns without waiting for the device.
  virtual void set_stream(void* /*stream*/) {}
  // The problem the theoretical FFT model should count for (shape, pass): the shape itself, or
  // what the algorithm actually transforms (a tiled algorithm: its batch of tiles).
  virtual Shape modelled_shape(const Shape& s, Pass /*p*/) const { return s; }
  // FFT algorithms: the transform size per dim their planner picks for (shape, pass), 1 on
  // inactive dims; all 0 for other algorithms.
  virtual Extent transform_sizes(const Shape& /*s*/, Pass /*p*/) const { return {0, 0, 0}; }
  // FFT algorithms: true when the filter's spectra come from a DFT over its taps, not from
  // transforms (cuda.fft's filter_spectra), so that the model counts that DFT's flops instead.
  virtual bool filter_spectra_by_dft(const Shape& /*s*/, Pass /*p*/) const { return false; }
  // FFT algorithms: their planner's modelled cost of (shape, pass) at those sizes, in their own
  // unit (a tile planner compares it across tile sizes); NaN for other algorithms.
  virtual double modelled_cost(const Shape& /*s*/, Pass /*p*/) const { return std::numeric_limits<double>::quiet_NaN(); }
  // Whether the algorithm reads this tuning field of AlgoOptions ("fft_planning", "fft_tile",
  // "filter_spectra", "small_fft_split", "fft_grid_bytes", "complex_gemm"), so that the bench can
  // say when an option given changes none of the algorithms it runs.
  virtual bool uses_option(std::string_view /*field*/) const { return false; }
  // What prepare() chose, for the row's `detail` column (cuDNN algorithm, math type,
  // determinism); empty when there is nothing to say.
  virtual std::string detail() const { return {}; }
  // Marks of the following runs go to `clock` (nullptr: no marks, the default). Algorithms that
  // mark their stages call mark_stage(); the rest leave a run unmarked.
  virtual void set_stage_clock(StageClock* clock) { stage_clock_ = clock; }

 protected:
  void mark_stage(const char* stage) const {
    if (stage_clock_) stage_clock_->mark(stage);
  }

 private:
  StageClock* stage_clock_ = nullptr;
};

// True when an algorithm prepared for `prepared` may run `requested`.
inline bool pass_covered(Pass prepared, Pass requested) {
  return prepared == requested || prepared == Pass::step;
}

}  // namespace convbench
