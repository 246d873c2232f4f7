// What the CUDA backend of this build can see. Works in every build: without CUDA it reports so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace convbench {

bool cuda_built();
// Number of usable CUDA devices (0 when none, when the driver is missing, or without CUDA).
int cuda_device_count();
// One line: "built without CUDA", "no CUDA device (reason)" or the device names.
std::string cuda_summary();
// (library, version) of the CUDA runtime, driver, cuFFT, cuBLAS and cuDNN; empty without CUDA.
std::vector<std::pair<std::string, std::string>> cuda_versions();

// The benchmark device's attributes, as the driver reports them, and the peaks they imply: the
// roofline floor of a row is max(model_flops / fp32 peak, model_bytes / DRAM peak).
struct CudaDeviceFacts {
  std::string name;
  int major = 0, minor = 0;      // compute capability
  int sms = 0;                   // multiprocessors
  int64_t sm_clock_khz = 0;      // peak SM clock
  int64_t memory_clock_khz = 0;  // peak memory clock
  int memory_bus_bits = 0;
  int64_t l2_bytes = 0, memory_bytes = 0;
};

// FP32 add/multiply/fused multiply-add results per clock per SM by compute capability (CUDA C++
// Programming Guide, throughput of arithmetic instructions); 0 for one this table does not know.
inline int fp32_lanes_per_sm(int major, int minor) {
  switch (major) {
    case 5: return 128;
    case 6: return minor == 0 ? 64 : 128;
    case 7: return 64;
    case 8: return minor == 0 ? 64 : 128;
    case 9: case 10: case 11: case 12: return 128;
    default: return 0;
  }
}

// Flop/s of FP32 fused multiply-adds on every lane at the peak SM clock (0 when unknown).
inline double peak_fp32_flops(const CudaDeviceFacts& f) {
  return 2.0 * f.sms * fp32_lanes_per_sm(f.major, f.minor) * static_cast<double>(f.sm_clock_khz) * 1e3;
}

// Bytes/s of DRAM: two transfers per memory clock across the bus (the formula of CUDA's
// deviceQuery sample).
inline double peak_dram_bytes_per_s(const CudaDeviceFacts& f) {
  return 2.0 * static_cast<double>(f.memory_clock_khz) * 1e3 * f.memory_bus_bits / 8.0;
}

// The current device's facts; nullopt without CUDA or a device (or when the driver will not say).
std::optional<CudaDeviceFacts> cuda_device_facts();

}  // namespace convbench
