#include "train/network.hpp"

#include "algorithms.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace convbench::train {

Network::Network(const NetConfig& c) : cfg_(c) {
  if (c.net != "lenet" && c.net != "fftnet")
    throw std::invalid_argument(fmt::format("unknown net '{}' (lenet, fftnet)", c.net));
  if (c.input < 1 || c.kernel < 1)
    throw std::invalid_argument(fmt::format("input {} and kernel {} must be positive", c.input, c.kernel));
  if (c.kernel > c.input)
    throw std::invalid_argument(fmt::format("kernel {} > input {}: the {} convolution has no output", c.kernel,
                                            c.input, c.net));
  std::mt19937_64 rng(c.seed);  // drawn in layer order, so every algorithm starts from the same weights
  Dims d = {1, c.channels, c.input, c.input};
  auto add = [&](std::unique_ptr<Layer> l) {
    d = l->output_dims(d);  // validates as the network is built
    layers_.push_back(std::move(l));
  };
  if (c.net == "lenet") {
    add(std::make_unique<Conv2d>("conv1", c.channels, 6, c.kernel, c.algo, c.algo_options, rng));
    add(std::make_unique<ReLU>());
    add(std::make_unique<MaxPool2>("pool1"));
    add(std::make_unique<Conv2d>("conv2", 6, 16, c.kernel, c.algo, c.algo_options, rng));
    add(std::make_unique<ReLU>());
    add(std::make_unique<MaxPool2>("pool2"));
  } else {
    add(std::make_unique<Conv2d>("conv1", c.channels, 16, c.kernel, c.algo, c.algo_options, rng));
    add(std::make_unique<ReLU>());
    add(std::make_unique<MaxPool2>("pool1"));
  }
  add(std::make_unique<Linear>("fc1", volume(d), 120, rng));
  add(std::make_unique<ReLU>());
  add(std::make_unique<Linear>("fc2", 120, 84, rng));
  add(std::make_unique<ReLU>());
  add(std::make_unique<Linear>("fc3", 84, c.classes, rng));
  acts_.resize(layers_.size() + 1);
  grads_.resize(layers_.size() + 1);
}

std::string Network::conv_passes(const std::string& algo) {
  return make_algorithm(algo, {})->reuses_fprop() ? "reuse" : "separate";
}

void Network::prepare(int64_t n) {
  if (n < 1) throw std::invalid_argument(fmt::format("batch {} must be positive", n));
  Dims d = {n, cfg_.channels, cfg_.input, cfg_.input};
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->prepare(d, i > 0);
    acts_[i].data.reserve(static_cast<size_t>(volume(d)));
    grads_[i].data.reserve(static_cast<size_t>(volume(d)));
    d = layers_[i]->output_dims(d);
  }
  acts_.back().data.reserve(static_cast<size_t>(volume(d)));
  grads_.back().data.reserve(static_cast<size_t>(volume(d)));
}

double Network::forward_backward(const float* images, const int32_t* labels, int64_t n, bool backward) {
  Tensor& in = acts_[0];
  in.reshape({n, cfg_.channels, cfg_.input, cfg_.input});
  std::copy(images, images + in.size(), in.data.begin());
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->forward(acts_[i], acts_[i + 1]);
  const double loss = softmax_cross_entropy(acts_.back(), labels, grads_.back());
  if (backward)
    for (size_t i = layers_.size(); i-- > 0;)  // the data needs no gradient: layer 0 gets no dx
      layers_[i]->backward(acts_[i], acts_[i + 1], grads_[i + 1], i > 0 ? &grads_[i] : nullptr);
  return loss;
}

double Network::train_step(const float* images, const int32_t* labels, int64_t n, const Sgd& sgd) {
  const double loss = forward_backward(images, labels, n, true);
  sgd.step(params());
  return loss;
}

std::vector<Param*> Network::params() {
  std::vector<Param*> all;
  for (auto& l : layers_)
    for (Param* p : l->params()) all.push_back(p);
  return all;
}

std::string Network::summary(int64_t n) {
  std::string out = fmt::format("{:<8} {:<16} {:>10}\n", "layer", "output", "params");
  Dims d = {n, cfg_.channels, cfg_.input, cfg_.input};
  int64_t total = 0;
  for (const auto& l : layers_) {
    d = l->output_dims(d);
    int64_t count = 0;
    for (Param* p : l->params()) count += static_cast<int64_t>(p->value.size());
    total += count;
    out += fmt::format("{:<8} {:<16} {:>10}\n", l->name(), to_string(d), count);
  }
  return out + fmt::format("total params {}\n", total);
}

}  // namespace convbench::train
