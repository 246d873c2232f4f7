// cpu.im2col: unfold the input windows into a matrix (im2col), one OpenBLAS SGEMM per image
// and group, fold gradients back with col2im. The step pass unfolds x once for fprop and wgrad.
#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "convbench/cpu_algorithms.hpp"
#include "tensor_index.hpp"

namespace convbench {
namespace {

using cpu::in_coord;
using cpu::inside;

// Rows of the column matrix: one per (channel of the group, kernel tap); columns: output positions.
int64_t col_rows(const Shape& s) { return s.Cg() * s.kernel_volume(); }

// Calls f(row, col, input offset within the channel plane or -1 for padding) for channel plane c.
template <class F>
void for_each_col_entry(const Shape& s, int64_t c, F&& f) {
  int64_t row = c * s.kernel_volume();
  for (int64_t rd = 0; rd < s.kernel[0]; ++rd)
    for (int64_t rh = 0; rh < s.kernel[1]; ++rh)
      for (int64_t rw = 0; rw < s.kernel[2]; ++rw, ++row) {
        int64_t col = 0;
        for (int64_t od = 0; od < s.out[0]; ++od) {
          const int64_t id = in_coord(s, 0, od, rd);
          for (int64_t oh = 0; oh < s.out[1]; ++oh) {
            const int64_t ih = in_coord(s, 1, oh, rh);
            const bool dh_in = inside(s, 0, id) && inside(s, 1, ih);
            for (int64_t ow = 0; ow < s.out[2]; ++ow, ++col) {
              const int64_t iw = in_coord(s, 2, ow, rw);
              f(row, col, dh_in && inside(s, 2, iw) ? (id * s.in[1] + ih) * s.in[2] + iw : -1);
            }
          }
        }
      }
}

// col[row][o] = x plane value under tap `row` at output o (0 in the padding).
void im2col(const Shape& s, const float* xg, float* col) {
  const int64_t cols = s.out_volume(), plane = s.in_volume();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < s.Cg(); ++c)
    for_each_col_entry(s, c, [&](int64_t row, int64_t o, int64_t off) {
      col[row * cols + o] = off >= 0 ? xg[c * plane + off] : 0.0f;
    });
}

// dxg += fold(col): every column entry returns to the input position it was taken from.
void col2im(const Shape& s, const float* col, float* dxg) {
  const int64_t cols = s.out_volume(), plane = s.in_volume();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < s.Cg(); ++c)  // channels own disjoint planes: no races
    for_each_col_entry(s, c, [&](int64_t row, int64_t o, int64_t off) {
      if (off >= 0) dxg[c * plane + off] += col[row * cols + o];
    });
}

class CpuIm2col final : public Algorithm {
 public:
  std::string name() const override { return "cpu.im2col"; }
  std::string description() const override {
    return "im2col/col2im + OpenBLAS SGEMM per image and group; 1D/2D/3D, fprop/dgrad/wgrad/step, pad, stride, "
           "dilation, groups; step unfolds x once";
  }
  std::string supports(const Shape&, Pass) const override { return {}; }
  std::size_t workspace_bytes(const Shape& s, Pass) const override {
    return static_cast<std::size_t>(col_rows(s) * s.out_volume()) * sizeof(float);
  }
  void prepare(const Shape& s, Pass p) override {
    shape_ = s;
    pass_ = p;
    col_.assign(col_rows(s) * s.out_volume(), 0.0f);
    prepared_ = true;
  }
  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(pass_, p))
      throw std::logic_error(fmt::format("cpu.im2col: run({}) without prepare for it", to_string(p)));
    const Shape& s = shape_;
    const bool fwd = p == Pass::fprop || p == Pass::step, bwd_data = p == Pass::dgrad || p == Pass::step,
               bwd_w = p == Pass::wgrad || p == Pass::step;
    const int64_t Cg = s.Cg(), Kg = s.Kg(), rows = col_rows(s), cols = s.out_volume();
    const int64_t plane = s.in_volume();
    if (bwd_data) std::fill(t.dx, t.dx + s.x_elems(), 0.0f);
    float* col = col_.data();
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* wg = t.w + g * Kg * rows;
        const int64_t xoff = (n * s.C + g * Cg) * plane, yoff = (n * s.K + g * Kg) * cols;
        if (fwd || bwd_w) {
          im2col(s, t.x + xoff, col);
          if (fwd)  // y_g (Kg x cols) = w_g (Kg x rows) * col (rows x cols)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Kg, cols, rows, 1.0f, wg, rows, col, cols, 0.0f,
                        t.y + yoff, cols);
          if (bwd_w)  // dw_g (Kg x rows) += dy_g (Kg x cols) * col^T, summed over images
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Kg, rows, cols, 1.0f, t.dy + yoff, cols, col, cols,
                        n == 0 ? 0.0f : 1.0f, t.dw + g * Kg * rows, rows);
        }
        if (bwd_data) {  // dcol (rows x cols) = w_g^T * dy_g, folded back into dx
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, cols, Kg, 1.0f, wg, rows, t.dy + yoff, cols,
                      0.0f, col, cols);
          col2im(s, col, t.dx + xoff);
        }
      }
  }

 private:
  Shape shape_;
  Pass pass_ = Pass::fprop;
  bool prepared_ = false;
  std::vector<float> col_;
};

}  // namespace

std::unique_ptr<Algorithm> make_cpu_im2col(const AlgoOptions&) { return std::make_unique<CpuIm2col>(); }

}  // namespace convbench
