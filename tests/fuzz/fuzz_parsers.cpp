// libFuzzer target over the sweep-file parser, the shape parser/validation and the .npy reader
// (`convbench conv`'s inputs: the bytes as a file). Every input must either parse or be rejected
// with an exception carrying a message; anything else (a crash, a sanitizer report, an exception
// without a message) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "npy.hpp"
#include "shape_spec.hpp"
#include "sweep.hpp"

namespace {

// A file of this process's own for the .npy reader, which reads paths.
std::string scratch_path(const char* suffix) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/convbench_fuzz_" +
         std::to_string(::getpid()) + suffix;
}

// An array read must hold product(shape) values and survive write_npy and read_npy unchanged.
void check_npy(const uint8_t* data, size_t size) {
  static const std::string in = scratch_path(".npy"), again = scratch_path("_again.npy");
  static const bool cleanup = std::atexit([] { std::remove(in.c_str()), std::remove(again.c_str()); }) == 0;
  (void)cleanup;
  if (std::FILE* f = std::fopen(in.c_str(), "wb")) {
    const bool written = std::fwrite(data, 1, size, f) == size;
    if (std::fclose(f) != 0 || !written) std::abort();
  } else {
    std::abort();
  }
  convbench::NpyArray a;
  try {
    a = convbench::read_npy(in);
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();
    return;
  }
  // What was read must round-trip: an exception from here on is a bug too (uncaught: a crash).
  int64_t elems = 1;
  for (int64_t d : a.shape) elems *= d;
  if (elems != int64_t(a.data.size())) std::abort();
  convbench::write_npy(again, a.shape, a.data.data());
  const convbench::NpyArray b = convbench::read_npy(again);
  if (b.shape != a.shape || (elems > 0 && std::memcmp(a.data.data(), b.data.data(), a.data.size() * 4) != 0))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const convbench::Shape s = convbench::parse_shape_spec(text);
    // A valid shape's description must parse back to the same shape.
    if (!(convbench::parse_shape_spec(s.to_string()) == s)) std::abort();
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  try {
    const convbench::Sweep sw = convbench::parse_sweep(text, "fuzz.json");
    for (const auto& s : sw.shapes)
      if (s.out[0] < 1 || s.out[1] < 1 || s.out[2] < 1) std::abort();
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  check_npy(data, size);
  return 0;
}
