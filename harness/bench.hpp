// `convbench bench`: sweep -> shapes -> algorithms -> timer -> CSV rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convbench {

struct BenchOptions {
  std::vector<std::string> sweeps;       // sweep files
  std::vector<std::string> shapes;       // --shape specs (a sweep named "cli")
  std::vector<std::string> algos;        // overrides the sweeps' lists when non-empty
  std::vector<std::string> passes;       // idem
  std::vector<std::string> precisions;   // idem
  std::vector<double> compression;       // idem
  std::vector<std::string> fft_size;     // of "cheapest", "smooth", "pow2"; empty: the sweep's
  int reps = 0;                          // 0: the sweep's own
  int rounds = 1;                        // times through the case list, round-robin; one row per case
  std::string fft_planning = "estimate";  // cpu.fft's FFTW plans: "estimate", "measure" or "patient"
  int64_t fft_tile = 0;                  // tiled FFT algorithms: tile input extent (0: planner)
  std::string filter_spectra = "planner";  // cuda.fft/fbfft: the filter's spectra by "dft", "fft" or the planner
  int64_t fft_grid_mib = 0;              // cuda.fft/fbfft: grid chunks' MiB (0: the algorithm's rule)
  std::string complex_gemm = "planner";    // FFT algorithms: complex GEMMs by 4 real products, Gauss's 3, or timed
  std::string small_fft_split = "planner";  // cuda.fbfft at 32 and 64: "compiled", "split" or timed
  bool stages = false;                   // three more, untimed runs per FFT row: stage times into `detail`
  std::string out;                       // results CSV ("" -> results/<machine>/<sweep>.csv)
  bool resume = false;
  int shard_index = 0, shard_count = 1;  // run every shard_count-th case starting at shard_index
  bool progress = false;                 // force the progress line (default: when stderr is a tty)
  bool dry_run = false;                  // list the cases, run nothing
  std::vector<std::string> benchmark_args;  // passed to Google Benchmark (--benchmark_filter=...)
  std::string command_line;              // for the env sidecar
};

// Returns the process exit code: 0 all rows ok or skipped, 3 when some row failed.
int run_bench(const BenchOptions& opt);

// Folder name for this machine's results: the GPU's name when one is present, else the CPU's.
std::string machine_name();

}  // namespace convbench
