#include "env_info.hpp"

#include <cblas.h>
#include <dlfcn.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <oneapi/dnnl/dnnl.hpp>
#include <thread>

#include "convbench/cuda_info.hpp"
#include "convbench_git_sha.hpp"
#include "host_memory.hpp"
#include "openblas_core.hpp"

#ifndef CONVBENCH_BUILD_TYPE
#define CONVBENCH_BUILD_TYPE "unknown"
#endif

namespace convbench {

namespace {

// The value of the first /proc/cpuinfo line whose key is `key` (empty when none).
std::string cpuinfo(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    const size_t end = line.find_last_not_of(" \t", colon - 1);
    if (end == std::string::npos || line.compare(0, end + 1, key) != 0) continue;
    const size_t value = line.find_first_not_of(' ', colon + 1);
    return value == std::string::npos ? std::string() : line.substr(value);
  }
  return {};
}

// The FFTW that is loaded, as its fftwf_version names it (SIMD codelets included). Looked up at
// run time, never linked: a reference to that data symbol puts a copy of it, sized by the FFTW of
// the build, into the executable, so another libfftw3f on LD_LIBRARY_PATH would show truncated
// (and make the loader print a warning).
std::string fftw_version() {
  const auto* v = static_cast<const char*>(dlsym(RTLD_DEFAULT, "fftwf_version"));
  return v ? std::string(v) : "unknown";
}

}  // namespace

std::string cpu_label(const std::string& name, const std::string& family, const std::string& model) {
  if (name.empty()) return "unknown CPU";
  if (name.find_first_of("0123456789") != std::string::npos || family.empty() || model.empty()) return name;
  return name + " (family " + family + " model " + model + ")";
}

std::string cpu_model() { return cpu_label(cpuinfo("model name"), cpuinfo("cpu family"), cpuinfo("model")); }

std::string cpu_simd() {
  std::string flags = " ";  // padded, so that every flag is found as " flag "
  flags += cpuinfo("flags");
  flags += ' ';
  std::string out;
  for (const char* f : {"avx512f", "avx512_bf16", "avx2", "fma", "avx", "sse4_2"})
    if (flags.find(std::string(" ") + f + " ") != std::string::npos) {
      if (!out.empty()) out += ' ';
      out += f;
    }
  return out;
}

nlohmann::json environment(const std::string& command_line) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const auto* dv = dnnl::version();
  const MemoryBudget memory = host_memory_available();
  nlohmann::json env = {
      {"date", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(
                                                          std::chrono::system_clock::now())))},
      {"host", std::string(host)},
      {"cpu", cpu_model()},
      {"cpu_simd", cpu_simd()},
      {"cpu_l2_bytes", sysconf(_SC_LEVEL2_CACHE_SIZE)},  // per core; sizes cpu.fft's chunks (0: unknown)
      {"hardware_threads", std::thread::hardware_concurrency()},
      {"omp_threads", omp_get_max_threads()},
      {"memory_bytes", static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE))},
      {"memory_available", {{"bytes", memory.bytes}, {"bound", memory.bound}}},
      {"cuda", cuda_summary()},
      {"versions",
       {{"fftw", fftw_version()},
        {"openblas", std::string(openblas_get_config())},
        {"onednn", fmt::format("{}.{}.{}", dv->major, dv->minor, dv->patch)},
        {"compiler", fmt::format("{} {}", "gcc-compatible", __VERSION__)}}},
      {"git_sha", CONVBENCH_GIT_SHA},
      {"build_type", CONVBENCH_BUILD_TYPE},
      {"command", command_line},
  };
  for (const auto& [k, v] : cuda_versions()) env["versions"][k] = v;
  if (const std::string core = openblas_coretype_note(); !core.empty()) env["openblas_coretype"] = core;
  if (const auto f = cuda_device_facts()) {
    const int lanes = fp32_lanes_per_sm(f->major, f->minor);
    env["gpu"] = {
        {"name", f->name},
        {"compute_capability", fmt::format("{}.{}", f->major, f->minor)},
        {"sms", f->sms},
        {"sm_clock_max_mhz", static_cast<double>(f->sm_clock_khz) / 1e3},
        {"memory_clock_max_mhz", static_cast<double>(f->memory_clock_khz) / 1e3},
        {"memory_bus_bits", f->memory_bus_bits},
        {"l2_bytes", f->l2_bytes},
        {"memory_bytes", f->memory_bytes},
        {"fp32_lanes_per_sm", lanes},
        // The roofline's ceilings; null where the compute capability is not in our table.
        {"peak_fp32_gflops", lanes ? nlohmann::json(peak_fp32_flops(*f) / 1e9) : nlohmann::json()},
        {"peak_dram_gb_per_s", peak_dram_bytes_per_s(*f) / 1e9},
    };
  }
  return env;
}

namespace {

nlohmann::json read_env_sidecar(const std::string& path) {
  nlohmann::json doc = {{"runs", nlohmann::json::array()}};
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    try {
      doc = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(fmt::format("{}: existing env sidecar is not valid JSON", path));
    }
    if (!doc.contains("runs") || !doc["runs"].is_array())
      throw std::runtime_error(fmt::format("{}: existing env sidecar has no 'runs' list", path));
  }
  return doc;
}

void write_env_sidecar(const std::string& path, const nlohmann::json& doc) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << doc.dump(2) << '\n';
    out.flush();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw std::runtime_error(fmt::format("{}: cannot write ({})", tmp, why));
    }
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

void append_env_sidecar(const std::string& path, const nlohmann::json& env) {
  nlohmann::json doc = read_env_sidecar(path);
  doc["runs"].push_back(env);
  write_env_sidecar(path, doc);
}

void amend_env_sidecar(const std::string& path, const nlohmann::json& env, const std::string& key,
                       const nlohmann::json& value) {
  nlohmann::json doc = read_env_sidecar(path);
  auto& runs = doc["runs"];
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (*it == env) {
      (*it)[key] = value;
      write_env_sidecar(path, doc);
      return;
    }
  throw std::runtime_error(fmt::format("{}: this run's entry is gone, cannot add '{}'", path, key));
}

}  // namespace convbench
