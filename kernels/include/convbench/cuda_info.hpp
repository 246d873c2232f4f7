// What the CUDA backend of this build can see. Works in every build: without CUDA it reports so.
#pragma once

#include <string>

namespace convbench {

bool cuda_built();
// Number of usable CUDA devices (0 when none, when the driver is missing, or without CUDA).
int cuda_device_count();
// One line: "built without CUDA", "no CUDA device (reason)" or the device names.
std::string cuda_summary();

}  // namespace convbench
