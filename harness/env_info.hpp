// Provenance of a run, written beside every results CSV as <file>.env.json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace convbench {

// Host, CPU model, threads, memory, GPU/driver, library versions, git sha, build type, date.
nlohmann::json environment(const std::string& command_line);
// Appends this run's environment to path's "runs" list (creating the file when absent).
void append_env_sidecar(const std::string& path, const nlohmann::json& env);
// Sets key = value in the last of path's runs that equals env (the entry this run appended).
void amend_env_sidecar(const std::string& path, const nlohmann::json& env, const std::string& key,
                       const nlohmann::json& value);
// The CPU model name from /proc/cpuinfo ("unknown CPU" when unreadable). A name without a model
// number (a VM's "AMD EPYC") gets the family and model numbers, "AMD EPYC (family 26 model 2)":
// hosts of different generations behind one generic name must not share a results folder.
std::string cpu_model();
// cpu_model()'s rule on /proc/cpuinfo's "model name", "cpu family" and "model" values.
std::string cpu_label(const std::string& name, const std::string& family, const std::string& model);
// Which of avx512f, avx512_bf16, avx2, fma, avx and sse4_2 the CPU reports ("avx2 fma avx"),
// empty elsewhere.
std::string cpu_simd();

}  // namespace convbench
