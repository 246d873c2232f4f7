#include "algorithms.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "convbench/baseline_algorithms.hpp"
#include "convbench/cpu_algorithms.hpp"

namespace convbench {

const std::vector<AlgorithmEntry>& algorithm_list() {
  static const std::vector<AlgorithmEntry> list = {
      {"cpu.direct", make_cpu_direct},
      {"cpu.im2col", make_cpu_im2col},
      {"cpu.fft", make_cpu_fft},
      {"cpu.onednn", make_cpu_onednn},
  };
  return list;
}

std::unique_ptr<Algorithm> make_algorithm(std::string_view name, const AlgoOptions& opt) {
  std::string known;
  for (const auto& e : algorithm_list()) {
    if (e.name == name) return e.make(opt);
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  }
  throw std::invalid_argument(fmt::format("unknown algorithm '{}' (this build has: {})", name, known));
}

}  // namespace convbench
