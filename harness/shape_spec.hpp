// `--shape` specs: "N=8,C=64,K=64,in=64x64,k=9x9,pad=1,stride=1,dilation=1,groups=1".
#pragma once

#include <string_view>

#include "convbench/shape.hpp"

namespace convbench {

// dims = number of 'x'-separated extents of `in`; pad/stride/dilation take one value or one per
// dim; omitted keys default to N=C=K=groups=1, k=1 per dim, pad 0, stride 1, dilation 1.
// Throws std::invalid_argument (or ShapeError) whose message names the key.
Shape parse_shape_spec(std::string_view spec);

}  // namespace convbench
