// Sweep files: plain JSON data describing which shapes, algorithms and passes to measure.
// Format documented in sweeps/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"

namespace convbench {

struct Sweep {
  std::string name;    // the file's "name" (defaults to the file stem)
  std::string source;  // where its numbers come from (paper, figure, table)
  std::vector<std::string> algorithms{"*"};  // names or globs
  std::vector<std::string> passes{"fprop", "dgrad", "wgrad", "step"};
  std::vector<std::string> precisions{"fp32"};
  std::vector<double> compression{0.0};
  std::vector<FftSizePolicy> fft_size{FftSizePolicy::cheapest};  // an axis: each policy in turn per case
  int reps = 5;
  std::vector<Shape> shapes;        // grids expanded, explicit shapes appended, duplicates removed
  int64_t dropped = 0;              // grid points that cannot exist (e.g. kernel > padded input)
  std::string first_drop_reason;    // one example, for the log
};

// Parses sweep JSON text; `origin` (the file name) starts every error message. Errors name the
// key and the expected type: "quick.json: key 'reps' must be an integer >= 1, got \"5\"".
Sweep parse_sweep(std::string_view json_text, const std::string& origin);
Sweep load_sweep(const std::string& path);

// Glob match with '*' and '?' (for --algo 'cpu.*').
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace convbench
