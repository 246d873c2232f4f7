// An FFT algorithm run over overlap-save tiles (see tiling.hpp): the planner picks the tile
// size, the inner algorithm runs the tiles as one batched problem, a backend (CPU loops or CUDA
// kernels) copies tensors into tiles and back. One tile: the inner algorithm runs the shape as is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "convbench/algorithm.hpp"
#include "convbench/tiling.hpp"

namespace convbench {

class TiledAlgorithm : public Algorithm {
 public:
  // A tile extent to run, and how the planner chose it (for the row's detail).
  struct TileChoice {
    int64_t extent;
    std::string how;
  };

  TiledAlgorithm(std::string name, std::unique_ptr<Algorithm> inner, const AlgoOptions& opt);

  std::string name() const override { return name_; }
  std::string description() const override;
  Device device() const override { return inner_->device(); }
  std::string supports(const Shape& s, Pass p) const override;
  std::size_t workspace_bytes(const Shape& s, Pass p) const override;
  void prepare(const Shape& s, Pass p) override;
  void run(Pass p, const ConvBuffers& t) override;
  void run_backward(const ConvBuffers& t) override;
  bool reuses_fprop() const override { return inner_->reuses_fprop(); }
  std::string fft_size() const override { return inner_->fft_size(); }
  bool fft_method() const override { return inner_->fft_method(); }
  bool plans_fft_sizes() const override { return inner_->plans_fft_sizes(); }
  void set_stream(void* stream) override;
  void set_stage_clock(StageClock* clock) override;  // the inner algorithm's stages, and the tile copies
  // "tiles 3x3 of 30x30 outputs" (or "one tile"), then the inner algorithm's detail.
  std::string detail() const override;
  // The batch of tiles (the shape itself when it is not cut or cannot run).
  Shape modelled_shape(const Shape& s, Pass p) const override;
  Extent transform_sizes(const Shape& s, Pass p) const override;
  bool filter_spectra_by_dft(const Shape& s, Pass p) const override;
  bool uses_option(std::string_view field) const override { return field == "fft_tile" || inner_->uses_option(field); }
  double modelled_cost(const Shape& s, Pass p) const override;

 protected:
  // Backend: memory on the inner algorithm's device, and the copies (enqueued on stream()).
  virtual std::shared_ptr<float> allocate(int64_t elems) = 0;
  virtual void gather(const TileCopy& g, const float* src, float* tiles) = 0;      // tensor -> tiles
  virtual void sum_tiles(const TileCopy& g, const float* tiles, float* dst) = 0;   // tiles -> tensor
  void* stream() const { return stream_; }
  const AlgoOptions& options() const { return opt_; }

  // Which of the model's finalist tile extents (tile_extent_finalists: cheapest first, every one
  // run by the inner algorithm) s runs, and how that was decided (the row's detail). By default
  // the model's pick; a backend that can time them on the layer overrides it (cpu.fft_tiled).
  virtual TileChoice choose_tiles(const Shape& s, const std::vector<TileCandidate>& finalists) const;
  // How many finalists the planner hands choose_tiles: 1 unless a backend times them (then the
  // whole input joins them when the model puts it within kFinalistSpread).
  virtual size_t tile_finalists() const { return 1; }

 private:
  // The plan prepare() makes; throws std::invalid_argument with the reason when none fits.
  // `how`, when given: how the planner chose the tiles (empty when forced by --fft-tile).
  TilePlan plan(const Shape& s, Pass p, std::string* how = nullptr) const;

  std::string name_;
  std::unique_ptr<Algorithm> inner_;
  AlgoOptions opt_;
  void* stream_ = nullptr;
  std::optional<Pass> prepared_;
  Shape shape_;
  TilePlan plan_;
  std::string tiles_how_;                   // how plan_ was chosen
  std::shared_ptr<float> x_, dy_, y_, dx_;  // tiled tensors (null when the pass needs none)
  bool x_gathered_ = false;                 // x_ holds the tiles of run(fprop)'s x
};

}  // namespace convbench
