#include "conv_command.hpp"

#include <stdexcept>

namespace convbench {

void add_conv_command(CLI::App& app) {
  auto* conv = app.add_subcommand("conv", "Run one pass of one algorithm on .npy arrays (not yet implemented)");
  conv->callback([] { throw std::runtime_error("conv: not implemented yet"); });
}

}  // namespace convbench
