// `convbench train`: the seed study's training-step analysis. Trains lenet or fftnet with one
// convolution algorithm and writes one CSV row per minibatch (wall time of forward + backward +
// SGD update, and the loss), per-epoch statistics in FILE.stats.csv, and the env sidecar.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace convbench {

struct TrainOptions {
  std::string net = "lenet", algo;
  int64_t batch = 0, input = 0, kernel = 0;  // 0: the net's default
  int64_t dataset = 0;                       // images per epoch; 0: the net's default (all of --cifar)
  int64_t steps = 0;                         // at most this many minibatches per epoch; 0: all
  int64_t epochs = 1;
  double lr = 0.001, momentum = 0.9;
  uint64_t seed = 1;
  std::string cifar;  // directory with data_batch_*.bin; empty: synthetic data
  std::string fft_size = "cheapest";
  std::string out;    // per-minibatch CSV; "" -> results/<machine>/train_<net>.csv
  bool progress = false;
  std::string command_line;
};

// Runs the training; throws std::exception with a one-line message on bad options or files.
void run_train(const TrainOptions& o);

// "FILE.csv" -> "FILE.stats.csv" (other names get ".stats.csv" appended).
std::string train_stats_path(const std::string& out);

void add_train_command(CLI::App& app, const std::string& command_line);

}  // namespace convbench
