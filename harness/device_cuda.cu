// BenchDevice for CUDA algorithms (see device.hpp). NVML is opened at run time from the
// driver's libnvidia-ml.so.1, so building needs no NVML development files and a host without
// it still runs (sm_clock_mhz then stays empty).
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "convbench/cuda_check.hpp"
#include "convbench/cuda_info.hpp"
#include "device.hpp"

namespace convbench {
namespace {

using cuda::DeviceBuffer;

// The four NVML entry points we need, declared by hand (stable C ABI of libnvidia-ml).
class Nvml {
 public:
  explicit Nvml(int cuda_device) {
    lib_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) return;
    init_ = reinterpret_cast<Ret (*)()>(dlsym(lib_, "nvmlInit_v2"));
    shutdown_ = reinterpret_cast<Ret (*)()>(dlsym(lib_, "nvmlShutdown"));
    by_pci_ = reinterpret_cast<Ret (*)(const char*, Handle*)>(dlsym(lib_, "nvmlDeviceGetHandleByPciBusId_v2"));
    clock_ = reinterpret_cast<Ret (*)(Handle, int, unsigned*)>(dlsym(lib_, "nvmlDeviceGetClockInfo"));
    if (!init_ || !shutdown_ || !by_pci_ || !clock_ || init_() != 0) return;
    initialized_ = true;
    char bus[64] = {};
    // NVML and CUDA number devices differently; the PCI bus id names the same one in both.
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, cuda_device) != cudaSuccess) {
      (void)cudaGetLastError();
      return;
    }
    ok_ = by_pci_(bus, &device_) == 0;
  }
  ~Nvml() {
    if (initialized_) shutdown_();
    if (lib_) dlclose(lib_);
  }
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // Current SM clock in MHz, 0 when NVML is not available.
  unsigned sm_clock() const {
    unsigned mhz = 0;
    constexpr int kNvmlClockSm = 1;  // NVML_CLOCK_SM
    return ok_ && clock_(device_, kNvmlClockSm, &mhz) == 0 ? mhz : 0;
  }

 private:
  using Ret = int;  // nvmlReturn_t; 0 is NVML_SUCCESS
  using Handle = void*;  // nvmlDevice_t
  void* lib_ = nullptr;
  Ret (*init_)() = nullptr;
  Ret (*shutdown_)() = nullptr;
  Ret (*by_pci_)(const char*, Handle*) = nullptr;
  Ret (*clock_)(Handle, int, unsigned*) = nullptr;
  Handle device_ = nullptr;
  bool initialized_ = false, ok_ = false;
};

// Events recorded on the benchmark's stream at each mark; made before the run (a pool that grows
// only past its first marks), so that marking costs the host an event record.
class EventStageTimer final : public StageTimer {
 public:
  explicit EventStageTimer(cudaStream_t stream) : stream_(stream) {
    try {
      for (int i = 0; i < kPool; ++i) grow();
      CB_CUDA(cudaEventRecord(events_[0], stream_));
    } catch (...) {
      release();
      throw;
    }
  }
  ~EventStageTimer() override { release(); }
  EventStageTimer(const EventStageTimer&) = delete;
  EventStageTimer& operator=(const EventStageTimer&) = delete;

  void mark(const char* stage) override {
    if (names_.size() + 1 >= events_.size()) grow();
    CB_CUDA(cudaEventRecord(events_[names_.size() + 1], stream_));
    names_.emplace_back(stage);
  }
  std::vector<std::pair<std::string, double>> stages() override {
    std::vector<std::pair<std::string, double>> out;
    if (names_.empty()) return out;
    CB_CUDA(cudaEventSynchronize(events_[names_.size()]));
    for (size_t i = 0; i < names_.size(); ++i) {
      float ms = 0;
      CB_CUDA(cudaEventElapsedTime(&ms, events_[i], events_[i + 1]));
      out.emplace_back(names_[i], ms);
    }
    return out;
  }

 private:
  static constexpr int kPool = 40;  // a cuda.fft step marks 3 x 3 forward, 3 GEMM and 3 x 3 inverse stages
  void grow() {
    cudaEvent_t e = nullptr;
    CB_CUDA(cudaEventCreate(&e));
    events_.push_back(e);
  }
  void release() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
    events_.clear();
  }
  cudaStream_t stream_;
  std::vector<cudaEvent_t> events_;  // [0]: the start; [i + 1]: the end of stage i
  std::vector<std::string> names_;
};

class CudaDevice final : public BenchDevice {
 public:
  CudaDevice() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
      (void)cudaGetLastError();
      throw std::runtime_error(cuda_summary());
    }
    CB_CUDA(cudaGetDevice(&device_));
    cudaDeviceProp prop{};
    CB_CUDA(cudaGetDeviceProperties(&prop, device_));
    name_ = prop.name;
    try {
      CB_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      CB_CUDA(cudaEventCreate(&start_));
      CB_CUDA(cudaEventCreate(&stop_));
      int l2 = 0;
      CB_CUDA(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device_));
      // Twice the L2: a memset of it leaves none of the previous sample's data cached.
      flush_ = DeviceBuffer(std::max<std::size_t>(2 * std::size_t(l2), 1 << 20));
      nvml_ = std::make_unique<Nvml>(device_);
    } catch (...) {
      release();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~CudaDevice() override { release(); }
  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;

  std::string name() const override { return name_; }
  void* stream() const override { return stream_; }
  MemoryBudget available_memory() const override {
    std::size_t free_b = 0, total_b = 0;
    CB_CUDA(cudaMemGetInfo(&free_b, &total_b));
    // Our tensors are freed when the shape changes.
    return {double(free_b) + double(tensor_bytes()), "free device memory"};
  }

  void load(const Shape& s, const std::vector<float>& x, const std::vector<float>& w,
            const std::vector<float>& dy) override {
    // Buffers follow the shape; the data is copied every time (callers may change it).
    if (!(loaded_ && shape_ == s)) {
      loaded_ = false;
      for (auto* b : {&x_, &w_, &dy_, &y_, &dx_, &dw_}) b->reset();
      x_ = DeviceBuffer(x.size() * sizeof(float)), w_ = DeviceBuffer(w.size() * sizeof(float));
      dy_ = DeviceBuffer(dy.size() * sizeof(float)), y_ = DeviceBuffer(s.y_elems() * sizeof(float));
      dx_ = DeviceBuffer(s.x_elems() * sizeof(float)), dw_ = DeviceBuffer(s.w_elems() * sizeof(float));
      shape_ = s;
      loaded_ = true;
    }
    // On the benchmark stream: a non-blocking stream does not wait for the legacy one.
    CB_CUDA(cudaMemcpyAsync(x_.get(), x.data(), x_.bytes(), cudaMemcpyHostToDevice, stream_));
    CB_CUDA(cudaMemcpyAsync(w_.get(), w.data(), w_.bytes(), cudaMemcpyHostToDevice, stream_));
    CB_CUDA(cudaMemcpyAsync(dy_.get(), dy.data(), dy_.bytes(), cudaMemcpyHostToDevice, stream_));
    CB_CUDA(cudaStreamSynchronize(stream_));
  }
  void reset_outputs() override {
    for (auto* b : {&y_, &dx_, &dw_}) CB_CUDA(cudaMemsetAsync(b->get(), 0xff, b->bytes(), stream_));  // all-ones: NaN
    CB_CUDA(cudaStreamSynchronize(stream_));
  }
  ConvBuffers buffers() const override {
    return {x_.as<const float>(), w_.as<const float>(), dy_.as<const float>(), y_.as<float>(), dx_.as<float>(),
            dw_.as<float>()};
  }
  const float* output(Pass p) override {
    const DeviceBuffer& src = p == Pass::fprop ? y_ : p == Pass::dgrad ? dx_ : dw_;
    host_.resize(src.bytes() / sizeof(float));
    CB_CUDA(cudaMemcpyAsync(host_.data(), src.get(), src.bytes(), cudaMemcpyDeviceToHost, stream_));
    CB_CUDA(cudaStreamSynchronize(stream_));
    return host_.data();
  }
  void synchronize() override { CB_CUDA(cudaStreamSynchronize(stream_)); }

  void memory_begin() override {
    CB_CUDA(cudaStreamSynchronize(stream_));
    std::size_t total_b = 0;
    CB_CUDA(cudaMemGetInfo(&free_before_, &total_b));
    tensors_before_ = tensor_bytes();
    clock_sum_ = 0, clock_samples_ = 0;  // a case that threw mid-samples left its clocks behind
  }
  // Device memory in use after the warm-up: the tensors plus what the algorithm holds (handles,
  // plans, workspaces; cudaMemGetInfo's view, so the libraries' own allocations count), from
  // memory_begin() on, before the algorithm's first call. Transient allocations freed before
  // the warm-up ends (cudnnFind's trial buffers) are not seen.
  double memory_peak_bytes() override {
    CB_CUDA(cudaStreamSynchronize(stream_));
    std::size_t free_now = 0, total_b = 0;
    CB_CUDA(cudaMemGetInfo(&free_now, &total_b));
    return double(tensors_before_) + double(free_before_) - double(free_now);
  }

  void before_sample() override {
    CB_CUDA(cudaMemsetAsync(flush_.get(), ++flushes_ & 0xff, flush_.bytes(), stream_));
  }
  void start() override { CB_CUDA(cudaEventRecord(start_, stream_)); }
  double stop() override {
    CB_CUDA(cudaEventRecord(stop_, stream_));
    // Sampled before waiting: the host is ahead of the GPU, so for all but the shortest runs the
    // work is still executing (DESIGN: the clock during the run); the events time the GPU alone.
    if (const unsigned mhz = nvml_->sm_clock(); mhz > 0) clock_sum_ += mhz, ++clock_samples_;
    CB_CUDA(cudaEventSynchronize(stop_));
    float ms = 0;
    CB_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
    return ms;
  }
  double sm_clock_mhz() override {
    const double mean = clock_samples_ ? clock_sum_ / clock_samples_ : 0;
    clock_sum_ = 0, clock_samples_ = 0;
    return mean;
  }
  std::unique_ptr<StageTimer> stage_timer() override { return std::make_unique<EventStageTimer>(stream_); }

 private:
  void release() {
    for (auto* b : {&x_, &w_, &dy_, &y_, &dx_, &dw_}) b->reset();
    flush_.reset();
    if (stop_) cudaEventDestroy(stop_), stop_ = nullptr;
    if (start_) cudaEventDestroy(start_), start_ = nullptr;
    if (stream_) cudaStreamDestroy(stream_), stream_ = nullptr;
  }
  std::size_t tensor_bytes() const {
    std::size_t b = 0;
    for (auto* t : {&x_, &w_, &dy_, &y_, &dx_, &dw_}) b += t->bytes();
    return b;
  }

  int device_ = 0;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  DeviceBuffer flush_;
  std::unique_ptr<Nvml> nvml_;
  Shape shape_;
  bool loaded_ = false;
  DeviceBuffer x_, w_, dy_, y_, dx_, dw_;
  std::vector<float> host_;
  std::size_t free_before_ = 0, tensors_before_ = 0;
  int flushes_ = 0;
  double clock_sum_ = 0;
  int clock_samples_ = 0;
};

}  // namespace

std::unique_ptr<BenchDevice> make_cuda_device() { return std::make_unique<CudaDevice>(); }

}  // namespace convbench
