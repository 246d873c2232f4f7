// Where a benchmark case's tensors live and how its runs are timed. CPU: the host vectors and
// a wall clock around run(), as always. CUDA: device tensors allocated once per shape, inputs
// uploaded once, outputs filled with NaN before each case, CUDA events on the benchmark's own
// stream, an L2 flush (memset of a buffer allocated once) before every sample, the SM clock
// read through NVML after every sample, and the device memory a case took. Allocations,
// uploads, downloads and clock readings all stay outside the timed region.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"
#include "host_memory.hpp"

namespace convbench {

// Stage times of one run (Algorithm::set_stage_clock): made just before the run, each mark then
// ends the stage begun at the previous one (or at the start); stages() waits for the run's work
// and lists (stage, ms) in order.
class StageTimer : public StageClock {
 public:
  virtual std::vector<std::pair<std::string, double>> stages() = 0;
};

// A run's stages with each name once, in the order of its first mark, its times summed: an
// algorithm that works through a tensor in chunks marks a stage once per chunk.
std::vector<std::pair<std::string, double>> summed_by_name(const std::vector<std::pair<std::string, double>>& marks);

class BenchDevice {
 public:
  virtual ~BenchDevice() = default;
  // The row's `device` column: CPU model or GPU name.
  virtual std::string name() const = 0;
  // Handed to Algorithm::set_stream (a cudaStream_t; nullptr on the CPU).
  virtual void* stream() const { return nullptr; }
  // Memory a case may still use and what bounds it, for the out-of-memory check before preparing.
  virtual MemoryBudget available_memory() const = 0;

  // Makes x, w, dy (host data of shape s) the case's inputs; a no-op when s is already loaded
  // (the harness keeps one set of data per shape).
  virtual void load(const Shape& s, const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& dy) = 0;
  // Fills y, dx, dw with NaN: an element an algorithm forgets to write fails validation.
  virtual void reset_outputs() = 0;
  virtual ConvBuffers buffers() const = 0;
  // Host copy of pass p's output (fprop y, dgrad dx, wgrad dw), once queued work is done.
  virtual const float* output(Pass p) = 0;
  // Waits for the work queued by run().
  virtual void synchronize() {}

  // Memory accounting of one case: begin() before prepare(), peak after the warm-up run
  // (tensors included; 0 when not measured).
  virtual void memory_begin() {}
  virtual double memory_peak_bytes() { return 0; }

  // One timed sample: before_sample() (untimed: L2 flush), start(), the run, stop() -> ms.
  virtual void before_sample() {}
  virtual void start() = 0;
  virtual double stop() = 0;
  // Mean SM clock over the samples since the last call (0: not available).
  virtual double sm_clock_mhz() { return 0; }
  // A timer for one run's stages, started now: the wall clock, or events on the GPU's stream.
  virtual std::unique_ptr<StageTimer> stage_timer() = 0;
};

std::unique_ptr<BenchDevice> make_cpu_device();
// Throws std::runtime_error saying why when there is no CUDA backend or no device.
std::unique_ptr<BenchDevice> make_cuda_device();

}  // namespace convbench
