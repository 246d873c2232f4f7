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

}  // namespace
}  // namespace convbench
