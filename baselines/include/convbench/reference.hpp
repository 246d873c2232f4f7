// Float64 direct convolution: the ground truth every algorithm and every benchmark row is
// checked against, and the single place where fp32 tolerances are defined.
#pragma once

#include <cstdint>
#include <vector>

#include "convbench/shape.hpp"

namespace convbench {

// Output of one pass (fprop -> y, dgrad -> dx, wgrad -> dw) in float64. `step` is not a
// reference pass: check its three outputs one by one.
std::vector<double> reference(const Shape& s, Pass p, const float* x, const float* w, const float* dy);

// ||out - ref||_2 / ||ref||_2 (the absolute norm when ref is all zeros).
double rel_error(const float* out, const std::vector<double>& ref);

// Largest rel_error an fp32 result of pass p (not step) may have; grows with the pass's
// reduction length. The only definition of the tolerance in convbench.
double tolerance(const Shape& s, Pass p);

// Number of products summed into one output element of pass p.
int64_t reduction_length(const Shape& s, Pass p);

}  // namespace convbench
