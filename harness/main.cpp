// convbench command line: one subcommand per job.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

#include "algorithms.hpp"
#include "bench.hpp"
#include "commands.hpp"
#include "conv_command.hpp"
#include "convbench/cuda_info.hpp"
#include "fft_command.hpp"
#include "openblas_core.hpp"
#include "train/train_command.hpp"

namespace {

void list_algorithms() {
  for (const auto& e : convbench::algorithm_list()) {
    const auto algo = e.make({});
    fmt::print("{:<27} {}\n", e.name, algo->description());
  }
  const std::string cuda = convbench::cuda_summary();
  fmt::print("# CUDA: {}\n", cuda);
}

}  // namespace

int main(int argc, char** argv) {
  convbench::choose_openblas_core(argv);  // may run this program again, before any output
  CLI::App app{"convbench: benchmark and cross-check convolution algorithms (direct, im2col, FFT)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "convbench 0.1.0");
  auto* list = app.add_subcommand("list", "List the algorithms of this build, one per line: name, then what it supports");
  list->callback(list_algorithms);
  auto* machine = app.add_subcommand("machine", "Print this machine's results folder name (GPU name, else CPU model)");
  machine->callback([] { fmt::print("{}\n", convbench::machine_name()); });
  convbench::add_conv_command(app);
  int exit_code = 0;
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  convbench::add_bench_command(app, exit_code, command_line);
  convbench::add_model_command(app, command_line);
  convbench::add_merge_command(app);
  convbench::add_train_command(app, command_line);
  convbench::add_fft_command(app, command_line);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "convbench: error: {} (see --help)\n", e.what());
    return e.get_exit_code();
  } catch (const std::exception& e) {
    fmt::print(stderr, "convbench: error: {}\n", e.what());
    return 1;
  }
  return exit_code;
}
