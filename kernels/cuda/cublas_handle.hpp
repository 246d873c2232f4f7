// An owned cuBLAS handle bound to a stream, with the math mode of AlgoOptions::precision:
// strict fp32 by default (CUBLAS_DEFAULT_MATH never uses TF32), TF32 tensor cores for "tf32".
#pragma once

#include <stdexcept>
#include <string>

#include "convbench/cuda_check.hpp"

namespace convbench::cuda {

class CublasHandle {
 public:
  CublasHandle() = default;
  ~CublasHandle() {
    if (h_) cublasDestroy(h_);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;

  // Creates the handle on first use (outside any timed region) and applies stream and math.
  cublasHandle_t get(cudaStream_t stream, const std::string& precision) {
    if (!h_) CB_CUBLAS(cublasCreate(&h_));
    CB_CUBLAS(cublasSetStream(h_, stream));
    CB_CUBLAS(cublasSetMathMode(h_, math_mode(precision)));
    return h_;
  }

  static cublasMath_t math_mode(const std::string& precision) {
    if (precision == "fp32") return CUBLAS_DEFAULT_MATH;
    if (precision == "tf32") return CUBLAS_TF32_TENSOR_OP_MATH;
    throw std::invalid_argument("unknown precision '" + precision + "' (fp32, tf32)");
  }
  static std::string math_name(const std::string& precision) {
    return precision == "tf32" ? "cuBLAS CUBLAS_TF32_TENSOR_OP_MATH" : "cuBLAS CUBLAS_DEFAULT_MATH (fp32, no TF32)";
  }

 private:
  cublasHandle_t h_ = nullptr;
};

}  // namespace convbench::cuda
