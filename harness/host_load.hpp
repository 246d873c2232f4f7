// Whether other work shared the CPUs while a run timed. A sweep timed beside a build, another
// sweep or a noisy VM neighbour reads slower than the code is (a 5x5 layer's OpenMP barrier can
// wait a whole time slice: 8 ms instead of 3 us), so every timing command records in its env
// sidecar how much CPU time others took on the CPUs it may run on, and warns when that was much.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace convbench {

// Busy and steal time summed over some CPUs of /proc/stat, in seconds.
struct CpuTicks {
  double busy_s = 0;   // user + nice + system + irq + softirq
  double steal_s = 0;  // the hypervisor ran another guest on them
  int cpus = 0;        // how many of the wanted CPUs /proc/stat lists
};
// Sums /proc/stat's "cpuN" lines (text) for the CPUs in `cpus`; ticks_per_s is USER_HZ.
CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus, double ticks_per_s);

struct HostLoad {
  double seconds = 0;       // wall time watched
  int cpus = 0;             // CPUs watched (this process's affinity mask)
  double others_cpu_s = 0;  // busy time of those CPUs not spent by this process
  double steal_cpu_s = 0;
  double others_share() const { return seconds > 0 && cpus > 0 ? others_cpu_s / (seconds * cpus) : 0; }
  double steal_share() const { return seconds > 0 && cpus > 0 ? steal_cpu_s / (seconds * cpus) : 0; }
};

// Above this share of the watched CPUs' time, taken by others or stolen, a run's times are suspect.
inline constexpr double kBusyHostShare = 0.10;
inline constexpr double kBusyHostMinCpuS = 0.05;  // and at least this much CPU time

// From two samples: the CPUs' busy time less this process's own CPU time (self_s), clamped at 0.
HostLoad host_load_between(const CpuTicks& before, const CpuTicks& after, double self_s, double wall_s);
// One line saying what took the CPUs, or empty below kBusyHostShare.
std::string host_load_warning(const HostLoad& load);
nlohmann::json to_json(const HostLoad& load);

// Samples the CPUs of this process's affinity mask when made; load() measures since then
// (nullopt where /proc/stat cannot be read). proc is /proc; tests point it elsewhere.
class HostLoadWatch {
 public:
  explicit HostLoadWatch(std::string proc = "/proc");
  std::optional<HostLoad> load() const;

 private:
  std::optional<CpuTicks> sample() const;
  std::string proc_;
  std::vector<int> cpus_;
  std::optional<CpuTicks> start_;
  double start_self_s_ = 0, start_wall_s_ = 0;
};

// At the end of a timing command: records the load in each sidecar's entry for `run` (as
// "host_load") and prints host_load_warning, if any, to stderr.
void report_host_load(const HostLoadWatch& watch, const std::vector<std::string>& sidecars, const nlohmann::json& run);

}  // namespace convbench
