#include "commands.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "algorithms.hpp"
#include "bench.hpp"
#include "convbench/fft_size.hpp"
#include "convbench/model.hpp"
#include "env_info.hpp"
#include "results_csv.hpp"
#include "shape_spec.hpp"
#include "sweep.hpp"

namespace convbench {
void add_bench_command(CLI::App& app, int& exit_code, const std::string& command_line) {
  auto* cmd = app.add_subcommand("bench", "Measure shapes x algorithms x passes; one validated CSV row each");
  auto o = std::make_shared<BenchOptions>();
  o->command_line = command_line;
  auto shard = std::make_shared<std::string>();
  cmd->add_option("--sweep", o->sweeps, "Sweep file(s) (JSON, see sweeps/README.md)")->check(CLI::ExistingFile);
  cmd->add_option("--shape", o->shapes, "Shape spec, repeatable: N=8,C=64,K=64,in=64x64,k=9x9,pad=1,stride=1,dilation=1,groups=1");
  cmd->add_option("--algo", o->algos, "Algorithms: comma list of names or globs ('cpu.*'); default: the sweep's")->delimiter(',');
  cmd->add_option("--pass", o->passes, "Passes: comma list of fprop,dgrad,wgrad,step; default: the sweep's")->delimiter(',');
  cmd->add_option("--precision", o->precisions, "fp32 and/or tf32 (tf32: CUDA algorithms only)")->delimiter(',');
  cmd->add_option("--compression", o->compression, std::string("Band-limiting fractions, comma list in ") + kCompressionRange)->delimiter(',');
  cmd->add_option("--fft-size", o->fft_size, std::string(kFftSizeHelp) + "; a comma list runs each in turn per case")
      ->delimiter(',')
      ->check(kFftSizePolicy);
  cmd->add_option("--fft-planning", o->fft_planning,
                  "cpu.fft/cpu.fft_tiled: how FFTW plans the transforms: estimate (default: FFTW_ESTIMATE, "
                  "instant and the same every run), measure (FFTW_MEASURE) or patient (FFTW_PATIENT: seconds a "
                  "layer; faster plans at sizes without a codelet of their own such as 18, 35, 36, see README)")
      ->check(CLI::IsMember({"estimate", "measure", "patient"}));
  cmd->add_flag_callback("--fft-measure", [o] { o->fft_planning = "measure"; }, "Same as --fft-planning measure");
  cmd->add_option("--fft-tile", o->fft_tile, "Tiled FFT algorithms (*.fft_tiled): tile input extent per dim (default: the planner's)")
      ->check(kPositiveInteger);
  cmd->add_option("--filter-spectra", o->filter_spectra,
                  "cuda.fft/cuda.fbfft: the filter's spectra by a DFT over its taps as one GEMM (dft), by the "
                  "transforms like x and dy (fft), or as the planner's cost model picks (planner, default); "
                  "rows using the DFT say so in `detail`")
      ->check(CLI::IsMember({"planner", "dft", "fft"}));
  cmd->add_option("--fft-grid-mib", o->fft_grid_mib,
                  "cuda.fft/cuda.fbfft: MiB of the grid through which the tensors' planes pass in chunks (cuFFT's "
                  "in-place grid, the filter DFT's staging; default: a quarter of the largest tensor's kept spectra, "
                  "at least 8 MiB); larger means fewer launches and more memory, `detail` lists the chunks")
      ->check(kPositiveInteger)
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--complex-gemm", o->complex_gemm,
                  "cpu.fft/cuda.fft/cuda.fbfft: complex GEMMs by the BLAS's usual four real products per complex "
                  "one (4m), Gauss's three (3m: OpenBLAS cgemm3m, cublasCgemm3mStridedBatched; a quarter fewer "
                  "multiplications), or the planner's choice (planner, default: both timed per GEMM shape in "
                  "prepare, 3m kept where it is at least 5% faster); rows say which products ran 3m in `detail`")
      ->check(CLI::IsMember({"planner", "4m", "3m"}));
  cmd->add_option("--small-fft-split", o->small_fft_split,
                  "cuda.fbfft at transform lengths 32 and 64 (both dims, or 1D): its kernels compiled for the "
                  "length (compiled), split in two levels of 2 x 16 or 2 x 32 (split: fewer registers a thread, "
                  "two more passes through shared memory), or the planner's choice (planner, default: both timed "
                  "per tensor in prepare, split kept where at least 5% faster); `detail` names what ran split")
      ->check(CLI::IsMember({"planner", "compiled", "split"}));
  cmd->add_option("--reps", o->reps, "Timed repetitions per row (default: the sweep's, 5)")->check(kPositiveInteger);
  cmd->add_option("--rounds", o->rounds,
                  "Run the case list this many times, round-robin; each row then holds its case's reps from every "
                  "round, so a slow spell of a shared machine falls on all cases alike (default 1)")
      ->check(kPositiveInteger);
  cmd->add_flag("--stages", o->stages,
                "After the timed runs, three more (untimed) whose stages the FFT algorithms mark (transforms, "
                "GEMMs, layout kernels): each stage's median time goes to the row's detail column");
  cmd->add_option("--out", o->out, "Results CSV (default results/<machine>/<sweep>.csv); FILE.env.json beside it")->check(kOutputFile);
  cmd->add_flag("--resume", o->resume, "Skip rows already in --out and append the rest");
  cmd->add_option("--shard", *shard, "i/n: run every n-th case starting at i (0 <= i < n), e.g. $SLURM_ARRAY_TASK_ID/8");
  cmd->add_flag("--progress", o->progress, "Show the progress line even when stderr is not a terminal");
  cmd->add_flag("--dry-run", o->dry_run, "List the cases that would run, run nothing");
  cmd->allow_extras();  // --benchmark_* flags go to Google Benchmark
  cmd->footer("Google Benchmark flags (--benchmark_filter=..., --benchmark_out=...) are passed through.");
  cmd->callback([cmd, o, shard, &exit_code] {
    if (!shard->empty()) {
      int i = -1, n = -1;
      char slash = 0, extra = 0;
      if (std::sscanf(shard->c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/')
        throw std::invalid_argument(fmt::format("--shard: expected i/n, got '{}'", *shard));
      o->shard_index = i, o->shard_count = n;
    }
    for (const auto& extra : cmd->remaining()) {
      if (extra.rfind("--benchmark_", 0) != 0) throw std::invalid_argument(fmt::format("bench: unknown option '{}'", extra));
      o->benchmark_args.push_back(extra);
    }
    exit_code = run_bench(*o);
  });
}

void add_model_command(CLI::App& app, const std::string& command_line) {
  auto* cmd = app.add_subcommand("model", "Theoretical counts (Mathieu et al. and our executed ones) as CSV");
  auto sweeps = std::make_shared<std::vector<std::string>>();
  auto shapes = std::make_shared<std::vector<std::string>>();
  auto fft_size = std::make_shared<std::string>("cheapest");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--sweep", *sweeps, "Sweep file(s)")->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "CSV file with FILE.env.json beside it (default: stdout, no sidecar)")->check(kOutputFile);
  cmd->add_option("--shape", *shapes, "Shape spec, repeatable");
  cmd->add_option("--fft-size", *fft_size, "FFT transform sizes: cheapest (default; counted: the smallest 7-smooth), smooth or pow2")
      ->check(kFftSizePolicy);
  cmd->callback([sweeps, shapes, fft_size, out, command_line] {
    if (sweeps->empty() && shapes->empty()) throw std::invalid_argument("model: give --sweep FILE and/or --shape SPEC");
    std::vector<std::pair<std::string, Shape>> list;
    std::set<std::string> listed;  // a shape given twice in one sweep gets its rows once
    auto add = [&](const std::string& sweep, const Shape& s) {
      if (listed.insert(sweep + '|' + s.to_string()).second) list.emplace_back(sweep, s);
    };
    for (const auto& f : *sweeps) {
      const Sweep sw = load_sweep(f);
      for (const auto& s : sw.shapes) add(sw.name, s);
    }
    for (const auto& spec : *shapes) try {
        add("cli", parse_shape_spec(spec));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("--shape '{}': {}", spec, e.what()));
      }
    const FftSizePolicy policy = *parse_fft_size_policy(*fft_size);
    std::FILE* f = stdout;
    if (!out->empty()) {
      f = std::fopen(out->c_str(), "w");
      if (!f) throw std::runtime_error("model: cannot write " + *out);
    }
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f == stdout ? nullptr : f, &std::fclose);
    fmt::print(f, 
        "sweep,shape,dims,N,C,K,n,k,pass,method,model_flops,model_bytes,fft_size,bins,transforms,gemm_per_bin,"
        "mathieu_direct_macs,mathieu_fft_ops,fft_constant,mathieu_fft_mem_bytes,mathieu_fft_mem_mb\n");
    for (const auto& [sweep, s] : list)
      for (Pass p : kAllPasses) {
        const PassModel m = model(s, p, policy);
        for (const char* method : {"direct", "fft"}) {
          const bool fft = std::string(method) == "fft";
          fmt::print(f, "{},\"{}\",{},{},{},{},{},{},{},{},{:.12g},{:.12g},{},{:.12g},{:.12g},{},{:.12g},{:.12g},{},{:.12g},{:.3f}\n",
                     sweep, s.to_string(), s.dims, s.N, s.C, s.K, s.padded(kMaxDims - 1), s.kernel[kMaxDims - 1],
                     to_string(p), method, fft ? m.fft_flops : 2 * m.direct_macs, fft ? m.fft_bytes : m.min_bytes,
                     m.fft_size, m.bins, m.transforms, m.gemm_shape, m.mathieu_direct_macs, m.mathieu_fft_ops,
                     kFftConstant, m.mathieu_fft_mem_bytes, m.mathieu_fft_mem_bytes / 1e6);
        }
      }
    if (!out->empty()) {  // the CSV was rewritten whole: so is its provenance
      std::filesystem::remove(*out + ".env.json");
      append_env_sidecar(*out + ".env.json", environment(command_line));
    }
  });
}

void add_merge_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Merge results CSVs (e.g. shards) into one, dropping duplicate rows");
  auto out = std::make_shared<std::string>();
  auto inputs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--out", *out, "Merged CSV (must not exist)")->required()->check(kOutputFile);
  cmd->add_option("inputs", *inputs, "Results CSVs to merge")->required()->check(CLI::ExistingFile);
  cmd->callback([out, inputs] {
    if (std::filesystem::exists(*out)) throw std::invalid_argument(fmt::format("merge: {} exists", *out));
    std::set<std::string> seen;
    std::vector<std::string> lines;
    std::string header;
    size_t repeated = 0, torn = 0;
    nlohmann::json env = {{"runs", nlohmann::json::array()}};
    for (const auto& f : *inputs) {
      const ResultsText r = read_results_text(f);
      torn += r.torn;
      if (r.header.empty()) throw std::invalid_argument(fmt::format("merge: {} has no header line", f));
      if (header.empty()) header = r.header;
      if (r.header != header) throw std::invalid_argument(fmt::format("merge: {} has a different header than {}", f, inputs->front()));
      for (size_t i = 0; i < r.lines.size(); ++i) {
        std::string key;
        try {
          key = row_key(r.columns, r.fields[i]);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(fmt::format("merge: {}: {}", f, e.what()));
        }
        if (seen.insert(key).second) lines.push_back(r.lines[i]);
        else ++repeated;
      }
      if (std::ifstream e(f + ".env.json"); e) {
        const auto doc = nlohmann::json::parse(e, nullptr, false);
        if (doc.is_object() && doc.contains("runs"))
          for (const auto& run : doc["runs"]) env["runs"].push_back(run);
      }
    }
    std::ofstream o(*out);
    o << header << '\n';
    for (const auto& l : lines) o << l << '\n';
    std::ofstream(*out + ".env.json") << env.dump(2) << '\n';
    fmt::print(stderr, "convbench: merged {} rows from {} files into {}{}{}\n", lines.size(), inputs->size(), *out,
               repeated ? fmt::format("; {} repeated row{} dropped (the first of each key kept)", repeated,
                                      repeated == 1 ? "" : "s")
                        : "",
               torn ? fmt::format("; {} unfinished last line{} dropped", torn, torn == 1 ? "" : "s") : "");
  });
}

}  // namespace convbench
