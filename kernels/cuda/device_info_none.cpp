#include <stdexcept>

#include "convbench/cuda_algorithms.hpp"
#include "convbench/cuda_info.hpp"

namespace convbench {

bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
std::vector<std::pair<std::string, std::string>> cuda_versions() { return {}; }
std::string cuda_summary() { return "built without CUDA (CONVBENCH_CUDA=OFF or no nvcc found)"; }
std::optional<CudaDeviceFacts> cuda_device_facts() { return std::nullopt; }

std::unique_ptr<R2cTransform> make_r2c_transform(const std::string&, int, int, int64_t, uint64_t, void*) {
  throw std::runtime_error(cuda_summary());
}

}  // namespace convbench
