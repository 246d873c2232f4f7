// Subcommands built on the harness: bench, model, merge.
#pragma once

#include <CLI/CLI.hpp>

namespace convbench {

// command_line is recorded in the env sidecar.
void add_bench_command(CLI::App& app, int& exit_code, const std::string& command_line);
void add_model_command(CLI::App& app, const std::string& command_line);
void add_merge_command(CLI::App& app);

}  // namespace convbench
