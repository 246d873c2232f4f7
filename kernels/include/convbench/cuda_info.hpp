// What the CUDA backend of this build can see. Works in every build: without CUDA it reports so.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace convbench {

bool cuda_built();
// Number of usable CUDA devices (0 when none, when the driver is missing, or without CUDA).
int cuda_device_count();
// One line: "built without CUDA", "no CUDA device (reason)" or the device names.
std::string cuda_summary();
// (library, version) of the CUDA runtime, driver, cuFFT, cuBLAS and cuDNN; empty without CUDA.
std::vector<std::pair<std::string, std::string>> cuda_versions();

}  // namespace convbench
