// Subcommands built on the harness: bench, model, merge.
#pragma once

#include <CLI/CLI.hpp>

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

// command_line is recorded in the env sidecar.
void add_bench_command(CLI::App& app, int& exit_code, const std::string& command_line);
void add_model_command(CLI::App& app, const std::string& command_line);
void add_merge_command(CLI::App& app);

}  // namespace convbench
