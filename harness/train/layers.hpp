// Layers of the training-step analysis (the seed study's small CNNs), in plain C++ on host
// memory: convolution through any CPU Algorithm of the build, bias, ReLU, 2x2 max-pool, linear
// (OpenBLAS SGEMM), softmax cross-entropy, and SGD with momentum. Layouts are PyTorch's (NCHW,
// linear weight out x in) so results can be set beside a PyTorch run of the same network.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"

namespace convbench::train {

using Dims = std::vector<int64_t>;  // batch first: (N, C, H, W) or (N, features)

int64_t volume(const Dims& d);
std::string to_string(const Dims& d);  // "8x3x32x32"

struct Tensor {
  Dims dims;
  std::vector<float> data;
  // Sets dims and sizes data; capacity is kept, so a smaller batch after a bigger one allocates nothing.
  void reshape(const Dims& d);
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

// A trainable tensor with its gradient and SGD momentum buffer.
struct Param {
  std::string name;
  std::vector<float> value, grad, velocity;
  explicit Param(std::string n = {}, int64_t size = 0) : name(std::move(n)), value(size), grad(size), velocity(size) {}
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string name() const = 0;
  // Output dims for an input; throws std::invalid_argument naming the layer when it does not fit.
  virtual Dims output_dims(const Dims& in) const = 0;
  // Plans and allocations for this input (outside the timed region), for a backward that does
  // (need_dx) or does not produce dx; forward()/backward() prepare on demand what is missing.
  virtual void prepare(const Dims& /*in*/, bool /*need_dx*/) {}
  virtual void forward(const Tensor& x, Tensor& y) = 0;
  // From the forward's x and y and the loss gradient dy: writes dx when dx is not null and
  // overwrites (never accumulates) every parameter's grad.
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) = 0;
  virtual std::vector<Param*> params() { return {}; }
};

// 2D convolution (valid, stride 1, like the seed's networks) + bias. The convolution runs
// through a convbench Algorithm: one instance per pass (fprop, dgrad, wgrad), each prepared
// for exactly that pass and batch size, so a training step runs what `convbench bench` times
// per pass. The bias is added and reduced here. dgrad is skipped when the caller passes no dx
// (the first layer: the data needs no gradient, as in PyTorch).
class Conv2d final : public Layer {
 public:
  Conv2d(std::string name, int64_t in_channels, int64_t out_channels, int64_t kernel, std::string algo,
         const AlgoOptions& opt, std::mt19937_64& init_rng);
  ~Conv2d() override;
  std::string name() const override { return name_; }
  Dims output_dims(const Dims& in) const override;
  void prepare(const Dims& in, bool need_dx) override;
  void forward(const Tensor& x, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<Param*> params() override { return {&weight_, &bias_}; }
  const std::string& algo() const { return algo_; }
  Shape shape_for(const Dims& in) const;  // throws std::invalid_argument "<name>: ..." on misfit

 private:
  // One algorithm prepared for `step` per batch size: forward runs fprop, backward
  // run_backward() (FFT algorithms reuse fprop's transforms of x and w).
  Algorithm& prepared(const Dims& in);

  std::string name_, algo_;
  int64_t C_, K_, k_;
  AlgoOptions opt_;
  Param weight_, bias_;
  std::map<int64_t, std::unique_ptr<Algorithm>> by_batch_;
  // CUDA algorithms: device copies of the pass's tensors, uploaded before and downloaded after
  // each run (so a GPU step time includes those transfers).
  struct DeviceTensors;
  std::unique_ptr<DeviceTensors> dev_;
};

class ReLU final : public Layer {
 public:
  std::string name() const override { return "relu"; }
  Dims output_dims(const Dims& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
};

// 2x2 max-pool, stride 2, floor mode (nn.MaxPool2d(2)); remembers each window's argmax.
class MaxPool2 final : public Layer {
 public:
  explicit MaxPool2(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Dims output_dims(const Dims& in) const override;
  void forward(const Tensor& x, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::string name_;
  std::vector<int64_t> argmax_;  // per output element: offset of the max in its (n, c) plane
};

// y = x W^T + b over the flattened features of x (nn.Linear after a flatten).
class Linear final : public Layer {
 public:
  Linear(std::string name, int64_t in_features, int64_t out_features, std::mt19937_64& init_rng);
  std::string name() const override { return name_; }
  Dims output_dims(const Dims& in) const override;
  void forward(const Tensor& x, Tensor& y) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<Param*> params() override { return {&weight_, &bias_}; }

 private:
  std::string name_;
  int64_t in_, out_;
  Param weight_, bias_;
};

// Mean softmax cross-entropy over the batch (nn.CrossEntropyLoss); accumulated in double.
// Returns the loss and writes d loss / d logits into dlogits.
double softmax_cross_entropy(const Tensor& logits, const int32_t* labels, Tensor& dlogits);

// PyTorch's SGD with momentum, no dampening, no weight decay: v = m v + g; w -= lr v.
struct Sgd {
  double lr = 0.001, momentum = 0.9;
  void step(const std::vector<Param*>& params) const;
};

// PyTorch's default initialisation of conv and linear layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// for weights and biases.
void init_uniform(Param& p, int64_t fan_in, std::mt19937_64& rng);

}  // namespace convbench::train
