#include "host_load.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "env_info.hpp"

namespace convbench {

namespace {

double self_cpu_s() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto s = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  return cpus;
}

}  // namespace

CpuTicks parse_proc_stat(const std::string& text, const std::vector<int>& cpus, double ticks_per_s) {
  CpuTicks t;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice"; the total "cpu" line
    // has no N. Guest time is already inside user and nice.
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || !std::isdigit(static_cast<unsigned char>(line[3]))) continue;
    std::istringstream f(line.substr(3));
    int cpu = -1;
    f >> cpu;
    if (std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) continue;
    double v[8] = {};
    for (double& x : v)
      if (!(f >> x)) x = 0;
    t.busy_s += (v[0] + v[1] + v[2] + v[5] + v[6]) / ticks_per_s;
    t.steal_s += v[7] / ticks_per_s;
    ++t.cpus;
  }
  return t;
}

HostLoad host_load_between(const CpuTicks& before, const CpuTicks& after, double self_s, double wall_s) {
  HostLoad l;
  l.seconds = std::max(0.0, wall_s);
  l.cpus = std::min(before.cpus, after.cpus);
  l.others_cpu_s = std::max(0.0, after.busy_s - before.busy_s - std::max(0.0, self_s));
  l.steal_cpu_s = std::max(0.0, after.steal_s - before.steal_s);
  return l;
}

std::string host_load_warning(const HostLoad& load) {
  const double others = load.others_share(), steal = load.steal_share();
  // /proc/stat counts in ticks (10 ms): a short run needs a few of them before its share means much.
  const bool busy = others >= kBusyHostShare && load.others_cpu_s >= kBusyHostMinCpuS;
  const bool stolen = steal >= kBusyHostShare && load.steal_cpu_s >= kBusyHostMinCpuS;
  if (!busy && !stolen) return "";
  return fmt::format("while this ran, other processes kept {:.0f}% of its {} CPU{} busy and the hypervisor took "
                     "{:.0f}% of them: its times may read slow",
                     100 * others, load.cpus, load.cpus == 1 ? "" : "s", 100 * steal);
}

nlohmann::json to_json(const HostLoad& load) {
  auto r = [](double x) { return std::round(x * 1000) / 1000; };
  return {{"seconds", r(load.seconds)},
          {"cpus", load.cpus},
          {"others_cpu_s", r(load.others_cpu_s)},
          {"steal_cpu_s", r(load.steal_cpu_s)},
          {"others_share", r(load.others_share())},
          {"steal_share", r(load.steal_share())}};
}

HostLoadWatch::HostLoadWatch(std::string proc) : proc_(std::move(proc)), cpus_(affinity_cpus()) {
  start_ = sample();
  start_self_s_ = self_cpu_s();
  start_wall_s_ = wall_s();
}

std::optional<CpuTicks> HostLoadWatch::sample() const {
  std::ifstream in(proc_ + "/stat");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const long hz = sysconf(_SC_CLK_TCK);
  const CpuTicks t = parse_proc_stat(text.str(), cpus_, hz > 0 ? double(hz) : 100.0);
  if (t.cpus == 0) return std::nullopt;
  return t;
}

std::optional<HostLoad> HostLoadWatch::load() const {
  const auto now = sample();
  if (!start_ || !now) return std::nullopt;
  return host_load_between(*start_, *now, self_cpu_s() - start_self_s_, wall_s() - start_wall_s_);
}

void report_host_load(const HostLoadWatch& watch, const std::vector<std::string>& sidecars, const nlohmann::json& run) {
  const auto load = watch.load();
  if (!load || sidecars.empty()) return;
  // The rows are written by now: a sidecar that cannot take the load costs a warning, not the run.
  for (const auto& s : sidecars) try {
      amend_env_sidecar(s, run, "host_load", to_json(*load));
    } catch (const std::exception& e) {
      fmt::print(stderr, "convbench: warning: host_load not recorded: {}\n", e.what());
    }
  if (const std::string w = host_load_warning(*load); !w.empty())
    fmt::print(stderr, "convbench: warning: {} (host_load in {})\n", w, sidecars.front());
}

}  // namespace convbench
