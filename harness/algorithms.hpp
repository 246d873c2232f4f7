// The one explicit list of algorithms this build provides.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "convbench/algorithm.hpp"

namespace convbench {

struct AlgorithmEntry {
  std::string_view name;
  std::unique_ptr<Algorithm> (*make)(const AlgoOptions&);
};

const std::vector<AlgorithmEntry>& algorithm_list();
// Throws std::invalid_argument naming the unknown algorithm and listing the known ones.
std::unique_ptr<Algorithm> make_algorithm(std::string_view name, const AlgoOptions& opt = {});

}  // namespace convbench
