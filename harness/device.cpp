#include "device.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "convbench/cuda_info.hpp"
#include "env_info.hpp"

namespace convbench {

std::vector<std::pair<std::string, double>> summed_by_name(const std::vector<std::pair<std::string, double>>& marks) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, ms] : marks) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == name; });
    if (it == out.end()) out.emplace_back(name, ms);
    else it->second += ms;
  }
  return out;
}
namespace {

class WallStageTimer final : public StageTimer {
 public:
  void mark(const char* stage) override {
    const auto now = std::chrono::steady_clock::now();
    marks_.emplace_back(stage, std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }
  std::vector<std::pair<std::string, double>> stages() override { return marks_; }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> marks_;
};

class CpuDevice final : public BenchDevice {
 public:
  std::string name() const override { return cpu_model(); }
  MemoryBudget available_memory() const override { return host_memory_available(); }

  void load(const Shape& s, const std::vector<float>& x, const std::vector<float>& w,
            const std::vector<float>& dy) override {
    shape_ = s, x_ = x.data(), w_ = w.data(), dy_ = dy.data();
  }
  void reset_outputs() override {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    y_.assign(shape_.y_elems(), nan), dx_.assign(shape_.x_elems(), nan), dw_.assign(shape_.w_elems(), nan);
  }
  ConvBuffers buffers() const override {
    return {x_, w_, dy_, const_cast<float*>(y_.data()), const_cast<float*>(dx_.data()), const_cast<float*>(dw_.data())};
  }
  const float* output(Pass p) override { return p == Pass::fprop ? y_.data() : p == Pass::dgrad ? dx_.data() : dw_.data(); }

  void start() override { t0_ = std::chrono::steady_clock::now(); }
  double stop() override {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
  }
  std::unique_ptr<StageTimer> stage_timer() override { return std::make_unique<WallStageTimer>(); }

 private:
  Shape shape_;
  const float *x_ = nullptr, *w_ = nullptr, *dy_ = nullptr;
  std::vector<float> y_, dx_, dw_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

std::unique_ptr<BenchDevice> make_cpu_device() { return std::make_unique<CpuDevice>(); }

#ifndef CONVBENCH_HAVE_CUDA
std::unique_ptr<BenchDevice> make_cuda_device() { throw std::runtime_error(cuda_summary()); }
#endif

}  // namespace convbench
