#include "host_memory.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace convbench {
namespace {

namespace fs = std::filesystem;

// A cgroup file's single number; nothing for "max", an absent or unreadable file.
std::optional<double> read_number(const fs::path& file) {
  std::ifstream in(file);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "key value" lines (memory.stat, meminfo without its "kB").
std::map<std::string, double> read_keyed(const fs::path& file) {
  std::map<std::string, double> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    double value = 0;
    if (words >> key >> value) {
      if (!key.empty() && key.back() == ':') key.pop_back();
      out[key] = value;
    }
  }
  return out;
}

// /proc/self/cgroup: the v2 path ("0::/a/b") and the v1 memory controller's path.
struct CgroupPaths {
  std::optional<std::string> v2, v1_memory;
};

CgroupPaths cgroup_paths(const fs::path& proc) {
  CgroupPaths out;
  std::ifstream in(proc / "self" / "cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (id == "0" && controllers.empty()) out.v2 = path;
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "memory") out.v1_memory = path;
  }
  return out;
}

// The cgroup's folder under the mount, outermost first: its ancestors too when the path exists
// there (the effective limit is the tightest on the way up); only the mount's root when it does
// not (a container's namespaced view, where the mount root is the container's own cgroup).
std::vector<fs::path> cgroup_dirs(const fs::path& mount, const std::string& path) {
  std::vector<fs::path> dirs{mount};
  const fs::path leaf = mount / fs::path(path).relative_path();
  std::error_code ec;
  if (path.empty() || path == "/" || !fs::is_directory(leaf, ec)) return dirs;
  fs::path dir = mount;
  for (const auto& part : fs::path(path).relative_path()) dirs.push_back(dir /= part);
  return dirs;
}

void tighten(MemoryBudget& budget, double bytes, const char* bound) {
  bytes = std::max(0.0, bytes);
  if (bytes < budget.bytes) budget = {bytes, bound};
}

// Limits of 2^60 bytes and more mean "unlimited" (cgroup v1 writes one as 2^63 - a page).
constexpr double kUnlimited = 1152921504606846976.0;

}  // namespace

MemoryBudget host_memory_available(const std::string& proc_dir, const std::string& cgroup_root) {
  const fs::path proc(proc_dir), root(cgroup_root);
  MemoryBudget budget;
  const auto meminfo = read_keyed(proc / "meminfo");
  if (auto it = meminfo.find("MemAvailable"); it != meminfo.end())
    budget = {it->second * 1024, "MemAvailable"};
  else
    budget = {double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE)), "physical memory"};

  // Page cache the kernel can reclaim (inactive files) does not count as used.
  const CgroupPaths paths = cgroup_paths(proc);
  if (paths.v2)
    for (const fs::path& dir : cgroup_dirs(root, *paths.v2)) {
      const auto limit = read_number(dir / "memory.max");
      if (!limit || *limit >= kUnlimited) continue;
      const double used = read_number(dir / "memory.current").value_or(0);
      const double reclaimable = read_keyed(dir / "memory.stat")["inactive_file"];
      tighten(budget, *limit - std::max(0.0, used - reclaimable), "cgroup memory.max");
    }
  if (paths.v1_memory)
    for (const fs::path& dir : cgroup_dirs(root / "memory", *paths.v1_memory)) {
      auto stat = read_keyed(dir / "memory.stat");
      double limit = read_number(dir / "memory.limit_in_bytes").value_or(kUnlimited);
      if (stat.count("hierarchical_memory_limit")) limit = std::min(limit, stat["hierarchical_memory_limit"]);
      if (limit >= kUnlimited) continue;
      const double used = read_number(dir / "memory.usage_in_bytes").value_or(0);
      tighten(budget, limit - std::max(0.0, used - stat["total_inactive_file"]), "cgroup memory.limit_in_bytes");
    }

  // The process's own limits, against what it has mapped so far (statm: pages of the whole
  // address space, and of data + stack).
  std::ifstream statm("/proc/self/statm");
  double pages[6] = {};
  for (double& p : pages) statm >> p;
  const double page = double(sysconf(_SC_PAGE_SIZE));
  struct rlimit lim{};
  if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    tighten(budget, double(lim.rlim_cur) - pages[0] * page, "RLIMIT_AS");
  if (getrlimit(RLIMIT_DATA, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    tighten(budget, double(lim.rlim_cur) - pages[5] * page, "RLIMIT_DATA");
  return budget;
}

}  // namespace convbench
