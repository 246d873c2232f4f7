#include "conv_command.hpp"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "algorithms.hpp"
#include "commands.hpp"
#include "convbench/fft_size.hpp"
#include "convbench/algorithm.hpp"
#include "convbench/shape.hpp"
#include "npy.hpp"

namespace convbench {

namespace {

// Everything is taken as text and validated in the callback, so that every bad value gives the
// same one-line "convbench: error: ..." instead of CLI11's multi-line parse-error report.
struct ConvArgs {
  std::string algo, pass, x, w, dy, out;
  std::string pad = "0", stride = "1", dilation = "1", groups = "1";
  std::string fft_size = "cheapest";
  std::string fft_tile = "0";
};

int64_t parse_int(std::string_view text, std::string_view option) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end)
    throw std::invalid_argument(fmt::format("{}: '{}' is not an integer", option, text));
  return v;
}

// "1" or "1,2,3": one value for all dims or one per dim; each at least `min`.
std::vector<int64_t> parse_list(const std::string& text, std::string_view option, int64_t min) {
  std::vector<int64_t> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size())
      throw std::invalid_argument(
          fmt::format("{}: '{}' is not an integer or a comma list of integers (e.g. 1 or 1,2)", option, text));
    if (v < min) throw std::invalid_argument(fmt::format("{}: values must be >= {}, got {}", option, min, v));
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.size() > kMaxDims)
    throw std::invalid_argument(fmt::format("{}: {} values given, at most {} (one per spatial dim)", option,
                                            out.size(), kMaxDims));
  return out;
}

void check_count(const std::vector<int64_t>& v, int dims, std::string_view option, const std::string& x) {
  if (v.size() != 1 && v.size() != static_cast<std::size_t>(dims))
    throw std::invalid_argument(fmt::format("{}: {} values given, but {} has {} spatial dim{} (give 1 or {})",
                                            option, v.size(), x, dims, dims == 1 ? "" : "s", dims));
}

std::string shape_of(const NpyArray& a) { return shape_string(a.shape); }

void run_conv(const ConvArgs& a) {
  if (a.algo.empty()) throw std::invalid_argument("conv: --algo is required");
  if (a.pass.empty()) throw std::invalid_argument("conv: --pass is required (fprop, dgrad or wgrad)");
  const Pass pass = parse_pass(a.pass);
  if (pass == Pass::step)
    throw std::invalid_argument("conv: --pass step is not allowed here (run fprop, dgrad and wgrad one by one)");
  if (a.out.empty()) throw std::invalid_argument("conv: --out is required");
  if (a.x.empty()) throw std::invalid_argument(fmt::format("conv: --x is required for {}", a.pass));
  if (a.w.empty()) throw std::invalid_argument(fmt::format("conv: --w is required for {}", a.pass));
  if (pass == Pass::fprop && !a.dy.empty()) throw std::invalid_argument("conv: --dy is not used by fprop");
  if (pass != Pass::fprop && a.dy.empty())
    throw std::invalid_argument(fmt::format("conv: --dy is required for {}", a.pass));
  // The output is written over whatever --out names: never over an input of this run.
  for (const auto& [flag, path] : {std::pair{"--x", a.x}, {"--w", a.w}, {"--dy", a.dy}}) {
    std::error_code ec;
    if (!path.empty() && std::filesystem::equivalent(a.out, path, ec))
      throw std::invalid_argument(fmt::format("conv: --out {} is the {} input; write the result elsewhere", a.out, flag));
  }

  AlgoOptions opt;
  if (const auto policy = parse_fft_size_policy(a.fft_size)) opt.fft_size = *policy;
  else throw std::invalid_argument(fmt::format("--fft-size: '{}' is not cheapest, smooth or pow2", a.fft_size));
  opt.fft_tile = parse_int(a.fft_tile, "--fft-tile");
  if (opt.fft_tile < 0) throw std::invalid_argument(fmt::format("--fft-tile: must be >= 0, got {}", opt.fft_tile));

  // Cheap checks before any file is read.
  const auto pad = parse_list(a.pad, "--pad", 0);
  const auto stride = parse_list(a.stride, "--stride", 1);
  const auto dilation = parse_list(a.dilation, "--dilation", 1);
  const int64_t groups = parse_int(a.groups, "--groups");
  if (groups < 1) throw std::invalid_argument(fmt::format("--groups: must be >= 1, got {}", groups));
  auto algo = make_algorithm(a.algo, opt);
  if (algo->device() != Device::cpu)
    throw std::invalid_argument(
        fmt::format("algorithm {} is a GPU algorithm; conv runs CPU algorithms only in this build", a.algo));

  // Only the arrays a pass reads are loaded in full; the others supply just their shape.
  NpyArray x, w, dy;
  if (pass == Pass::dgrad) x.shape = read_npy_header(a.x).shape;
  else x = read_npy(a.x);
  if (pass == Pass::wgrad) w.shape = read_npy_header(a.w).shape;
  else w = read_npy(a.w);
  if (pass != Pass::fprop) dy = read_npy(a.dy);

  const auto rank = static_cast<int>(x.shape.size());
  if (rank < 3 || rank > 2 + kMaxDims)
    throw std::invalid_argument(fmt::format(
        "{}: shape {} has rank {}; expected (N, C, spatial...) with 1 to 3 spatial dims (rank 3 to 5)", a.x,
        shape_of(x), rank));
  if (w.shape.size() != x.shape.size())
    throw std::invalid_argument(fmt::format("{}: shape {} has rank {}, but {} has rank {} (w is (K, C/groups, kernel...))",
                                            a.w, shape_of(w), w.shape.size(), a.x, rank));
  const int dims = rank - 2;
  check_count(pad, dims, "--pad", a.x);
  check_count(stride, dims, "--stride", a.x);
  check_count(dilation, dims, "--dilation", a.x);

  ShapeParams p;
  p.N = x.shape[0];
  p.C = x.shape[1];
  p.K = w.shape[0];
  p.groups = groups;
  p.in.assign(x.shape.begin() + 2, x.shape.end());
  p.kernel.assign(w.shape.begin() + 2, w.shape.end());
  p.pad = pad;
  p.stride = stride;
  p.dilation = dilation;
  Shape s;
  try {
    s = Shape::make(p);
  } catch (const ShapeError& e) {
    throw ShapeError(fmt::format("{} {} and {} {}: {}", a.x, shape_of(x), a.w, shape_of(w), e.what()));
  }
  if (w.shape[1] != s.Cg())
    throw std::invalid_argument(
        fmt::format("{}: shape {} has {} input channels per group, but {} {} with groups={} needs C/groups = {}", a.w,
                    shape_of(w), w.shape[1], a.x, shape_of(x), groups, s.Cg()));
  if (pass != Pass::fprop) {
    std::vector<int64_t> want{s.N, s.K};
    for (int i = kMaxDims - dims; i < kMaxDims; ++i) want.push_back(s.out[i]);
    if (dy.shape != want)
      throw std::invalid_argument(fmt::format("{}: shape {} does not match expected {} for {} and {}", a.dy,
                                              shape_of(dy), shape_string(want), a.x, a.w));
  }

  const std::string why = algo->supports(s, pass);
  if (!why.empty())
    throw std::invalid_argument(fmt::format("algorithm {} does not support {} of {}: {}", a.algo, a.pass,
                                            s.to_string(), why));
  algo->prepare(s, pass);

  std::vector<int64_t> out_shape;
  if (pass == Pass::fprop) {
    out_shape = {s.N, s.K};
    for (int i = kMaxDims - dims; i < kMaxDims; ++i) out_shape.push_back(s.out[i]);
  } else {
    out_shape = pass == Pass::dgrad ? x.shape : w.shape;
  }
  const int64_t out_elems = pass == Pass::fprop ? s.y_elems() : pass == Pass::dgrad ? s.x_elems() : s.w_elems();
  // NaN, so any element an algorithm forgets to write shows up in a comparison.
  std::vector<float> out(static_cast<std::size_t>(out_elems), std::numeric_limits<float>::quiet_NaN());

  ConvBuffers b;
  if (pass == Pass::fprop) b = {.x = x.data.data(), .w = w.data.data(), .y = out.data()};
  if (pass == Pass::dgrad) b = {.w = w.data.data(), .dy = dy.data.data(), .dx = out.data()};
  if (pass == Pass::wgrad) b = {.x = x.data.data(), .dy = dy.data.data(), .dw = out.data()};
  algo->run(pass, b);
  write_npy(a.out, out_shape, out.data());
}

}  // namespace

void add_conv_command(CLI::App& app) {
  auto args = std::make_shared<ConvArgs>();
  auto* conv = app.add_subcommand(
      "conv",
      "Run one pass of one CPU algorithm on float32 .npy arrays: fprop reads x, w and writes y; dgrad reads dy, w "
      "(x for its shape) and writes dx; wgrad reads x, dy (w for its shape) and writes dw");
  conv->add_option("--algo", args->algo, "Algorithm name (see `convbench list`)");
  conv->add_option("--pass", args->pass, "fprop, dgrad or wgrad");
  conv->add_option("--x", args->x, "Input x, shape (N, C, spatial...), 1 to 3 spatial dims");
  conv->add_option("--w", args->w, "Weights w, shape (K, C/groups, kernel...)");
  conv->add_option("--dy", args->dy, "Output gradient dy, shape (N, K, out...) (dgrad, wgrad)");
  conv->add_option("--pad", args->pad, "Zero padding: one value for all dims or a comma list, one per dim")
      ->capture_default_str();
  conv->add_option("--stride", args->stride, "Stride: one value or a comma list")->capture_default_str();
  conv->add_option("--dilation", args->dilation, "Dilation: one value or a comma list")->capture_default_str();
  conv->add_option("--groups", args->groups, "Groups (divides C and K)")->capture_default_str();
  conv->add_option("--fft-size", args->fft_size, kFftSizeHelp)->capture_default_str();
  conv->add_option("--fft-tile", args->fft_tile, "Tiled FFT algorithms: tile input extent per dim (0: the planner's)")
      ->capture_default_str();
  conv->add_option("--out", args->out, "Output .npy: y (fprop), dx (dgrad) or dw (wgrad)")->check(kOutputFile);
  conv->callback([args] { run_conv(*args); });
}

}  // namespace convbench
