// Float64 direct convolution: the ground truth every algorithm and every benchmark row is
// checked against, and the single place where fp32 tolerances are defined.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convbench/shape.hpp"

namespace convbench {

struct Reference {
  std::vector<double> values;
  // ||sum |a*b| ||_2 / ||sum a*b||_2 over the elements: how much the sums cancel (>= 1), the
  // factor by which fp32 rounding error exceeds eps relative to the result.
  double condition = 1;
  // ||sqrt(sum (a*b)^2)||_2 / ||sum a*b||_2: the same for rounding errors that are independent
  // per product (TF32's input rounding), which add in quadrature; about 1 on random data.
  double product_spread = 1;
  // The same for an algorithm that transforms whole signals (FFT): the error scale of a
  // correlation of whole planes, sqrt(log2 P / P) * ||a|| ||b|| per element (P the padded input
  // volume), over ||result||. Exceeds `condition` when few products reach the result (heavy
  // padding or dilation, tiny outputs).
  double transform_condition = 1;
};

// Output of one pass (fprop -> y, dgrad -> dx, wgrad -> dw) in float64. `step` is not a
// reference pass: check its three outputs one by one.
Reference reference(const Shape& s, Pass p, const float* x, const float* w, const float* dy);
// The same at the given flat output indices only (validation of shapes too big for a full pass).
Reference reference(const Shape& s, Pass p, const std::vector<int64_t>& indices, const float* x, const float* w,
                    const float* dy);
// Elements of pass p's output (y, dx or dw).
int64_t output_elems(const Shape& s, Pass p);

// ||out - ref||_2 / ||ref||_2 (the absolute norm when ref is all zeros).
double rel_error(const float* out, const std::vector<double>& ref);
// The same over out[indices[i]] against ref[i].
double rel_error(const float* out, const std::vector<int64_t>& indices, const std::vector<double>& ref);

// Largest rel_error an fp32 result of pass p (not step) may have; grows with the pass's
// reduction length and with the reference's conditions (cancellation, whole-signal transforms).
// The only definition of the tolerance in convbench.
double tolerance(const Shape& s, Pass p, const Reference& ref);
// The same for a given arithmetic: "fp32" as above; "tf32" (CUDA tensor cores with 10-bit
// mantissa inputs) adds the inputs' rounding, 2^-11 relative per factor.
double tolerance(const Shape& s, Pass p, const Reference& ref, const std::string& precision);

// Number of products summed into one output element of pass p.
int64_t reduction_length(const Shape& s, Pass p);

}  // namespace convbench
