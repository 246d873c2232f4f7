#include <gtest/gtest.h>

#include "convbench/shape.hpp"

namespace convbench {
namespace {

ShapeParams params2d() {
  ShapeParams p;
  p.N = 2, p.C = 6, p.K = 4, p.groups = 2;
  p.in = {10, 9};
  p.kernel = {3, 4};
  p.pad = {1, 2};
  p.stride = {2, 1};
  p.dilation = {1, 2};
  return p;
}

// The message of the ShapeError thrown for p ("" when p is valid).
std::string error_of(const ShapeParams& p) {
  try {
    Shape::make(p);
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "";
}

TEST(Shape, OutputExtentFollowsTheFormula) {
  const Shape s = Shape::make(params2d());
  EXPECT_EQ(s.dims, 2);
  // (in + 2*pad - dil*(k-1) - 1) / stride + 1 per dim; unused D holds 1
  EXPECT_EQ(s.out, (Extent{1, (10 + 2 - 2 - 1) / 2 + 1, (9 + 4 - 6 - 1) / 1 + 1}));
  EXPECT_EQ(s.in, (Extent{1, 10, 9}));
  EXPECT_EQ(s.pad, (Extent{0, 1, 2}));
  EXPECT_EQ(s.Cg(), 3);
  EXPECT_EQ(s.Kg(), 2);
  EXPECT_EQ(s.w_elems(), 4 * 3 * 3 * 4);
}

TEST(Shape, SingleValueAppliesToAllDims) {
  ShapeParams p;
  p.in = {8, 8, 8};
  p.kernel = {3, 3, 3};
  p.pad = {1};
  p.stride = {2};
  const Shape s = Shape::make(p);
  EXPECT_EQ(s.pad, (Extent{1, 1, 1}));
  EXPECT_EQ(s.stride, (Extent{2, 2, 2}));
  EXPECT_EQ(s.out, (Extent{4, 4, 4}));
}

TEST(Shape, OneDimUsesTheInnermostSlot) {
  ShapeParams p;
  p.in = {50};
  p.kernel = {2};
  const Shape s = Shape::make(p);
  EXPECT_EQ(s.in, (Extent{1, 1, 50}));
  EXPECT_EQ(s.out, (Extent{1, 1, 49}));
  EXPECT_EQ(s.to_string(), "N=1,C=1,K=1,in=50,k=2,pad=0,stride=1,dilation=1,groups=1");
}

TEST(Shape, ErrorsNameTheField) {
  auto with = [](auto edit) {
    ShapeParams p = params2d();
    edit(p);
    return error_of(p);
  };
  EXPECT_EQ(error_of(params2d()), "");
  EXPECT_EQ(with([](ShapeParams& p) { p.kernel = {3, 14}; p.dilation = {1}; }), "kernel 14 > padded input 13 in dim W");
  EXPECT_EQ(with([](ShapeParams& p) { p.in = {10, 8}; p.kernel = {3, 9}; p.pad = {0}; p.dilation = {1}; }),
            "kernel 9 > padded input 8 in dim W");
  EXPECT_EQ(with([](ShapeParams& p) { p.kernel = {3, 8}; }),
            "dilated kernel 15 (kernel 8, dilation 2) > padded input 13 in dim W");
  EXPECT_EQ(with([](ShapeParams& p) { p.N = 0; }), "N must be >= 1, got 0");
  EXPECT_EQ(with([](ShapeParams& p) { p.C = -3; }), "C must be >= 1, got -3");
  EXPECT_EQ(with([](ShapeParams& p) { p.K = 0; }), "K must be >= 1, got 0");
  EXPECT_EQ(with([](ShapeParams& p) { p.groups = 4; }), "groups 4 does not divide C 6");
  EXPECT_EQ(with([](ShapeParams& p) { p.groups = 3; }), "groups 3 does not divide K 4");
  EXPECT_EQ(with([](ShapeParams& p) { p.pad = {-1}; }), "pad must be >= 0, got -1 in dim H");
  EXPECT_EQ(with([](ShapeParams& p) { p.stride = {1, 0}; }), "stride must be >= 1, got 0 in dim W");
  EXPECT_EQ(with([](ShapeParams& p) { p.dilation = {0}; }), "dilation must be >= 1, got 0 in dim H");
  EXPECT_EQ(with([](ShapeParams& p) { p.in = {0, 9}; }), "in must be >= 1, got 0 in dim H");
  EXPECT_EQ(with([](ShapeParams& p) { p.kernel = {3}; }), "kernel: expected 2 extents to match in, got 1");
  EXPECT_EQ(with([](ShapeParams& p) { p.pad = {1, 1, 1}; }), "pad: expected 1 or 2 values (one per dim), got 3");
  EXPECT_EQ(with([](ShapeParams& p) { p.in = {}; p.kernel = {}; }), "in: expected 1 to 3 extents, got 0");
  EXPECT_EQ(with([](ShapeParams& p) { p.in = {4, 4, 4, 4}; }), "in: expected 1 to 3 extents, got 4");
  EXPECT_NE(with([](ShapeParams& p) { p.N = int64_t{1} << 40; }).find("too large"), std::string::npos);
}

TEST(Pass, ParsesItsOwnNames) {
  for (Pass p : kAllPasses) EXPECT_EQ(parse_pass(to_string(p)), p);
  EXPECT_THROW(parse_pass("forward"), std::invalid_argument);
}

}  // namespace
}  // namespace convbench
