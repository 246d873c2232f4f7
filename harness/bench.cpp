#include "bench.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <random>
#include <set>

#include "algorithms.hpp"
#include "convbench/band_limit.hpp"
#include "convbench/cuda_info.hpp"
#include "convbench/fft_size.hpp"
#include "convbench/model.hpp"
#include "convbench/reference.hpp"
#include "device.hpp"
#include "env_info.hpp"
#include "host_load.hpp"
#include "results_csv.hpp"
#include "shape_spec.hpp"
#include "sweep.hpp"

namespace convbench {
namespace {

// Above this many reference multiply-adds a pass is validated on sampled output elements.
constexpr double kFullValidationMacs = 5e7;
constexpr int64_t kValidationSamples = 2048;

struct BenchCase {
  std::string sweep;
  Shape shape;
  std::string algo;
  Pass pass;
  std::string precision;
  double compression;
  FftSizePolicy policy;
  int reps;
};

std::string slug(std::string s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string gib(double bytes) { return fmt::format("{:.2f} GiB", bytes / double(1 << 30)); }

// Inputs and float64 references of the shape being measured; cases are ordered shape-major so
// each shape's data and references are made once and shared by all its algorithms and passes.
class ShapeData {
 public:
  void use(const Shape& s) {
    if (current_ && *current_ == s) return;
    current_ = s;
    refs_.clear();
    std::mt19937_64 rng(std::hash<std::string>{}(s.to_string()));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    auto fill = [&](std::vector<float>& v, int64_t n) {
      v.resize(n);
      for (auto& e : v) e = u(rng);
    };
    fill(x, s.x_elems());
    fill(w, s.w_elems());
    fill(dy, s.y_elems());
  }

  struct Check {
    std::vector<int64_t> indices;  // empty: every element
    Reference ref;
  };
  const Check& check(Pass p) {
    auto it = refs_.find(p);
    if (it != refs_.end()) return it->second;
    const Shape& s = *current_;
    Check c;
    const int64_t n = output_elems(s, p);
    if (double(n) * double(reduction_length(s, p)) > kFullValidationMacs && n > kValidationSamples) {
      std::mt19937_64 rng(n);
      std::uniform_int_distribution<int64_t> pick(0, n - 1);
      std::set<int64_t> chosen;
      while (int64_t(chosen.size()) < kValidationSamples) chosen.insert(pick(rng));
      c.indices.assign(chosen.begin(), chosen.end());
    }
    c.ref = reference(s, p, c.indices, x.data(), w.data(), dy.data());
    return refs_.emplace(p, std::move(c)).first->second;
  }

  std::vector<float> x, w, dy;

 private:
  std::optional<Shape> current_;
  std::map<Pass, Check> refs_;
};

// One line on stderr: redrawn in place on a terminal; on a pipe or log (--progress), a plain
// line at most every 10 seconds so logs stay short.
class Progress {
 public:
  Progress(bool enabled, size_t total)
      : enabled_(enabled), tty_(isatty(STDERR_FILENO)), total_(total), start_(clock::now()), last_(start_) {}
  void update(size_t done, const std::string& label) {
    if (!enabled_) return;
    const auto now = clock::now();
    if (!tty_ && done > 0 && now - last_ < std::chrono::seconds(10)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const std::string eta = done > 0 ? fmt::format("{:.0f}s", elapsed / double(done) * double(total_ - done)) : "?";
    std::string line = fmt::format("[{}/{}] {} | elapsed {:.0f}s, ETA {}", done, total_, label, elapsed, eta);
    if (line.size() > 150) line = line.substr(0, 147) + "...";
    if (tty_) fmt::print(stderr, "\r\033[K{}", line);
    else fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  }
  // Clears the terminal line before Google Benchmark prints its own.
  void finish() {
    if (enabled_ && tty_) fmt::print(stderr, "\r\033[K");
  }

 private:
  using clock = std::chrono::steady_clock;
  bool enabled_, tty_;
  size_t total_;
  clock::time_point start_, last_;
};

struct Stats {
  double median = 0, min = 0, max = 0, std = 0;
};
Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front(), s.max = v.back();
  double mean = 0;
  for (double x : v) mean += x / double(n);
  for (double x : v) s.std += (x - mean) * (x - mean) / double(n);
  s.std = std::sqrt(s.std);
  return s;
}

class Runner {
 public:
  // base: the options every case shares (FFTW planning, tile size); the case sets the rest.
  Runner(CsvWriter& csv, Progress& progress, const AlgoOptions& base, bool stages)
      : csv_(csv), progress_(progress), base_(base), stages_(stages) {}

  // Round `round` of `rounds` of case c. The row is written after the last round, from the
  // samples of every round; a case skipped or failed in a round is not measured again.
  void run(benchmark::State& state, const BenchCase& c, int round, int rounds) {
    if (!ran_.insert({&c, round}).second) {  // Google Benchmark repetitions: time again, measure once
      for (auto _ : state) state.SetIterationTime(0);
      return;
    }
    progress_.update(done_, fmt::format("{} {} {} {}{}", c.sweep, c.shape.to_string(), c.algo, to_string(c.pass),
                                        rounds > 1 ? fmt::format(" (round {}/{})", round + 1, rounds) : ""));
    Partial& part = partial_[&c];
    if (part.rounds > 0 && part.row.status != "ok") {
      state.SkipWithError(part.row.reason.c_str());
    } else {
      std::vector<double> samples;
      // Stage times in the first round only: the row keeps that round's detail.
      ResultRow row = measure(state, c, samples, stages_ && part.rounds == 0);
      merge(part, std::move(row), samples);
    }
    ++done_;
    if (round == rounds - 1) write(&c);
    progress_.finish();  // Google Benchmark prints its line next
  }

  // Writes the rows of cases whose last round never ran (a --benchmark_filter), from the
  // rounds they had: no measurement is lost.
  void flush() {
    for (auto& [c, part] : partial_)
      if (!part.written) write(c);
  }

  const std::map<std::string, int>& counts() const { return counts_; }

 private:
  // What the rounds of a case gathered so far.
  struct Partial {
    ResultRow row;
    std::vector<double> samples;
    int rounds = 0;
    double clock_sum = 0;
    int clocks = 0;
    bool written = false;
  };

  // A round's row into the case's: the samples of ok rounds join; the worst error and the
  // largest peak memory stand; a round that was not ok becomes the row.
  static void merge(Partial& part, ResultRow row, const std::vector<double>& samples) {
    const bool first = part.rounds++ == 0;
    if (first || row.status != "ok") {
      const double peak = part.row.peak_mem_bytes;
      part.row = std::move(row);
      part.row.peak_mem_bytes = std::max(part.row.peak_mem_bytes, peak);
      part.samples.clear();
    } else {
      if (row.rel_error / row.tolerance > part.row.rel_error / part.row.tolerance)
        part.row.rel_error = row.rel_error, part.row.tolerance = row.tolerance;
      part.row.peak_mem_bytes = std::max(part.row.peak_mem_bytes, row.peak_mem_bytes);
    }
    if (part.row.status != "ok") return;
    part.samples.insert(part.samples.end(), samples.begin(), samples.end());
    if (row.sm_clock_mhz > 0) part.clock_sum += row.sm_clock_mhz, ++part.clocks;
  }

  void write(const BenchCase* c) {
    Partial& part = partial_[c];
    if (part.written || part.rounds == 0) return;
    ResultRow& row = part.row;
    if (row.status == "ok") {
      const Stats st = stats_of(part.samples);
      row.reps = static_cast<int>(part.samples.size());
      row.time_ms = st.median, row.time_min_ms = st.min, row.time_max_ms = st.max, row.time_std_ms = st.std;
      if (part.clocks > 0) row.sm_clock_mhz = part.clock_sum / part.clocks;
    }
    csv_.write(row);
    ++counts_[row.status];
    part.written = true;
  }

  ResultRow measure(benchmark::State& state, const BenchCase& c, std::vector<double>& samples, bool time_stages) {
    const Shape& s = c.shape;
    ResultRow row;
    row.sweep = c.sweep, row.shape = s, row.algo = c.algo, row.pass = std::string(to_string(c.pass));
    row.precision = c.precision, row.compression = c.compression;
    row.fft_policy = std::string(to_string(c.policy));
    row.threads = omp_get_max_threads();
    AlgoOptions opt = base_;
    opt.fft_size = c.policy;
    opt.compression = c.compression;
    opt.precision = c.precision;
    std::unique_ptr<Algorithm> algo = make_algorithm(c.algo, opt);
    const PassModel m = model(s, c.pass, c.policy, c.compression);
    const bool fft = algo->fft_method();
    row.direct_flops = 2 * m.direct_macs;
    row.model_flops = fft ? m.fft_flops : 2 * m.direct_macs;
    row.model_bytes = fft ? m.fft_bytes : m.min_bytes;

    auto skip = [&](const std::string& reason) {
      row.status = "skipped", row.reason = reason;
      state.SkipWithError(reason.c_str());
      return row;
    };
    auto fail = [&](const std::string& reason) {
      row.status = "failed", row.reason = reason;
      state.SkipWithError(reason.c_str());
      return row;
    };

    BenchDevice* dev = nullptr;
    try {
      dev = &device(algo->device());
    } catch (const std::exception& e) {
      return skip(e.what());  // a CUDA algorithm without a usable device
    }
    row.device = dev->name();
    if (c.compression > 0 && !algo->supports_compression())
      return skip("compression > 0 (band-limited) applies to the whole-input FFT algorithms only, not " + c.algo);
    if (c.precision != "fp32" && algo->device() == Device::cpu)
      return skip(c.precision + " applies to CUDA algorithms only");

    // From here on whatever throws (a library that cannot start, a sticky CUDA error) ends this
    // row with its reason, and the sweep goes on.
    try {
      dev->memory_begin();  // before supports(): handles and plans may be made there
      if (std::string why = algo->supports(s, c.pass); !why.empty()) return skip(why);
      if (fft) {  // the FFT model counts what the algorithm runs: its transform sizes, its batch of tiles
        const Shape run = algo->modelled_shape(s, c.pass);
        const Extent nf = algo->transform_sizes(s, c.pass);
        PassModel executed = nf[kMaxDims - 1] > 0 ? model(run, c.pass, nf, c.compression)
                                                  : model(run, c.pass, c.policy, c.compression);
        if (algo->filter_spectra_by_dft(s, c.pass)) executed = with_filter_dft(executed, run, c.pass);
        row.model_flops = executed.fft_flops, row.model_bytes = executed.fft_bytes;
      }
      const double tensors = 4.0 * 2 * double(s.x_elems() + s.w_elems() + s.y_elems());
      const double workspace = double(algo->workspace_bytes(s, c.pass));
      row.workspace_bytes = workspace;
      if (const MemoryBudget free = dev->available_memory(); tensors + workspace > 0.9 * free.bytes)
        return skip(fmt::format("out of memory: needs {} (tensors {} + workspace {}), {} available ({})",
                                gib(tensors + workspace), gib(tensors), gib(workspace), gib(free.bytes), free.bound));

      // Outside the timed region: data, upload, NaN outputs, plans, handles, cudnnFind.
      data_.use(s);
      dev->load(s, data_.x, data_.w, data_.dy);
      dev->reset_outputs();
      algo->set_stream(dev->stream());
      algo->prepare(s, c.pass);
      row.fft_size = algo->fft_size();
      const ConvBuffers t = dev->buffers();
      algo->run(c.pass, t);  // warm-up, and the output we validate
      dev->synchronize();
      row.peak_mem_bytes = dev->memory_peak_bytes();
      row.workspace_bytes = double(algo->workspace_bytes(s, c.pass));  // cudnn.best knows it after prepare
      row.detail = algo->detail();

      double worst = -1;
      for (Pass p : {Pass::fprop, Pass::dgrad, Pass::wgrad}) {
        if (!pass_covered(c.pass, p)) continue;
        const auto& check = data_.check(p);
        const float* out = dev->output(p);
        const double err = rel_error(out, check.indices, check.ref.values);
        const double tol = tolerance(s, p, check.ref, c.precision);
        row.validation = check.indices.empty() ? "full" : fmt::format("sampled:{}", check.indices.size());
        const double ratio = std::isnan(err) ? std::numeric_limits<double>::infinity() : err / tol;
        if (ratio > worst) worst = ratio, row.rel_error = std::isnan(err) ? 1e30 : err, row.tolerance = tol;
        // Band-limited rows measure the error compression costs: reported, never a failure.
        if (c.compression == 0 && !(err <= tol) && row.status == "ok")
          row.status = "failed", row.reason = fmt::format("{} rel_error {:.3e} > tolerance {:.3e}", to_string(p), err, tol);
      }

      for (auto _ : state) {
        dev->before_sample();  // L2 flush on a GPU, untimed
        dev->start();
        algo->run(c.pass, t);
        const double ms = dev->stop();
        state.SetIterationTime(ms / 1e3);
        samples.push_back(ms);
      }
      row.sm_clock_mhz = dev->sm_clock_mhz();
      if (time_stages && fft) {  // the FFT algorithms mark their stages; the others would run for nothing
        const std::string stages = stage_times(*algo, *dev, c.pass, t);
        if (!stages.empty()) row.detail += (row.detail.empty() ? "" : "; ") + stages;
      }
      const Stats st = stats_of(samples);
      row.reps = static_cast<int>(samples.size());
      row.time_ms = st.median, row.time_min_ms = st.min, row.time_max_ms = st.max, row.time_std_ms = st.std;
      state.counters["rel_error"] = row.rel_error;
      state.counters["GFLOP/s"] = st.median > 0 ? row.direct_flops / st.median / 1e6 : 0;
      if (row.status == "failed") state.SkipWithError(row.reason.c_str());
      return row;
    } catch (const Unsupported& e) {
      return skip(e.what());  // refused by a library only once asked to prepare or run
    } catch (const std::bad_alloc& e) {
      const std::string what = e.what();
      return skip("out of memory while preparing or running" + (what == std::bad_alloc().what() ? "" : ": " + what));
    } catch (const std::exception& e) {
      return fail(std::string("error: ") + e.what());
    }
  }

  // kRuns more runs, untimed, with the device's stage timer as the algorithm's clock; each
  // stage's median: "stages ms: forward x 1.2, gemm fprop 3.4, ..." (empty for an algorithm
  // that marks no stages). One run alone catches a slow spell of a shared machine too often.
  // A stage marked more than once in a run is one entry (summed_by_name).
  static std::string stage_times(Algorithm& algo, BenchDevice& dev, Pass p, const ConvBuffers& t) {
    constexpr int kRuns = 3;
    struct Unhook {
      Algorithm& a;
      ~Unhook() { a.set_stage_clock(nullptr); }
    } unhook{algo};
    std::vector<std::pair<std::string, double>> first;
    std::vector<std::vector<double>> ms;  // per stage, one time per run
    for (int r = 0; r < kRuns; ++r) {
      dev.before_sample();  // from a flushed L2, as the timed samples
      std::unique_ptr<StageTimer> timer = dev.stage_timer();
      algo.set_stage_clock(timer.get());
      algo.run(p, t);
      const auto stages = summed_by_name(timer->stages());
      if (stages.empty()) return {};  // an algorithm that marks nothing (cudnn.fft) runs once
      if (r == 0) first = stages, ms.resize(stages.size());
      if (stages.size() != first.size()) throw std::logic_error(algo.name() + ": stages differ between runs");
      for (size_t i = 0; i < stages.size(); ++i) ms[i].push_back(stages[i].second);
    }
    std::string out;
    for (size_t i = 0; i < first.size(); ++i)
      out += fmt::format("{}{} {:.4g}", out.empty() ? "stages ms: " : ", ", first[i].first, stats_of(ms[i]).median);
    return out;
  }

  // The case's device, made on first use: host memory and wall clock, or a CUDA stream.
  BenchDevice& device(Device d) {
    auto& slot = d == Device::cpu ? cpu_ : cuda_;
    if (!slot) slot = d == Device::cpu ? make_cpu_device() : make_cuda_device();
    return *slot;
  }

  CsvWriter& csv_;
  Progress& progress_;
  AlgoOptions base_;
  bool stages_;  // --stages
  size_t done_ = 0;
  ShapeData data_;
  std::unique_ptr<BenchDevice> cpu_, cuda_;
  std::set<std::pair<const BenchCase*, int>> ran_;
  std::map<const BenchCase*, Partial> partial_;
  std::map<std::string, int> counts_;
};

// Algorithm names of this build matching any pattern, in list order. Patterns matching nothing
// are reported once on stderr (a sweep written for a GPU build run on a CPU build, say).
// Without a CUDA device (a CUDA build on a GPU-less machine) the CUDA algorithms are left out
// the same way, rather than filling the CSV with skipped rows; run_bench says so once the
// command line has been checked (errors stay one line).
bool g_cuda_left_out = false;

std::vector<std::string> select_algorithms(const std::vector<std::string>& patterns, const std::string& where) {
  std::vector<std::string> names;
  for (const auto& pat : patterns) {
    bool any = false;
    for (const auto& e : algorithm_list())
      if (glob_match(pat, e.name)) {
        any = true;
        if (e.make({})->device() == Device::cuda && cuda_device_count() == 0) {
          g_cuda_left_out = true;
          continue;
        }
        if (std::find(names.begin(), names.end(), e.name) == names.end()) names.emplace_back(e.name);
      }
    if (!any) {
      if (pat.find_first_of("*?") == std::string::npos && pat.rfind("cuda", 0) != 0 && pat.rfind("cudnn", 0) != 0)
        make_algorithm(pat);  // throws: unknown algorithm, listing the known ones
      fmt::print(stderr, "convbench: note: {}: '{}' matches no algorithm of this build ({})\n", where, pat,
                 cuda_built() ? "see convbench list" : "built without CUDA");
    }
  }
  return names;
}

// The CSV row key of a case (the columns --resume and merge tell rows apart by).
std::string case_key(const BenchCase& c) {
  ResultRow probe;
  probe.sweep = c.sweep, probe.shape = c.shape, probe.algo = c.algo, probe.pass = std::string(to_string(c.pass));
  probe.precision = c.precision, probe.compression = c.compression;
  probe.fft_policy = std::string(to_string(c.policy));
  return row_key(probe);
}

// A tuning option given that none of the algorithms run reads changes nothing: say so, and
// which algorithms of the build it tunes.
void note_unread_options(const BenchOptions& o, const std::vector<BenchCase>& cases) {
  std::set<std::string> run;
  for (const auto& c : cases) run.insert(c.algo);
  struct Given {
    const char *flag, *field;
    bool given;
    std::string value;
  };
  const Given options[] = {
      {"--fft-planning", "fft_planning", o.fft_planning != "estimate", o.fft_planning},
      {"--fft-tile", "fft_tile", o.fft_tile != 0, std::to_string(o.fft_tile)},
      {"--filter-spectra", "filter_spectra", o.filter_spectra != "planner", o.filter_spectra},
      {"--fft-grid-mib", "fft_grid_bytes", o.fft_grid_mib != 0, std::to_string(o.fft_grid_mib)},
      {"--complex-gemm", "complex_gemm", o.complex_gemm != "planner", o.complex_gemm},
      {"--small-fft-split", "small_fft_split", o.small_fft_split != "planner", o.small_fft_split}};
  for (const Given& g : options) {
    if (!g.given) continue;
    bool read = false;
    for (const auto& a : run) read = read || make_algorithm(a)->uses_option(g.field);
    if (read) continue;
    std::vector<std::string> readers;
    for (const auto& e : algorithm_list())
      if (e.make({})->uses_option(g.field)) readers.emplace_back(e.name);
    fmt::print(stderr, "convbench: note: {} {}: no algorithm run reads it (it tunes {})\n", g.flag, g.value,
               readers.empty() ? std::string("none of this build") : fmt::format("{}", fmt::join(readers, ", ")));
  }
}

}  // namespace

std::string machine_name() {
  if (cuda_device_count() > 0) {
    const std::string s = cuda_summary();
    const size_t at = s.find("] ");
    if (at != std::string::npos) return slug(s.substr(at + 2, s.find(" sm_", at) - at - 2));
  }
  return slug(cpu_model());
}

int run_bench(const BenchOptions& o) {
  if (o.sweeps.empty() && o.shapes.empty()) throw std::invalid_argument("bench: give --sweep FILE and/or --shape SPEC");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw std::invalid_argument(fmt::format("--shard: need 0 <= i < n, got {}/{}", o.shard_index, o.shard_count));

  std::vector<Sweep> sweeps;
  for (const auto& f : o.sweeps) sweeps.push_back(load_sweep(f));
  if (!o.shapes.empty()) {
    Sweep cli;
    cli.name = "cli";
    for (const auto& spec : o.shapes) {
      try {
        cli.shapes.push_back(parse_shape_spec(spec));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("--shape '{}': {}", spec, e.what()));
      }
    }
    sweeps.push_back(cli);
  }

  std::vector<BenchCase> cases;
  int64_t dropped = 0;
  for (const Sweep& sw : sweeps) {
    if (sw.dropped) {
      dropped += sw.dropped;
      fmt::print(stderr, "convbench: {}: dropped {} grid points that cannot exist (e.g. {})\n", sw.name, sw.dropped,
                 sw.first_drop_reason);
    }
    const auto algos = select_algorithms(o.algos.empty() ? sw.algorithms : o.algos, o.algos.empty() ? sw.name : "--algo");
    std::vector<Pass> passes;
    for (const auto& p : o.passes.empty() ? sw.passes : o.passes) passes.push_back(parse_pass(p));
    const auto& precisions = o.precisions.empty() ? sw.precisions : o.precisions;
    for (const auto& p : precisions)
      if (p != "fp32" && p != "tf32") throw std::invalid_argument(fmt::format("--precision: unknown '{}' (fp32, tf32)", p));
    const auto& compression = o.compression.empty() ? sw.compression : o.compression;
    for (double cv : compression)
      if (!compression_in_range(cv))
        throw std::invalid_argument(fmt::format("--compression: {} not in {}", cv, kCompressionRange));
    std::vector<FftSizePolicy> policies = sw.fft_size;
    if (!o.fft_size.empty()) {
      policies.clear();
      for (const auto& name : o.fft_size) {
        const auto parsed = parse_fft_size_policy(name);
        if (!parsed) throw std::invalid_argument(fmt::format("--fft-size: unknown '{}' (cheapest, smooth, pow2)", name));
        policies.push_back(*parsed);
      }
    }
    // Innermost axis: a case's size policies run back to back, so they share the machine's state.
    for (const Shape& s : sw.shapes)
      for (const auto& a : algos) {
        // One row for an algorithm that does not plan transform sizes (cudnn.fft plans its own).
        const bool sized = make_algorithm(a)->plans_fft_sizes();
        for (Pass p : passes)
          for (const auto& prec : precisions)
            for (double cv : compression)
              for (FftSizePolicy policy : policies) {
                if (!sized && policy != policies.front()) continue;
                // + 0.0: -0 is written and keyed as 0.
                cases.push_back({sw.name, s, a, p, prec, cv + 0.0, policy, o.reps > 0 ? o.reps : sw.reps});
              }
      }
  }
  // A case given twice (a repeated list value or --shape, or sweeps of one name sharing a shape) would
  // write two rows of one key, which --resume and merge count as one: run it once.
  std::set<std::string> keys;
  const size_t listed = cases.size();
  cases.erase(std::remove_if(cases.begin(), cases.end(), [&](const BenchCase& c) { return !keys.insert(case_key(c)).second; }),
              cases.end());
  if (const size_t repeats = listed - cases.size(); repeats > 0)
    fmt::print(stderr, "convbench: note: {} an earlier one (same sweep, shape, algorithm, pass, precision, compression "
                       "and FFT size policy) and {} once\n",
               repeats == 1 ? "1 case repeats" : fmt::format("{} cases repeat", repeats), repeats == 1 ? "runs" : "run");
  note_unread_options(o, cases);
  if (cases.empty())
    throw std::invalid_argument(g_cuda_left_out
                                    ? "bench: nothing to run (CUDA algorithms left out: " + cuda_summary() + ")"
                                    : std::string("bench: nothing to run (no shape x algorithm x pass)"));

  std::string out = o.out;
  if (out.empty()) out = fmt::format("results/{}/{}.csv", machine_name(), sweeps.front().name);

  // Shards split the full case list; resume then drops what the file already holds.
  std::vector<BenchCase> todo;
  for (size_t i = 0; i < cases.size(); ++i)
    if (int(i % size_t(o.shard_count)) == o.shard_index) todo.push_back(cases[i]);
  size_t already = 0;
  if (o.resume) {
    const auto done = completed_row_keys(out);
    std::vector<BenchCase> left;
    for (auto& c : todo) {
      if (done.count(case_key(c))) ++already;
      else left.push_back(c);
    }
    todo.swap(left);
  } else if (std::filesystem::exists(out) && std::filesystem::file_size(out) > 0) {
    throw std::invalid_argument(fmt::format("{} exists: use --resume to continue it, or another --out", out));
  }

  if (g_cuda_left_out) fmt::print(stderr, "convbench: note: CUDA algorithms left out: {}\n", cuda_summary());
  if (o.dry_run) {
    for (const auto& c : todo)
      fmt::print("{},{},{},{},{},{}\n", c.sweep, c.shape.to_string(), c.algo, to_string(c.pass), c.precision, c.compression);
    fmt::print(stderr, "convbench: {} cases{} ({} already done, {} dropped grid points)\n", todo.size(),
               o.rounds > 1 ? fmt::format(" x {} rounds", o.rounds) : "", already, dropped);
    return 0;
  }

  CsvWriter csv(out);
  const nlohmann::json env = environment(o.command_line);
  append_env_sidecar(out + ".env.json", env);
  const HostLoadWatch host_load;
  const int rounds = std::max(1, o.rounds);
  Progress progress(o.progress || isatty(STDERR_FILENO), todo.size() * size_t(rounds));
  AlgoOptions base;
  base.fft_planning = o.fft_planning;
  base.fft_tile = o.fft_tile;
  base.filter_spectra = o.filter_spectra;
  base.fft_grid_bytes = o.fft_grid_mib << 20;
  base.complex_gemm = o.complex_gemm;
  base.small_fft_split = o.small_fft_split;
  Runner runner(csv, progress, base, o.stages);

  std::vector<std::string> gb_args = {"convbench"};
  gb_args.insert(gb_args.end(), o.benchmark_args.begin(), o.benchmark_args.end());
  std::vector<char*> argv;
  for (auto& a : gb_args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data()))
    throw std::invalid_argument("unrecognized Google Benchmark argument");
  for (int r = 0; r < rounds; ++r)
    for (const auto& c : todo) {
      std::string name = fmt::format("{}/{}/{}/{}", c.sweep, c.algo, to_string(c.pass), c.shape.to_string());
      if (rounds > 1) name += fmt::format("/round:{}", r + 1);
      benchmark::RegisterBenchmark(name.c_str(), [&runner, &c, r, rounds](benchmark::State& st) { runner.run(st, c, r, rounds); })
          ->UseManualTime()
          ->Iterations(c.reps)
          ->Unit(benchmark::kMillisecond);
    }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  runner.flush();
  progress.finish();
  report_host_load(host_load, {out + ".env.json"}, env);

  const auto& n = runner.counts();
  auto count = [&](const char* k) { return n.count(k) ? n.at(k) : 0; };
  fmt::print(stderr, "convbench: {} rows to {} (ok {}, skipped {}, failed {}){}; env in {}.env.json\n",
             count("ok") + count("skipped") + count("failed"), out, count("ok"), count("skipped"), count("failed"),
             already ? fmt::format(", {} rows were already there", already) : "", out);
  return count("failed") > 0 ? 3 : 0;
}

}  // namespace convbench
