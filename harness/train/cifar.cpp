#include "train/cifar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace convbench::train {
namespace {

float normalise(uint8_t p) { return (static_cast<float>(p) / 255.0f - 0.5f) / 0.5f; }

// splitmix64: decorrelates the per-image seeds (seed, i) and (seed, i + 1).
uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

FakeData::FakeData(int64_t size, int64_t channels, int64_t height, int64_t width, uint64_t seed)
    : size_(size), C_(channels), H_(height), W_(width), seed_(seed) {
  if (size < 1 || channels < 1 || height < 1 || width < 1)
    throw std::invalid_argument(fmt::format("fake data: need positive sizes, got {} images of {}x{}x{}", size,
                                            channels, height, width));
}

int32_t FakeData::get(int64_t i, float* image) const {
  if (i < 0 || i >= size_) throw std::out_of_range(fmt::format("fake data: image {} of {}", i, size_));
  std::mt19937_64 rng(mix(seed_ ^ mix(static_cast<uint64_t>(i))));
  const int32_t label = static_cast<int32_t>(rng() % 10);
  const int64_t n = image_elems();
  for (int64_t j = 0; j < n; j += 8) {  // one 64-bit draw gives 8 pixels
    uint64_t r = rng();
    for (int64_t b = 0; b < 8 && j + b < n; ++b, r >>= 8) image[j + b] = normalise(static_cast<uint8_t>(r));
  }
  return label;
}

Cifar10::Cifar10(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw std::runtime_error(fmt::format("--cifar {}: not a directory", dir));
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string();
    const std::string prefix = "data_batch_", suffix = ".bin";
    if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string digits = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    found.emplace_back(std::stoll(digits), e.path().string());  // numeric order: 2 before 10
  }
  if (found.empty())
    throw std::runtime_error(fmt::format(
        "--cifar {}: no data_batch_*.bin files (the CIFAR-10 binary version: data_batch_1.bin ... data_batch_5.bin)", dir));
  std::sort(found.begin(), found.end());
  for (const auto& [index, path] : found) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
    const auto bytes = static_cast<int64_t>(fs::file_size(path));
    if (bytes == 0) throw std::runtime_error(fmt::format("{}: empty file, no records", path));
    if (bytes % kRecordBytes != 0)
      throw std::runtime_error(fmt::format("{}: {} bytes is not a whole number of {}-byte records (truncated?)", path,
                                           bytes, kRecordBytes));
    std::vector<uint8_t> raw(static_cast<size_t>(bytes));
    if (!in.read(reinterpret_cast<char*>(raw.data()), bytes))
      throw std::runtime_error(fmt::format("{}: read failed", path));
    const int64_t records = bytes / kRecordBytes;
    for (int64_t r = 0; r < records; ++r) {
      const uint8_t* rec = raw.data() + r * kRecordBytes;
      if (rec[0] > 9)
        throw std::runtime_error(fmt::format("{}: record {} has label {} (CIFAR-10 labels are 0..9)", path, r, rec[0]));
      labels_.push_back(rec[0]);
      pixels_.insert(pixels_.end(), rec + 1, rec + kRecordBytes);
    }
    files_.push_back(path);
  }
}

int32_t Cifar10::get(int64_t i, float* image) const {
  if (i < 0 || i >= size()) throw std::out_of_range(fmt::format("cifar10: image {} of {}", i, size()));
  const uint8_t* p = pixels_.data() + i * (kRecordBytes - 1);
  for (int64_t j = 0; j < kRecordBytes - 1; ++j) image[j] = normalise(p[j]);
  return labels_[static_cast<size_t>(i)];
}

}  // namespace convbench::train
