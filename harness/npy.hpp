// Strict reader and writer of NumPy .npy files holding little-endian float32 in C order, the
// only kind convbench exchanges. Every problem throws std::runtime_error with one line that
// starts with the file's path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convbench {

struct NpyArray {
  std::vector<int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<float> data;     // product(shape) values, C order
};

// What the header says, checked against the file size (so the data is known to be complete).
struct NpyHeader {
  std::vector<int64_t> shape;
  int64_t elems = 1;          // product of shape
  int64_t data_offset = 0;    // bytes before the first value
};

// Header only: validates magic, version, header dict, dtype, order, shape and the file size.
NpyHeader read_npy_header(const std::string& path);
NpyArray read_npy(const std::string& path);

// Writes format version 1.0 ('<f4', C order), header padded to 64 bytes. `data` holds
// product(shape) values. Throws std::runtime_error naming the path when it cannot write.
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);

// "(2, 3, 4)", "(5,)", "()": shapes as NumPy prints them, for messages.
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace convbench
