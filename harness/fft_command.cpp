#include "fft_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "bench.hpp"
#include "commands.hpp"
#include "convbench/cuda_algorithms.hpp"
#include "device.hpp"
#include "env_info.hpp"
#include "host_load.hpp"

namespace convbench {
namespace {

struct FftOptions {
  std::vector<int> dims{1, 2};
  std::vector<int> sizes{8, 12, 16, 24, 32, 48, 64, 96, 128};  // powers of two and mixed radix
  std::vector<std::string> impls = r2c_transform_impls();
  int64_t batch = 16384;
  int reps = 20;
  std::string out;
  std::string command_line;
};

constexpr const char* kHeader =
    "algo,dims,size,batch,direction,status,reason,reps,time_ms,time_min_ms,time_max_ms,gbytes_per_s,device_bytes,"
    "rel_error,device";
constexpr double kTolerance = 1e-5;  // own vs cuFFT spectra, relative L2: both are float FFTs

double rel_l2(const std::vector<std::complex<float>>& a, const std::vector<std::complex<float>>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += std::norm(std::complex<double>(a[i]) - std::complex<double>(b[i])),
                                        den += std::norm(std::complex<double>(b[i]));
  return std::sqrt(num / std::max(den, 1e-300));
}

int run_fft_bench(const FftOptions& o) {
  for (int d : o.dims)
    if (d != 1 && d != 2) throw std::invalid_argument(fmt::format("--dims: {} is not 1 or 2", d));
  for (int n : o.sizes)
    if (n < 2) throw std::invalid_argument(fmt::format("--sizes: {} is below 2", n));
  const auto& known = r2c_transform_impls();
  for (const auto& i : o.impls)
    if (std::find(known.begin(), known.end(), i) == known.end())
      throw std::invalid_argument(fmt::format("--impl: unknown '{}' ({})", i, fmt::join(known, ", ")));
  auto dev = make_cuda_device();  // throws "no CUDA device ..." on a GPU-less host
  const std::string out = o.out.empty() ? "results/" + machine_name() + "/fft_transform_r2c.csv" : o.out;
  if (const auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
  std::ofstream csv(out, std::ios::trunc);
  if (!csv) throw std::runtime_error("cannot write " + out);
  csv << kHeader << '\n' << std::flush;
  const nlohmann::json env = environment(o.command_line);
  append_env_sidecar(out + ".env.json", env);
  const HostLoadWatch host_load;

  int failed = 0;
  for (int dims : o.dims)
    for (int n : o.sizes) {
      std::map<std::string, std::vector<std::complex<float>>> spectra;
      for (const auto& impl : o.impls) {
        const double plane = dims == 2 ? double(n) * n : n, bins = (dims == 2 ? n : 1) * double(n / 2 + 1);
        auto row = [&](const std::string& status, const std::string& reason, const std::vector<double>& t,
                       std::size_t bytes, const std::string& err) {
          std::string times = ",,,";
          if (!t.empty()) {
            const double med = t[t.size() / 2];
            const double gbs = double(o.batch) * (plane * 4 + bins * 8) / (med * 1e-3) / 1e9;  // read + write once
            times = fmt::format("{:.6g},{:.6g},{:.6g},{:.4g}", med, t.front(), t.back(), gbs);
          }
          csv << fmt::format("{},{},{},{},r2c,{},\"{}\",{},{},{},{},{}\n", impl, dims, n, o.batch, status, reason,
                             t.size(), times, bytes ? std::to_string(bytes) : "", err, dev->name())
              << std::flush;
        };
        std::unique_ptr<R2cTransform> r;
        try {
          r = make_r2c_transform(impl, dims, n, o.batch, /*seed=*/uint64_t(1000 * dims + n), dev->stream());
        } catch (const std::invalid_argument& e) {
          row("skipped", e.what(), {}, 0, "");
          continue;
        } catch (const std::bad_alloc& e) {
          row("skipped", std::string("out of memory: ") + e.what(), {}, 0, "");
          continue;
        }
        r->run();  // warm-up
        dev->synchronize();
        std::vector<double> t;
        for (int i = 0; i < o.reps; ++i) {
          dev->before_sample();
          dev->start();
          r->run();
          t.push_back(dev->stop());
        }
        std::sort(t.begin(), t.end());
        spectra[impl] = r->result();
        std::string err, status = "ok", reason;
        if (impl != "cufft" && spectra.count("cufft")) {
          const double e = rel_l2(spectra[impl], spectra["cufft"]);
          err = fmt::format("{:.3g}", e);
          if (!(e <= kTolerance)) status = "failed", reason = fmt::format("differs from cuFFT by {:.3g}", e), ++failed;
        }
        row(status, reason, t, r->device_bytes(), err);
        fmt::print(stderr, "{:>10} {}D n={:<4} batch={} median {:.4f} ms {}\n", impl, dims, n, o.batch, t[t.size() / 2],
                   status);
      }
    }
  report_host_load(host_load, {out + ".env.json"}, env);
  fmt::print(stderr, "wrote {}\n", out);
  return failed ? 3 : 0;
}

}  // namespace

void add_fft_command(CLI::App& app, const std::string& command_line) {
  auto* cmd = app.add_subcommand(
      "fft", "Transform-only benchmark: batched R2C by our small FFT kernels (cuda.fbfft) vs cuFFT, on a CUDA device");
  auto o = std::make_shared<FftOptions>();
  o->command_line = command_line;
  cmd->add_option("--dims", o->dims, "Transform dims, comma list of 1, 2 (default 1,2)")->delimiter(',');
  cmd->add_option("--sizes", o->sizes, "Sizes per dim, comma list (default 8,12,16,24,32,48,64,96,128)")->delimiter(',');
  cmd->add_option("--impl", o->impls,
                  "Implementations, comma list of cufft, cuda.fbfft, cuda.fbfft_split (32 and 64 split in two "
                  "levels; other sizes skipped) (default all)")
      ->delimiter(',');
  cmd->add_option("--batch", o->batch, "Planes per batched transform (default 16384)")->check(kPositiveInteger);
  cmd->add_option("--reps", o->reps, "Timed repetitions (default 20), L2 flushed before each")->check(kPositiveInteger);
  cmd->add_option("--out", o->out, "CSV (default results/<machine>/fft_transform_r2c.csv); FILE.env.json beside it")
      ->check(kOutputFile);
  cmd->callback([o] {
    const int rc = run_fft_bench(*o);
    if (rc) throw std::runtime_error("own transforms differ from cuFFT (rows with status failed)");
  });
}

}  // namespace convbench
