#include "convbench/cuda_info.hpp"

namespace convbench {

bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
std::vector<std::pair<std::string, std::string>> cuda_versions() { return {}; }
std::string cuda_summary() { return "built without CUDA (CONVBENCH_CUDA=OFF or no nvcc found)"; }

}  // namespace convbench
