#include "shape_spec.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <stdexcept>
#include <string>

namespace convbench {
namespace {

int64_t parse_int(std::string_view key, std::string_view v) {
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size())
    throw std::invalid_argument(fmt::format("shape key '{}': '{}' is not an integer", key, v));
  return out;
}

std::vector<int64_t> parse_list(std::string_view key, std::string_view v) {
  std::vector<int64_t> out;
  for (;;) {
    const size_t x = v.find('x');
    out.push_back(parse_int(key, v.substr(0, x)));
    if (x == std::string_view::npos) break;
    v.remove_prefix(x + 1);
  }
  return out;
}

}  // namespace

Shape parse_shape_spec(std::string_view spec) {
  ShapeParams p;
  std::set<std::string, std::less<>> seen;
  bool have_kernel = false;
  std::string_view rest = spec;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument(fmt::format("shape: '{}' is not key=value", item));
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!seen.emplace(key).second) throw std::invalid_argument(fmt::format("shape key '{}' given twice", key));
    if (key == "N") p.N = parse_int(key, value);
    else if (key == "C") p.C = parse_int(key, value);
    else if (key == "K") p.K = parse_int(key, value);
    else if (key == "groups") p.groups = parse_int(key, value);
    else if (key == "in") p.in = parse_list(key, value);
    else if (key == "k") p.kernel = parse_list(key, value), have_kernel = true;
    else if (key == "pad") p.pad = parse_list(key, value);
    else if (key == "stride") p.stride = parse_list(key, value);
    else if (key == "dilation") p.dilation = parse_list(key, value);
    else
      throw std::invalid_argument(fmt::format(
          "shape: unknown key '{}' (expected N, C, K, in, k, pad, stride, dilation, groups)", key));
  }
  if (p.in.empty()) throw std::invalid_argument("shape key 'in' is required (e.g. in=64x64)");
  if (!have_kernel) p.kernel.assign(p.in.size(), 1);
  return Shape::make(p);
}

}  // namespace convbench
