// `convbench conv`: run one pass of one algorithm on .npy arrays.
#pragma once

#include <CLI/CLI.hpp>

namespace convbench {

// Registers the `conv` subcommand on app. Its callback throws std::exception with a one-line
// message on bad files or options (main prints it and exits non-zero).
void add_conv_command(CLI::App& app);

}  // namespace convbench
