#include "openblas_core.hpp"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace convbench {

namespace {

// Set beside OPENBLAS_CORETYPE when convbench chose it: the core OpenBLAS had picked. It also
// keeps the re-executed program from trying again.
constexpr const char* kDetectedVar = "CONVBENCH_OPENBLAS_DETECTED";

}  // namespace

CpuFeatures host_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512cd = __builtin_cpu_supports("avx512cd");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
#endif
  return f;
}

std::string openblas_core_for(const CpuFeatures& f) {
  // The SkylakeX and Cooperlake kernels use AVX-512 (F, BW, VL, DQ, CD; Cooperlake BF16 too),
  // Haswell's AVX2 and FMA.
  const bool skylakex = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512cd && f.avx2 && f.fma;
  if (skylakex && f.avx512bf16) return "Cooperlake";
  if (skylakex) return "SkylakeX";
  if (f.avx2 && f.fma) return "Haswell";
  return "";
}

void choose_openblas_core(char** argv) {
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  if ((set && *set) || std::getenv(kDetectedVar)) return;  // the user's choice, or already chosen
  if (!std::strstr(openblas_get_config(), "DYNAMIC_ARCH")) return;  // one core built in: nothing to pick
  const std::string detected = openblas_get_corename();
  const std::string better = openblas_core_for(host_cpu_features());
  if (detected != "Prescott" || better.empty()) return;
  setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
  setenv(kDetectedVar, detected.c_str(), 1);
  execv("/proc/self/exe", argv);
  // exec failed: go on with the generic kernels, which the sidecar's OpenBLAS config names
  unsetenv("OPENBLAS_CORETYPE");
}

std::string openblas_coretype_note() {
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  if (!set || !*set) return "";
  const char* detected = std::getenv(kDetectedVar);
  if (!detected) return std::string(set) + " (set by the user)";
  return std::string(set) + " (set by convbench: OpenBLAS took this CPU for " + detected + ")";
}

}  // namespace convbench
