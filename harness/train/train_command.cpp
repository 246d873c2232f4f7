#include "train/train_command.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>

#include "algorithms.hpp"
#include "commands.hpp"
#include "convbench/fft_size.hpp"
#include "device.hpp"
#include "bench.hpp"
#include "env_info.hpp"
#include "host_load.hpp"
#include "results_csv.hpp"
#include "train/cifar.hpp"
#include "train/network.hpp"

namespace convbench {
namespace {

const char* const kRowHeader =
    "net,algo,batch,input,kernel,epoch,step,time_ms,loss,device,images,dataset,data,conv_passes,threads";
const char* const kStatsHeader =
    "net,algo,batch,input,kernel,epoch,count,min_ms,max_ms,mean_ms,median_ms,std_ms,final_loss,mean_loss,total_ms,"
    "images,dataset,data,conv_passes,threads,device";

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Appends to path, writing the header when the file is new or empty; an existing file must carry
// the same header, so runs of a sweep can share one file.
class LineWriter {
 public:
  LineWriter(const std::string& path, const std::string& header) : path_(path) {
    namespace fs = std::filesystem;
    if (fs::exists(path) && fs::file_size(path) > 0) {
      std::ifstream in(path);
      std::string first;
      std::getline(in, first);
      if (first != header)
        throw std::invalid_argument(fmt::format("{} exists with another header (not a train CSV?): use another --out", path));
    } else {
      if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
      std::ofstream(path) << header << '\n';
    }
    f_ = std::fopen(path.c_str(), "a");
    if (!f_) throw std::runtime_error(fmt::format("{}: cannot open for appending", path));
  }
  ~LineWriter() {
    if (f_) std::fclose(f_);
  }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;
  void write(const std::string& line) {  // flushed per line: an interrupted run keeps its rows
    if (std::fprintf(f_, "%s\n", line.c_str()) < 0 || std::fflush(f_) != 0)
      throw std::runtime_error(fmt::format("{}: write failed", path_));
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

// One stderr line: redrawn in place on a terminal, a plain line every 10 s on a pipe.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO)) {}
  void update(int64_t done, int64_t total, const std::string& label) {
    if (!enabled_) return;
    const auto now = clock::now();
    if (done > 0 && done < total && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(10))) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const std::string eta = done > 0 ? fmt::format("{:.0f}s", elapsed / double(done) * double(total - done)) : "?";
    const std::string line = fmt::format("[{}/{}] {} | elapsed {:.0f}s, ETA {}", done, total, label, elapsed, eta);
    if (tty_) fmt::print(stderr, "\r\033[K{}", line);
    else fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_ && tty_) fmt::print(stderr, "\n");
  }

 private:
  using clock = std::chrono::steady_clock;
  bool enabled_, tty_;
  clock::time_point start_ = clock::now(), last_ = start_;
};

struct EpochStats {
  double min = 0, max = 0, mean = 0, median = 0, std = 0, total = 0;
};

// std is the sample standard deviation (n - 1), as pandas' describe() that the seed's table
// follows; a single minibatch has std 0.
EpochStats stats_of(std::vector<double> v) {
  EpochStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.min = v.front(), s.max = v.back();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.total = std::accumulate(v.begin(), v.end(), 0.0);
  s.mean = s.total / double(n);
  if (n > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / double(n - 1));
  }
  return s;
}

}  // namespace

std::string train_stats_path(const std::string& out) {
  const std::string ext = ".csv";
  if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0)
    return out.substr(0, out.size() - ext.size()) + ".stats.csv";
  return out + ".stats.csv";
}

void run_train(const TrainOptions& o) {
  const bool lenet = o.net == "lenet";
  if (!lenet && o.net != "fftnet") throw std::invalid_argument(fmt::format("--net: unknown '{}' (lenet, fftnet)", o.net));
  if (o.algo.empty()) throw std::invalid_argument("--algo is required (see convbench list)");
  const auto fft_policy = parse_fft_size_policy(o.fft_size);
  if (!fft_policy) throw std::invalid_argument(fmt::format("--fft-size: unknown '{}' (cheapest, smooth, pow2)", o.fft_size));
  auto positive = [](int64_t v, const char* opt) {
    if (v < 0) throw std::invalid_argument(fmt::format("{} must be positive, got {}", opt, v));
  };
  positive(o.batch, "--batch"), positive(o.input, "--input"), positive(o.kernel, "--kernel");
  positive(o.dataset, "--dataset"), positive(o.steps, "--steps");
  if (o.epochs < 1) throw std::invalid_argument(fmt::format("--epochs must be at least 1, got {}", o.epochs));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw std::invalid_argument(fmt::format("--lr must be > 0, got {}", o.lr));
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw std::invalid_argument(fmt::format("--momentum must be in [0, 1), got {}", o.momentum));

  // Defaults: the seed's baseline (lenet on CIFAR-10: batch 128, 50000 images) and the first
  // configuration of its FFT-analysis table (fftnet: batch 8, n = 128, k = 64).
  const int64_t batch = o.batch ? o.batch : lenet ? 128 : 8;
  const int64_t kernel = o.kernel ? o.kernel : lenet ? 5 : 64;
  int64_t input = o.input ? o.input : lenet ? 32 : 128;
  std::unique_ptr<train::Dataset> data;
  if (!o.cifar.empty()) {
    if (o.input && o.input != 32) throw std::invalid_argument(fmt::format("--input {}: CIFAR-10 images are 32x32", o.input));
    input = 32;
  }
  train::NetConfig cfg;
  cfg.net = o.net, cfg.algo = o.algo, cfg.input = input, cfg.kernel = kernel, cfg.seed = o.seed;
  cfg.algo_options.fft_size = *fft_policy;
  if (kernel > input) throw std::invalid_argument(fmt::format("--kernel {} > --input {}", kernel, input));
  make_algorithm(o.algo);  // an unknown name gets make_algorithm's message, listing the known ones
  // Misfit layers (lenet's second conv or a pool left with nothing): one-line errors before any
  // file is touched.
  std::unique_ptr<train::Network> net_ptr;
  try {
    net_ptr = std::make_unique<train::Network>(cfg);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{} with --input {} --kernel {}: {}", o.net, input, kernel, e.what()));
  }
  train::Network& net = *net_ptr;

  if (!o.cifar.empty()) {
    auto c = std::make_unique<train::Cifar10>(o.cifar);
    if (o.dataset > c->size())
      throw std::invalid_argument(fmt::format("--dataset {} > the {} images in {}", o.dataset, c->size(), o.cifar));
    data = std::move(c);
  } else {
    data = std::make_unique<train::FakeData>(o.dataset ? o.dataset : lenet ? 50000 : 100, 3, input, input, o.seed);
  }
  const int64_t images = o.dataset ? o.dataset : data->size();
  if (batch > images) throw std::invalid_argument(fmt::format("--batch {} > the {} images of an epoch", batch, images));
  // Like PyTorch's DataLoader (drop_last=False): the last minibatch may be smaller.
  const int64_t full_steps = (images + batch - 1) / batch;
  const int64_t steps = o.steps ? std::min(o.steps, full_steps) : full_steps;

  // Plans and buffers for every minibatch size the run will meet, outside the timed region.
  net.prepare(batch);
  const int64_t last = images - (full_steps - 1) * batch;
  if (steps == full_steps && last != batch) net.prepare(last);

  const std::string out = o.out.empty() ? fmt::format("results/{}/train_{}.csv", machine_name(), o.net) : o.out;
  LineWriter rows(out, kRowHeader);
  LineWriter stats(train_stats_path(out), kStatsHeader);
  const nlohmann::json env = environment(o.command_line);
  append_env_sidecar(out + ".env.json", env);
  append_env_sidecar(train_stats_path(out) + ".env.json", env);
  const HostLoadWatch host_load;

  // The row's device: the GPU for CUDA algorithms (make_cuda_device names it, or says why none).
  const std::string device =
      make_algorithm(o.algo, {})->device() == Device::cuda ? make_cuda_device()->name() : cpu_model();
  const int threads = omp_get_max_threads();
  const std::string conv_passes = train::Network::conv_passes(o.algo);
  const std::string common = fmt::format("{},{},{},{},{}", o.net, csv_field(o.algo), batch, input, kernel);
  const std::string tail = fmt::format("{},{},{},{}", images, data->name(), conv_passes, threads);
  train::Sgd sgd{o.lr, o.momentum};
  ProgressLine progress(o.progress || isatty(STDERR_FILENO));
  std::vector<float> x(static_cast<size_t>(batch * data->image_elems()));
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  std::vector<int64_t> order(static_cast<size_t>(images));
  std::mt19937_64 shuffle_rng(o.seed ^ 0x5eedf00dull);
  const int64_t total_steps = steps * o.epochs;
  double last_loss = 0;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), shuffle_rng);  // DataLoader(shuffle=True)
    std::vector<double> times, losses;
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t n = std::min(batch, images - step * batch);
      for (int64_t i = 0; i < n; ++i)  // data loading stays outside the timed region
        labels[i] = data->get(order[step * batch + i], x.data() + i * data->image_elems());
      const auto t0 = std::chrono::steady_clock::now();
      const double loss = net.train_step(x.data(), labels.data(), n, sgd);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      times.push_back(ms), losses.push_back(loss), seen += n, last_loss = loss;
      rows.write(fmt::format("{},{},{},{:.6f},{:.7g},{},{},{}", common, epoch, step + 1, ms, loss, csv_field(device), n,
                             tail));
      progress.update((epoch - 1) * steps + step + 1, total_steps,
                      fmt::format("{} {} b{} n{} k{} epoch {} step {} loss {:.4f}", o.net, o.algo, batch, input, kernel,
                                  epoch, step + 1, loss));
    }
    const EpochStats s = stats_of(times);
    const double mean_loss = std::accumulate(losses.begin(), losses.end(), 0.0) / double(losses.size());
    stats.write(fmt::format("{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.7g},{:.7g},{:.6f},{},{},{},{},{},{}", common,
                            epoch, times.size(), s.min, s.max, s.mean, s.median, s.std, losses.back(), mean_loss,
                            s.total, seen, images, data->name(), conv_passes, threads,
                            csv_field(device)));
  }
  progress.finish();
  report_host_load(host_load, {out + ".env.json", train_stats_path(out) + ".env.json"}, env);
  fmt::print(stderr, "convbench: train {} {}: {} epoch(s) x {} minibatch(es), final loss {:.4f}; rows in {}, stats in {}\n",
             o.net, o.algo, o.epochs, steps, last_loss, out, train_stats_path(out));
}

void add_train_command(CLI::App& app, const std::string& command_line) {
  auto* cmd = app.add_subcommand(
      "train", "Train the seed study's lenet or fftnet with one convolution algorithm; per-minibatch step times to CSV");
  auto o = std::make_shared<TrainOptions>();
  o->command_line = command_line;
  // CLI11's PositiveNumber prints the whole double range; this says what is wanted in one line.
  const CLI::Validator positive(
      [](std::string& v) -> std::string {
        int64_t n = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || end != v.data() + v.size() || n < 1) return "must be a positive integer, got '" + v + "'";
        return {};
      },
      "POSITIVE");
  cmd->add_option("--net", o->net, "lenet (3->6 k5, pool, 6->16 k5, pool, 400->120->84->10) or fftnet (3->16 k, pool, ->120->84->10)");
  cmd->add_option("--algo", o->algo, "Convolution algorithm (see convbench list)");
  cmd->add_option("--batch", o->batch, "Minibatch size (default lenet 128, fftnet 8)")->check(positive);
  cmd->add_option("--input", o->input, "Input extent n of the n x n images (default lenet 32, fftnet 128)")->check(positive);
  cmd->add_option("--kernel", o->kernel, "Kernel extent k (default lenet 5, fftnet 64)")->check(positive);
  cmd->add_option("--dataset", o->dataset, "Images per epoch (default: synthetic lenet 50000, fftnet 100; --cifar: all)")->check(positive);
  cmd->add_option("--steps", o->steps, "At most this many minibatches per epoch (default: all)")->check(positive);
  cmd->add_option("--epochs", o->epochs, "Epochs (default 1)")->check(positive);
  cmd->add_option("--lr", o->lr, "SGD learning rate (default 0.001)");
  cmd->add_option("--momentum", o->momentum, "SGD momentum (default 0.9)");
  cmd->add_option("--seed", o->seed, "Seed of the weights, the synthetic data and the shuffling (default 1)");
  cmd->add_option("--cifar", o->cifar, "Directory with CIFAR-10 binary batches data_batch_*.bin (default: synthetic data)");
  cmd->add_option("--fft-size", o->fft_size, kFftSizeHelp);
  cmd->add_option("--out", o->out, "Per-minibatch CSV (default results/<machine>/train_<net>.csv); FILE.stats.csv and FILE.csv.env.json beside it; appended to")
      ->check(kOutputFile);
  cmd->add_flag("--progress", o->progress, "Show the progress line even when stderr is not a terminal");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace convbench
