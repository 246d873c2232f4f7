// Subcommands built on the harness: bench, model, merge.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace convbench {

// A positive whole number, with a one-line reason otherwise ("must be a positive integer, got '0'").
inline const CLI::Validator kPositiveInteger(
    [](std::string& v) -> std::string {
      std::size_t used = 0;
      long long n = 0;
      try {
        n = std::stoll(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || v.empty() || n < 1) return "must be a positive integer, got '" + v + "'";
      return {};
    },
    "POSITIVE");

// --out of every command: a file to write, never an existing folder (which would fail later, in
// the middle of a run, with the file system's words).
inline const CLI::Validator kOutputFile(
    [](std::string& v) -> std::string {
      if (v.empty()) return "must name a file";
      std::error_code ec;
      if (std::filesystem::is_directory(v, ec)) return "'" + v + "' is a folder; name a file in it";
      return {};
    },
    "FILE");

// --fft-size, the same in every command.
inline constexpr const char* kFftSizeHelp =
    "FFT transform sizes: cheapest (default: the 7-smooth size >= n, up to the next power of two, that "
    "the planner's cost model finds cheapest; CPU: FFTW and GEMM timings, then the model's three "
    "finalists timed as the layer's step, see the detail column), smooth (the smallest 7-smooth "
    "size >= n) or pow2 (the next power of two, the papers' padding)";
inline const CLI::Validator kFftSizePolicy = CLI::IsMember({"cheapest", "smooth", "pow2"});

// command_line is recorded in the env sidecar.
void add_bench_command(CLI::App& app, int& exit_code, const std::string& command_line);
void add_model_command(CLI::App& app, const std::string& command_line);
void add_merge_command(CLI::App& app);

}  // namespace convbench
