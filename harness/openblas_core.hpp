// OpenBLAS's kernel choice on CPUs newer than the library.
#pragma once

#include <string>

namespace convbench {

// The instruction-set extensions that decide which OpenBLAS x86-64 kernels a CPU can run.
struct CpuFeatures {
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;
  bool avx512bf16 = false, avx2 = false, fma = false;
};
CpuFeatures host_cpu_features();

// The strongest OpenBLAS core (OPENBLAS_CORETYPE name) whose kernels the features run:
// "Cooperlake", "SkylakeX" or "Haswell"; empty when only the generic kernels fit.
std::string openblas_core_for(const CpuFeatures& f);

// OpenBLAS (DYNAMIC_ARCH) picks its kernels by CPU model when it loads, and can take a model it
// does not know for a Prescott (SSE3): on such a host its GEMMs run 2-3x slower than the CPU allows.
// When that happened, OPENBLAS_CORETYPE is unset and a better core fits, this runs the program
// again (execv) with OPENBLAS_CORETYPE set to it; OpenBLAS reads the variable only when it loads.
// Returns normally in every other case, and when the exec fails.
void choose_openblas_core(char** argv);

// For the env sidecar: the OPENBLAS_CORETYPE in force and who set it, e.g. "Cooperlake (set by
// convbench: OpenBLAS took this CPU for Prescott)"; empty when unset.
std::string openblas_coretype_note();

}  // namespace convbench
