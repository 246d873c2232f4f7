// `convbench fft`: transform-only benchmark of our small FFT kernels (cuda.fbfft) against cuFFT.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace convbench {

// command_line is recorded in the env sidecar.
void add_fft_command(CLI::App& app, const std::string& command_line);

}  // namespace convbench
