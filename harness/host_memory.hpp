// How much host memory this process may still take: the tightest of the machine's
// MemAvailable, a cgroup limit (v2 memory.max or v1 memory.limit_in_bytes, a container's or a
// batch job's) and the process's RLIMIT_AS / RLIMIT_DATA. MemAvailable alone would let a case
// in a memory-limited container start allocating and be OOM-killed, sweep and all.
#pragma once

#include <string>

namespace convbench {

struct MemoryBudget {
  double bytes = 0;
  std::string bound;  // what sets it: "MemAvailable", "cgroup memory.max", "RLIMIT_AS", ...
};

// proc and cgroup_root are /proc and /sys/fs/cgroup; tests point them at a fake tree (the
// rlimits are always this process's own).
MemoryBudget host_memory_available(const std::string& proc = "/proc", const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace convbench
