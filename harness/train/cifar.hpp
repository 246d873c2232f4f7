// Training data: synthetic images (like torchvision's FakeData, which the seed study trained on)
// and the CIFAR-10 binary format (data_batch_*.bin, read from disk; nothing is downloaded).
// Both yield 8-bit pixels normalised as in the PyTorch CIFAR-10 tutorial: (p/255 - 0.5) / 0.5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convbench::train {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;  // "fake", "cifar10"
  virtual int64_t size() const = 0;      // images
  virtual int64_t channels() const = 0;
  virtual int64_t height() const = 0;
  virtual int64_t width() const = 0;
  int64_t image_elems() const { return channels() * height() * width(); }
  // Writes image i (C x H x W floats) and returns its label (0..9).
  virtual int32_t get(int64_t i, float* image) const = 0;
};

// Random 8-bit images and uniform labels over 10 classes. Image i depends only on (seed, i), so
// every algorithm, batch size and epoch sees the same data and nothing is held in memory.
class FakeData final : public Dataset {
 public:
  FakeData(int64_t size, int64_t channels, int64_t height, int64_t width, uint64_t seed);
  std::string name() const override { return "fake"; }
  int64_t size() const override { return size_; }
  int64_t channels() const override { return C_; }
  int64_t height() const override { return H_; }
  int64_t width() const override { return W_; }
  int32_t get(int64_t i, float* image) const override;

 private:
  int64_t size_, C_, H_, W_;
  uint64_t seed_;
};

// CIFAR-10 binary version: records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B,
// row-major 32x32). Reads DIR/data_batch_<i>.bin for every i present, in numeric order.
// Throws std::runtime_error naming the file on a missing set, a truncated file or a bad label.
class Cifar10 final : public Dataset {
 public:
  static constexpr int64_t kRecordBytes = 1 + 3 * 32 * 32;
  explicit Cifar10(const std::string& dir);
  std::string name() const override { return "cifar10"; }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int64_t channels() const override { return 3; }
  int64_t height() const override { return 32; }
  int64_t width() const override { return 32; }
  int32_t get(int64_t i, float* image) const override;
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<std::string> files_;
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
};

}  // namespace convbench::train
