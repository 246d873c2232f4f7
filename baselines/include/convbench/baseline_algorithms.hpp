// Factories of the vendor baselines (registered in harness/algorithms.cpp).
#pragma once

#include <memory>

#include "convbench/algorithm.hpp"

namespace convbench {

std::unique_ptr<Algorithm> make_cpu_onednn(const AlgoOptions& opt);

}  // namespace convbench
