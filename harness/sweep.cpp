#include "sweep.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "convbench/band_limit.hpp"
#include "convbench/fft_size.hpp"
#include "shape_spec.hpp"

namespace convbench {
namespace {

constexpr int64_t kMaxRangeValues = 100000;   // per range axis
constexpr int64_t kMaxGridPoints = 1000000;   // a file's grids together, impossible points included

using nlohmann::json;

struct SweepError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw SweepError(fmt::format("{}: key '{}' {}", origin_, key, what));
  }
  [[noreturn]] void fail(const std::string& what) const { throw SweepError(fmt::format("{}: {}", origin_, what)); }

  static std::string shown(const json& v) {
    std::string s = v.dump();
    return s.size() > 40 ? s.substr(0, 37) + "..." : s;
  }

  int64_t integer(const json& v, const std::string& key, int64_t min) const {
    if (!v.is_number_integer()) fail(key, fmt::format("must be an integer, got {}", shown(v)));
    const int64_t i = v.get<int64_t>();
    if (i < min) fail(key, fmt::format("must be >= {}, got {}", min, i));
    return i;
  }

  std::string string(const json& v, const std::string& key) const {
    if (!v.is_string()) fail(key, fmt::format("must be a string, got {}", shown(v)));
    return v.get<std::string>();
  }

  // A string or a list of strings.
  std::vector<std::string> strings(const json& v, const std::string& key) const {
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array() || v.empty()) fail(key, fmt::format("must be a string or a non-empty list of strings, got {}", shown(v)));
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(string(v[i], fmt::format("{}[{}]", key, i)));
    return out;
  }

  // An axis: an integer, a list of integers, or {"from": a, "to": b, "step": s} /
  // {"from": a, "to": b, "times": t} (geometric).
  std::vector<int64_t> axis(const json& v, const std::string& key, int64_t min) const {
    if (v.is_number_integer()) return {integer(v, key, min)};
    if (v.is_array()) {
      if (v.empty()) fail(key, "must not be an empty list");
      std::vector<int64_t> out;
      for (size_t i = 0; i < v.size(); ++i) out.push_back(integer(v[i], fmt::format("{}[{}]", key, i), min));
      return out;
    }
    if (v.is_object()) {
      for (const auto& [k, _] : v.items())
        if (k != "from" && k != "to" && k != "step" && k != "times")
          fail(key, fmt::format("has unknown range key '{}' (expected from, to, step or times)", k));
      if (!v.contains("from") || !v.contains("to")) fail(key, "range needs 'from' and 'to'");
      if (v.contains("step") == v.contains("times")) fail(key, "range needs exactly one of 'step' or 'times'");
      const int64_t from = integer(v["from"], key + ".from", min), to = integer(v["to"], key + ".to", from);
      std::vector<int64_t> out;
      if (v.contains("step")) {
        // Counted before any value is made (a huge 'to' must not allocate), and made without
        // stepping past 'to' (no overflow near the int64 limit): 0 <= from <= to.
        const int64_t step = integer(v["step"], key + ".step", 1);
        const int64_t count = (to - from) / step + 1;
        if (count > kMaxRangeValues) fail(key, fmt::format("range has more than {} values", kMaxRangeValues));
        for (int64_t i = 0; i < count; ++i) out.push_back(from + i * step);
      } else {
        const int64_t times = integer(v["times"], key + ".times", 2);
        if (from < 1) fail(key, "geometric range needs from >= 1");
        for (int64_t i = from;; i *= times) {  // at most 63 values; i * times <= to when it runs
          out.push_back(i);
          if (i > to / times) break;
        }
      }
      return out;
    }
    fail(key, fmt::format("must be an integer, a list of integers or a range object, got {}", shown(v)));
  }

  // Extents axis ("in", "k", "pad", ...): integers mean "the same in every dim"; strings "64x32"
  // give one value per dim.
  std::vector<std::vector<int64_t>> extents(const json& v, const std::string& key, int64_t min) const {
    std::vector<std::vector<int64_t>> out;
    auto one_string = [&](const json& s, const std::string& k) {
      std::vector<int64_t> e;
      std::string text = string(s, k);
      std::stringstream ss(text);
      std::string part;
      while (std::getline(ss, part, 'x')) {
        try {
          size_t used = 0;
          const long long n = std::stoll(part, &used);
          if (used != part.size() || n < min) throw std::invalid_argument("");
          e.push_back(n);
        } catch (const std::exception&) {
          fail(k, fmt::format("must be integers >= {} joined by 'x' (e.g. \"64x32\"), got \"{}\"", min, text));
        }
      }
      if (text.empty() || text.back() == 'x')
        fail(k, fmt::format("must be integers >= {} joined by 'x' (e.g. \"64x32\"), got \"{}\"", min, text));
      if (e.size() > 3) fail(k, fmt::format("must list 1 to 3 extents, got \"{}\"", text));
      return e;
    };
    if (v.is_string()) return {one_string(v, key)};
    if (v.is_array() && !v.empty() && v[0].is_string()) {
      for (size_t i = 0; i < v.size(); ++i) out.push_back(one_string(v[i], fmt::format("{}[{}]", key, i)));
      return out;
    }
    for (int64_t i : axis(v, key, min)) out.push_back({i});
    return out;
  }

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

void check_keys(const Reader& r, const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  for (const auto& [k, _] : obj.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      r.fail(fmt::format("unknown key '{}{}' (expected one of: {})", where, k, list));
    }
  }
}

// Adds every point of a grid's Cartesian product; impossible points are counted, not errors.
void expand_grid(const Reader& r, const json& g, const std::string& where, Sweep& sw) {
  if (!g.is_object()) r.fail(where, "must be an object of axes");
  check_keys(r, g, where + ".", {"dims", "N", "C", "K", "in", "k", "pad", "stride", "dilation", "groups"});
  auto ax = [&](const char* key, int64_t dflt, int64_t min) {
    return g.contains(key) ? r.axis(g[key], where + "." + key, min) : std::vector<int64_t>{dflt};
  };
  auto ex = [&](const char* key, int64_t dflt, int64_t min) {
    return g.contains(key) ? r.extents(g[key], where + "." + key, min) : std::vector<std::vector<int64_t>>{{dflt}};
  };
  if (!g.contains("in")) r.fail(where, "needs an 'in' axis");
  const auto dims = ax("dims", 2, 1);
  for (int64_t d : dims)
    if (d > 3) r.fail(where + ".dims", fmt::format("must be 1, 2 or 3, got {}", d));
  const auto Ns = ax("N", 1, 1), Cs = ax("C", 1, 1), Ks = ax("K", 1, 1), Gs = ax("groups", 1, 1);
  const auto ins = ex("in", 1, 1), ks = ex("k", 1, 1), pads = ex("pad", 0, 0), strides = ex("stride", 1, 1),
             dils = ex("dilation", 1, 1);
  // A one-value extent is repeated over the grid point's dims; an explicit "AxB" must match them.
  auto fit = [&](const std::vector<int64_t>& e, int64_t d, const char* key) -> std::vector<int64_t> {
    if (e.size() == 1) return std::vector<int64_t>(d, e[0]);
    if (static_cast<int64_t>(e.size()) != d)
      r.fail(where + "." + key, fmt::format("has {} extents but dims is {}", e.size(), d));
    return e;
  };
  // Points, possible or not, are bounded before the loops (dropped points cost time too), with
  // those of the grids before.
  double points = static_cast<double>(sw.shapes.size()) + static_cast<double>(sw.dropped), grid = 1;
  for (size_t n : {dims.size(), Ns.size(), Cs.size(), Ks.size(), Gs.size(), ins.size(), ks.size(), pads.size(),
                   strides.size(), dils.size()})
    grid *= static_cast<double>(n);
  if (points + grid > kMaxGridPoints)
    r.fail(where, fmt::format("expands the sweep to more than {} grid points", kMaxGridPoints));
  for (int64_t d : dims)
    for (int64_t N : Ns)
      for (int64_t C : Cs)
        for (int64_t K : Ks)
          for (int64_t G : Gs)
            for (const auto& in : ins)
              for (const auto& k : ks)
                for (const auto& pad : pads)
                  for (const auto& st : strides)
                    for (const auto& dil : dils) {
                      ShapeParams p{N, C, K, G, fit(in, d, "in"), fit(k, d, "k"), fit(pad, d, "pad"),
                                    fit(st, d, "stride"), fit(dil, d, "dilation")};
                      try {
                        sw.shapes.push_back(Shape::make(p));
                      } catch (const ShapeError& e) {
                        if (sw.dropped++ == 0) sw.first_drop_reason = e.what();
                      }
                    }
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1, n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Sweep parse_sweep(std::string_view text, const std::string& origin) {
  const Reader r(origin);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    if (const size_t colon = msg.find(": "); colon != std::string::npos) msg = msg.substr(colon + 2);
    r.fail("not valid JSON: " + msg);
  }
  if (!doc.is_object()) r.fail("must hold a JSON object at the top level");
  check_keys(r, doc, "", {"name", "description", "source", "algorithms", "passes", "precision", "compression",
                          "fft_size", "reps", "grids", "shapes"});
  Sweep sw;
  sw.name = std::filesystem::path(origin).stem().string();
  if (doc.contains("name")) sw.name = r.string(doc["name"], "name");
  if (sw.name.empty() || sw.name.find_first_of(",\"\n\r") != std::string::npos)
    r.fail("name", "must be non-empty without commas, quotes or newlines");
  if (doc.contains("description")) r.string(doc["description"], "description");
  if (doc.contains("source")) sw.source = r.string(doc["source"], "source");
  if (doc.contains("algorithms")) sw.algorithms = r.strings(doc["algorithms"], "algorithms");
  if (doc.contains("passes")) {
    sw.passes = r.strings(doc["passes"], "passes");
    for (size_t i = 0; i < sw.passes.size(); ++i) try {
        parse_pass(sw.passes[i]);
      } catch (const std::invalid_argument&) {
        r.fail(fmt::format("passes[{}]", i), fmt::format("must be fprop, dgrad, wgrad or step, got \"{}\"", sw.passes[i]));
      }
  }
  if (doc.contains("precision")) {
    sw.precisions = r.strings(doc["precision"], "precision");
    for (const auto& p : sw.precisions)
      if (p != "fp32" && p != "tf32") r.fail("precision", fmt::format("must be fp32 or tf32, got \"{}\"", p));
  }
  if (doc.contains("compression")) {
    const json& c = doc["compression"];
    const json list = c.is_array() ? c : json::array({c});
    if (list.empty()) r.fail("compression", "must not be an empty list");
    sw.compression.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number()) r.fail(fmt::format("compression[{}]", i), fmt::format("must be a number in {}, got {}", kCompressionRange, Reader::shown(list[i])));
      const double v = list[i].get<double>();
      if (!compression_in_range(v))
        r.fail(fmt::format("compression[{}]", i), fmt::format("must be in {}, got {}", kCompressionRange, v));
      sw.compression.push_back(v);
    }
  }
  if (doc.contains("fft_size")) {
    const auto names = r.strings(doc["fft_size"], "fft_size");
    sw.fft_size.clear();
    for (const auto& f : names)
      if (const auto policy = parse_fft_size_policy(f)) sw.fft_size.push_back(*policy);
      else r.fail("fft_size", fmt::format("must be \"cheapest\", \"smooth\" or \"pow2\", got \"{}\"", f));
  }
  if (doc.contains("reps")) sw.reps = static_cast<int>(std::min<int64_t>(r.integer(doc["reps"], "reps", 1), 100000));
  if (doc.contains("grids")) {
    const json& gs = doc["grids"];
    if (!gs.is_array()) r.fail("grids", fmt::format("must be a list of objects, got {}", Reader::shown(gs)));
    for (size_t i = 0; i < gs.size(); ++i) expand_grid(r, gs[i], fmt::format("grids[{}]", i), sw);
  }
  if (doc.contains("shapes")) {
    const json& ss = doc["shapes"];
    if (!ss.is_array()) r.fail("shapes", fmt::format("must be a list of shape strings, got {}", Reader::shown(ss)));
    for (size_t i = 0; i < ss.size(); ++i) {
      const std::string key = fmt::format("shapes[{}]", i);
      try {
        sw.shapes.push_back(parse_shape_spec(r.string(ss[i], key)));
      } catch (const SweepError&) {
        throw;
      } catch (const std::invalid_argument& e) {
        r.fail(key, std::string("is invalid: ") + e.what());
      }
    }
  }
  if (!doc.contains("grids") && !doc.contains("shapes")) r.fail("needs 'grids' or 'shapes'");
  // Grids may overlap: keep the first occurrence of every shape, in file order.
  std::set<std::string> seen;
  std::vector<Shape> unique;
  for (auto& s : sw.shapes)
    if (seen.insert(s.to_string()).second) unique.push_back(s);
  sw.shapes = std::move(unique);
  return sw;
}

Sweep load_sweep(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open sweep file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sweep(ss.str(), path);
}

}  // namespace convbench
