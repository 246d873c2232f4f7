// libFuzzer target over the sweep-file parser and the shape parser/validation. Every input must
// either parse or be rejected with an exception carrying a message; anything else (a crash, a
// sanitizer report, an exception without a message) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "shape_spec.hpp"
#include "sweep.hpp"

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
  return 0;
}
