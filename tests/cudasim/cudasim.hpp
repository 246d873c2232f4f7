// Host simulation of the CUDA programming model for convbench's kernels (see README.md here):
// included first in every CUDA source that tests/cudasim/translate.py turned into C++. Kernels
// run on the host, a block at a time, each thread on its own fiber; __syncthreads() switches to
// the next thread until all of the block's threads have reached it. The CUDA runtime, cuFFT and
// cuBLAS calls are answered by runtime.cpp (host memory, FFTW, OpenBLAS).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <functional>
#include <tuple>
#include <utility>

// The CUDA headers define these as nothing for a host compiler; shared memory is one copy per
// kernel here (blocks run one after another).
#undef __shared__
#define __shared__ static
#undef __launch_bounds__
#define __launch_bounds__(...)

extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

namespace cudasim {

struct Config {
  dim3 grid, block;
  std::size_t shared = 0;
  cudaStream_t stream = nullptr;
};

// Enqueues on cfg.stream a run of `thread` (one kernel thread's body) for every thread of every
// block of cfg; a bad configuration is recorded for cudaGetLastError, as a launch failure would be.
void launch(const Config& cfg, const char* kernel, std::function<void()> thread);

// A kernel call with its arguments evaluated now, as a launch copies them (translate.py's form of
// a launch): the call runs later, with the stream's work.
template <class Call, class... Args>
std::function<void()> with_arguments(Call call, Args... args) {
  return [call, args = std::make_tuple(std::move(args)...)] { std::apply(call, args); };
}

// Streams run their work when the host waits for it, not when it is enqueued (runtime.cpp):
// `op` joins stream s's queue, with what it reads of the host captured by value.
void enqueue(cudaStream_t s, std::function<void()> op);
// The host waits for stream s: its queued work runs, in order.
void wait_for(cudaStream_t s);

void syncthreads();
// Like compute-sanitizer for library calls: [p, p + bytes) inside one device allocation, else
// the simulation stops with `what` (runtime.cpp's cuFFT, cuBLAS and copies; cudnn.cpp).
void check_device_range(const void* p, std::size_t bytes, const char* what);
// Work enqueued on the legacy default stream while a non-blocking stream exists is not ordered
// with that stream's work on a GPU (here the queues run one at a time, so it would mostly go
// unseen): the simulation stops, naming `what`. convbench puts all its work on the benchmark's
// stream.
void check_stream(cudaStream_t s, const char* what);
// A setup call (allocation, plan, handle, cudnnFind): DESIGN's timing rules keep them out of
// every timed region, so cudaEventElapsedTime stops the simulation when one lies between its
// two events.
void setup_call(const char* what);
void* dynamic_shared_bytes();
template <class T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_bytes());
}

}  // namespace cudasim

inline void __syncthreads() { cudasim::syncthreads(); }
