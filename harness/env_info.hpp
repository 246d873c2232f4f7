// Provenance of a run, written beside every results CSV as <file>.env.json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace convbench {

// Host, CPU model, threads, memory, GPU/driver, library versions, git sha, build type, date.
nlohmann::json environment(const std::string& command_line);
// Appends this run's environment to path's "runs" list (creating the file when absent).
void append_env_sidecar(const std::string& path, const nlohmann::json& env);
// The CPU model name from /proc/cpuinfo ("unknown CPU" when unreadable).
std::string cpu_model();

}  // namespace convbench
