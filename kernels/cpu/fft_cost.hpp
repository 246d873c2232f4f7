// cpu.fft's cost model, measured on this machine: what its size and tile planners compare.
#pragma once

#include "convbench/fft_size.hpp"

namespace convbench {

// Nanoseconds on one thread, timed the first time a size or GEMM shape is asked for and kept for
// the process (so every later plan of the process agrees): a batch of FFTW 1D transforms laid out
// as cpu.fft's stages run them (planned with FFTW_MEASURE when measure_plans), and cpu.fft's
// per-bin cgemm. Fresh random data; never inside a timed region (planners run in supports(),
// workspace_bytes() and prepare()). A plane larger than 2 MiB is timed shrunk and scaled by
// operation count; one it cannot time (no memory) costs infinity, chosen only when nothing else
// can be.
const FftCostModel& measured_fft_cost(bool measure_plans);

}  // namespace convbench
