// convbench command line: one subcommand per job.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

#include "algorithms.hpp"
#include "conv_command.hpp"
#include "convbench/cuda_info.hpp"

namespace {

void list_algorithms() {
  for (const auto& e : convbench::algorithm_list()) {
    const auto algo = e.make({});
    fmt::print("{:<14} {}\n", e.name, algo->description());
  }
  const std::string cuda = convbench::cuda_summary();
  fmt::print("# CUDA: {}\n", cuda);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"convbench: benchmark and cross-check convolution algorithms (direct, im2col, FFT)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "convbench 0.1.0");
  auto* list = app.add_subcommand("list", "List the algorithms of this build, one per line: name, then what it supports");
  list->callback(list_algorithms);
  convbench::add_conv_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "convbench: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
