// The seed study's two networks, built from train/layers.hpp:
//   lenet  (the PyTorch CIFAR-10 tutorial net, the seed's baseline): conv 3->6 k, ReLU, max-pool 2,
//          conv 6->16 k, ReLU, max-pool 2, linear ->120, ReLU, ->84, ReLU, ->10 (k = 5, 32x32).
//   fftnet (the seed's FFT-analysis net): conv 3->16 k on n x n, ReLU, max-pool 2, linear ->120,
//          ReLU, ->84, ReLU, ->10 (its table: n = 128, k = 64 gives 16x65x65 -> 16x32x32 -> 120).
// The ReLUs are the tutorial's functional ones (torchsummary does not list them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"
#include "train/layers.hpp"

namespace convbench::train {

struct NetConfig {
  std::string net = "lenet";  // lenet | fftnet
  std::string algo = "cpu.direct";
  int64_t input = 32, kernel = 5, channels = 3, classes = 10;
  AlgoOptions algo_options;
  uint64_t seed = 1;  // weight initialisation
};

class Network {
 public:
  // Throws std::invalid_argument with a one-line reason (unknown net or algorithm, a kernel that
  // does not fit, ...).
  explicit Network(const NetConfig& c);
  // Plans and buffers for minibatches of n images (outside the timed region).
  void prepare(int64_t n);
  // Forward and loss; with `backward`, also every parameter's gradient (overwritten).
  double forward_backward(const float* images, const int32_t* labels, int64_t n, bool backward = true);
  // One training step: forward, backward, SGD update. Returns the minibatch's loss (before the update).
  double train_step(const float* images, const int32_t* labels, int64_t n, const Sgd& sgd);
  std::vector<Param*> params();
  // Layer table like the seed's (name, output shape, parameters) for n images.
  std::string summary(int64_t n);
  // How the convolutions of `algo` run, for the CSV: "reuse" when the backward reuses the
  // forward's transforms of x and w (FFT algorithms, Algorithm::run_backward), else "separate".
  static std::string conv_passes(const std::string& algo);
  const NetConfig& config() const { return cfg_; }

 private:
  NetConfig cfg_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_, grads_;  // acts_[i] feeds layers_[i]; acts_.back() are the logits
  Tensor dlogits_;
};

}  // namespace convbench::train
