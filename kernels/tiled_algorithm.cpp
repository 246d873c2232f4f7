#include "convbench/tiled_algorithm.hpp"

#include "convbench/fft_size.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace convbench {

namespace {

std::string joined(const Extent& e, int dims) {
  std::string out;
  for (int i = kMaxDims - dims; i < kMaxDims; ++i) {
    if (!out.empty()) out += 'x';
    out += std::to_string(e[i]);
  }
  return out;
}

}  // namespace

TiledAlgorithm::TiledAlgorithm(std::string name, std::unique_ptr<Algorithm> inner, const AlgoOptions& opt)
    : name_(std::move(name)), inner_(std::move(inner)), opt_(opt) {}

std::string TiledAlgorithm::description() const {
  return inner_->name() + " over overlap-save tiles (large inputs, small kernels): the planner picks the tile "
                          "size (--fft-tile forces one), the tiles run as one batch; all passes, step reuse";
}

// The tile size is chosen by the cost of a training step, so that every pass of a layer runs
// the same tiles (and the step the same arithmetic as its separate passes).
TilePlan TiledAlgorithm::plan(const Shape& s, Pass p, std::string* how) const {
  if (opt_.compression != 0)
    throw std::invalid_argument("band-limiting is not offered over tiles (" + inner_->name() + " has it)");
  auto inner_reason = [&](const Shape& run) { return inner_->supports(run, p); };
  if (opt_.fft_tile > 0) {
    TilePlan pl;
    try {
      pl = plan_tiles(s, opt_.fft_tile);
    } catch (const ShapeError& e) {
      throw std::invalid_argument(std::string("--fft-tile: ") + e.what());
    }
    if (std::string why = inner_reason(pl.tiles == 1 ? s : pl.sub); !why.empty())
      throw std::invalid_argument(fmt::format("tiles of {} points: {}", opt_.fft_tile, why));
    return pl;
  }
  const std::vector<TileCandidate> finalists = tile_extent_finalists(
      s, opt_.fft_size, [&](const Shape& run) { return inner_->modelled_cost(run, Pass::step); },
      [&](const Shape& run) { return inner_reason(run).empty(); }, kFinalistSpread, tile_finalists(),
      tile_finalists() > 1);
  if (finalists.empty())
    throw std::invalid_argument("no tile size that " + inner_->name() + " runs (whole shape: " + inner_reason(s) + ")");
  TileChoice choice = choose_tiles(s, finalists);
  if (how) *how = std::move(choice.how);
  return plan_tiles(s, choice.extent);
}

TiledAlgorithm::TileChoice TiledAlgorithm::choose_tiles(const Shape&, const std::vector<TileCandidate>& finalists) const {
  return {finalists.front().extent, ""};
}

Extent TiledAlgorithm::transform_sizes(const Shape& s, Pass p) const {
  return inner_->transform_sizes(modelled_shape(s, p), p);
}

bool TiledAlgorithm::filter_spectra_by_dft(const Shape& s, Pass p) const {
  return inner_->filter_spectra_by_dft(modelled_shape(s, p), p);
}

double TiledAlgorithm::modelled_cost(const Shape& s, Pass p) const {
  return inner_->modelled_cost(modelled_shape(s, p), p);
}

Shape TiledAlgorithm::modelled_shape(const Shape& s, Pass p) const {
  try {
    const TilePlan pl = plan(s, p);
    return pl.tiles == 1 ? s : pl.sub;
  } catch (const std::invalid_argument&) {
    return s;
  }
}

std::string TiledAlgorithm::supports(const Shape& s, Pass p) const {
  try {
    plan(s, p);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

std::size_t TiledAlgorithm::workspace_bytes(const Shape& s, Pass p) const {
  const TilePlan pl = plan(s, p);
  if (pl.tiles == 1) return inner_->workspace_bytes(s, p);
  const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
  const TileCopy in = pl.input(s), out = pl.output(s);
  const int64_t elems = (fp || wg ? in.tiled_elems() : 0) + (dg || wg ? out.tiled_elems() : 0) +
                        (fp ? out.tiled_elems() : 0) + (dg ? in.tiled_elems() : 0);
  return static_cast<std::size_t>(elems) * sizeof(float) + inner_->workspace_bytes(pl.sub, p);
}

void TiledAlgorithm::prepare(const Shape& s, Pass p) {
  prepared_.reset();
  x_.reset(), dy_.reset(), y_.reset(), dx_.reset();
  x_gathered_ = false;
  tiles_how_.clear();
  TilePlan pl;
  try {
    pl = plan(s, p, &tiles_how_);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(name_ + ": " + e.what());
  }
  inner_->prepare(pl.tiles == 1 ? s : pl.sub, p);
  if (pl.tiles > 1) {
    const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
    const TileCopy in = pl.input(s), out = pl.output(s);
    if (fp || wg) x_ = allocate(in.tiled_elems());
    if (dg || wg) dy_ = allocate(out.tiled_elems());
    if (fp) y_ = allocate(out.tiled_elems());
    if (dg) dx_ = allocate(in.tiled_elems());
  }
  shape_ = s;
  plan_ = pl;
  prepared_ = p;
}

void TiledAlgorithm::run(Pass p, const ConvBuffers& t) {
  if (!prepared_) throw std::logic_error(name_ + ": run() before prepare()");
  if (!pass_covered(*prepared_, p))
    throw std::logic_error(name_ + ": prepared for " + std::string(to_string(*prepared_)) + ", cannot run " +
                           std::string(to_string(p)));
  x_gathered_ = false;
  if (plan_.tiles == 1) return inner_->run(p, t);
  const bool fp = pass_covered(p, Pass::fprop), dg = pass_covered(p, Pass::dgrad), wg = pass_covered(p, Pass::wgrad);
  if (!t.x && (fp || wg)) throw std::invalid_argument(name_ + ": missing input tensor x");
  if (!t.dy && (dg || wg)) throw std::invalid_argument(name_ + ": missing input tensor dy");
  if ((fp && !t.y) || (dg && !t.dx)) throw std::invalid_argument(name_ + ": missing output tensor");
  const TileCopy in = plan_.input(shape_), out = plan_.output(shape_);
  if (fp || wg) gather(in, t.x, x_.get());
  if (dg || wg) gather(out, t.dy, dy_.get());
  mark_stage("tiles in");
  inner_->run(p, {x_.get(), t.w, dy_.get(), y_.get(), dx_.get(), t.dw});
  if (fp) sum_tiles(out, y_.get(), t.y);
  if (dg) sum_tiles(in, dx_.get(), t.dx);
  if (fp || dg) mark_stage("tiles out");
  x_gathered_ = p == Pass::fprop;
}

void TiledAlgorithm::run_backward(const ConvBuffers& t) {
  if (prepared_ != Pass::step) throw std::logic_error(name_ + ": run_backward() needs prepare(step)");
  if (plan_.tiles == 1) return inner_->run_backward(t);
  if (!t.dy) throw std::invalid_argument(name_ + ": missing input tensor dy");
  const TileCopy in = plan_.input(shape_), out = plan_.output(shape_);
  if (!x_gathered_ && t.dw) {  // no fprop before: the inner algorithm runs wgrad on its own
    if (!t.x) throw std::invalid_argument(name_ + ": missing input tensor x");
    gather(in, t.x, x_.get());
  }
  x_gathered_ = false;
  gather(out, t.dy, dy_.get());
  mark_stage("tiles in");
  inner_->run_backward({x_.get(), t.w, dy_.get(), nullptr, t.dx ? dx_.get() : nullptr, t.dw});
  if (t.dx) sum_tiles(in, dx_.get(), t.dx), mark_stage("tiles out");
}

void TiledAlgorithm::set_stream(void* stream) {
  stream_ = stream;
  inner_->set_stream(stream);
}

void TiledAlgorithm::set_stage_clock(StageClock* clock) {
  Algorithm::set_stage_clock(clock);
  inner_->set_stage_clock(clock);
}

std::string TiledAlgorithm::detail() const {
  if (!prepared_) return inner_->detail();
  std::string d = plan_.tiles == 1 ? "one tile"
                                   : fmt::format("tiles {} of {} outputs", joined(plan_.count, shape_.dims),
                                                 joined(plan_.sub.out, shape_.dims));
  if (!tiles_how_.empty()) d += "; " + tiles_how_;
  if (std::string inner = inner_->detail(); !inner.empty()) d += "; " + inner;
  return d;
}

}  // namespace convbench
