// The CUDA backend must announce itself honestly: skip (with the reason) when it cannot run.
#include <gtest/gtest.h>

#include "convbench/cuda_info.hpp"

namespace convbench {
namespace {

TEST(CudaDevice, ReportsWhatThisBuildCanSee) {
  const std::string summary = cuda_summary();
  if (!cuda_built()) {
    EXPECT_EQ(cuda_device_count(), 0);
    GTEST_SKIP() << "CUDA tests skipped: " << summary;
  }
  if (cuda_device_count() == 0) {
    EXPECT_NE(summary.find("no CUDA device"), std::string::npos) << summary;
    GTEST_SKIP() << "CUDA tests skipped: " << summary;
  }
  EXPECT_NE(summary.find("sm_"), std::string::npos) << summary;
}

// The env sidecar's device facts (the roofline's ceilings) are read from the device itself.
TEST(CudaDevice, FactsForTheRooflineComeFromTheDevice) {
  const auto facts = cuda_device_facts();
  if (cuda_device_count() == 0) {
    EXPECT_FALSE(facts.has_value());
    GTEST_SKIP() << "CUDA tests skipped: " << cuda_summary();
  }
  ASSERT_TRUE(facts.has_value()) << "a device is present, but its attributes could not be read";
  EXPECT_NE(cuda_summary().find(facts->name), std::string::npos) << facts->name;
  EXPECT_GT(facts->sms, 0);
  EXPECT_GT(facts->l2_bytes, 0);
  EXPECT_GT(facts->memory_bytes, 0);
  EXPECT_GT(fp32_lanes_per_sm(facts->major, facts->minor), 0) << "compute capability " << facts->major << "."
                                                              << facts->minor << " not in the lane table";
  // Any CUDA GPU of the last decade lies within these bounds; a misread attribute (kHz taken
  // for MHz, bits for bytes) does not.
  EXPECT_GT(peak_fp32_flops(*facts), 1e12);
  EXPECT_LT(peak_fp32_flops(*facts), 1e15);
  EXPECT_GT(peak_dram_bytes_per_s(*facts), 5e10);
  EXPECT_LT(peak_dram_bytes_per_s(*facts), 5e13);
}

}  // namespace
}  // namespace convbench
