// The host side of the CUDA simulation (see cudasim.hpp): the CUDA runtime calls convbench
// makes, on host memory; cuFFT's batched R2C/C2R through FFTW's advanced interface (the same
// layout parameters); cuBLAS's strided-batched GEMMs through OpenBLAS. Each call checks what
// the real one would refuse (launch configuration, shared memory, GEMM leading dimensions,
// cuFFT work area) and, like compute-sanitizer for library calls, that every buffer a library
// call or copy touches lies inside one device allocation. Fresh device memory is NaN. Work
// enqueued on a stream runs when the host waits for it (see `queues`).
#include <cblas.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>
#include <fftw3.h>
#include <sys/mman.h>
#include <ucontext.h>  // the fibers outside x86-64
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cudasim.hpp"

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace cudasim {
namespace {

// The simulated device: an H100-like part with a small L2 (the harness flushes twice the L2
// per sample) and 8 GiB, so that out-of-memory paths are reachable.
constexpr std::size_t kDeviceBytes = std::size_t(8) << 30;
constexpr int kSharedDefault = 48 << 10, kSharedOptin = 227 << 10, kL2Bytes = 4 << 20, kSms = 132;
constexpr int kSmClockKhz = 1980000, kMemoryClockKhz = 2619000, kMemoryBusBits = 5120;  // H100 SXM's

cudaError_t last_error = cudaSuccess;
cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}

[[noreturn]] void violation(const std::string& what) {
  std::fprintf(stderr, "cudasim: %s\n", what.c_str());
  std::abort();
}

// ---- device memory ---------------------------------------------------------------------------
std::map<std::uintptr_t, std::size_t> allocations;  // start -> bytes
std::size_t allocated = 0;

// [p, p + bytes) inside one allocation, else a memcheck-style report naming `what`.
void check_range(const void* p, std::size_t bytes, const char* what) {
  if (bytes == 0) return;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = allocations.upper_bound(a);
  if (it != allocations.begin()) {
    --it;
    if (a >= it->first && a + bytes <= it->first + it->second) return;
  }
  violation(std::string(what) + ": " + std::to_string(bytes) + " bytes at " + std::to_string(a) +
            " are not inside one device allocation");
}

// ---- fibers: one per thread of the block being run -------------------------------------------
constexpr std::size_t kStackBytes = 256 << 10;

// A stack switch. swapcontext saves and restores the signal mask, a system call on every
// __syncthreads(); on x86-64 a few instructions do instead what a call must preserve
// (callee-saved registers, the stack pointer). Elsewhere ucontext.
#if defined(__x86_64__)
extern "C" void cudasim_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .globl cudasim_switch
  .type cudasim_switch, @function
cudasim_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cudasim_switch, .-cudasim_switch
)");
struct Context {
  void* sp = nullptr;
};
void switch_context(Context& from, Context& to) { cudasim_switch(&from.sp, to.sp); }
// The first switch to c enters entry(): six zero registers, then entry as the return address,
// above it a null one (entry never returns), leaving the stack as a call would (16-byte aligned
// before the return address).
void make_context(Context& c, char* stack, std::size_t bytes, void (*entry)()) {
  auto* top = reinterpret_cast<void**>(reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t(15));
  top[-1] = nullptr;
  top[-2] = reinterpret_cast<void*>(entry);
  for (int i = 3; i <= 8; ++i) top[-i] = nullptr;
  c.sp = top - 8;
}
#else
struct Context {
  ucontext_t uc;
};
void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
// getcontext only fills in what makecontext changes: it does not return a second time.
void make_context(Context& c, char* stack, std::size_t bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
}
#endif

struct Fiber {
  Context ctx;
  char* stack = nullptr;
  uint3 tid;
  bool done = false;
  void* fake_stack = nullptr;  // AddressSanitizer's, while the thread is switched out
};

Context scheduler;
Fiber* current = nullptr;
const std::function<void()>* body = nullptr;
std::vector<Fiber> fibers;
std::vector<char> shared_bytes;

// Stack switches told to AddressSanitizer (it would otherwise take a fiber's stack frames for
// overflows of the scheduler's stack).
#if defined(__SANITIZE_ADDRESS__)
void* scheduler_fake_stack = nullptr;
const void* scheduler_stack = nullptr;
std::size_t scheduler_stack_size = 0;
void to_fiber(Fiber& f) {
  __sanitizer_start_switch_fiber(&scheduler_fake_stack, f.stack, kStackBytes);
  switch_context(scheduler, f.ctx);
  __sanitizer_finish_switch_fiber(scheduler_fake_stack, nullptr, nullptr);
}
void to_scheduler(Fiber& f, bool done) {
  __sanitizer_start_switch_fiber(done ? nullptr : &f.fake_stack, scheduler_stack, scheduler_stack_size);
  switch_context(f.ctx, scheduler);
  __sanitizer_finish_switch_fiber(f.fake_stack, &scheduler_stack, &scheduler_stack_size);
}
void fiber_started() { __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack, &scheduler_stack_size); }
#else
void to_fiber(Fiber& f) { switch_context(scheduler, f.ctx); }
void to_scheduler(Fiber& f, bool) { switch_context(f.ctx, scheduler); }
void fiber_started() {}
#endif

void fiber_main() {
  fiber_started();
  (*body)();
  current->done = true;
  to_scheduler(*current, true);
}

char* stack_for(std::size_t i) {
  static std::vector<char*> stacks;
  while (stacks.size() <= i) {
    void* s = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED) violation("no memory for a thread's stack");
    stacks.push_back(static_cast<char*>(s));
  }
  return stacks[i];
}

std::size_t opted_in_shared = kSharedDefault;  // the largest opt-in any kernel made

// Thread i of a block, ready to start at fiber_main; without `context`, its index only.
[[gnu::noinline]] void start_fiber(Fiber& f, std::size_t i, const dim3& block, bool context) {
  f.done = false;
  f.fake_stack = nullptr;
  f.tid = {unsigned(i % block.x), unsigned(i / block.x % block.y), unsigned(i / (uint64_t(block.x) * block.y))};
  if (!context) return;
  f.stack = stack_for(i);
  make_context(f.ctx, f.stack, kStackBytes, fiber_main);
}

// Rounds: every live thread runs until it waits at the barrier or ends; then the barrier opens
// for all (threads that ended no longer take part, as on sm_70+).
[[gnu::noinline]] void run_block(bool reverse) {
  const std::size_t n = fibers.size();
  for (bool live = true; live;) {
    live = false;
    for (std::size_t i = 0; i < n; ++i) {
      Fiber& f = fibers[reverse ? n - 1 - i : i];
      if (f.done) continue;
      current = &f;
      threadIdx = f.tid;
      to_fiber(f);
      current = nullptr;
      live = live || !f.done;
    }
  }
}

}  // namespace

// Kernels (by name) seen to run a whole launch without a barrier: their later launches run each
// thread straight through on the scheduler's stack, many times faster than on fibers.
std::set<std::string> barrier_free;
const char* running = nullptr;  // the kernel being run
bool fiberless = false, barrier_met = false;

void syncthreads() {
  if (!running) violation("__syncthreads() outside a kernel");
  if (fiberless)
    violation(std::string(running) + " reached __syncthreads() in a launch run without fibers (an earlier " +
              "launch took no barrier): the simulation expects every launch of a kernel to take its barriers");
  barrier_met = true;
  to_scheduler(*current, false);
}

void check_device_range(const void* p, std::size_t bytes, const char* what) { check_range(p, bytes, what); }

// Setup calls and event records in one sequence; the most recent setup calls are kept.
uint64_t sequence = 0;
std::deque<std::pair<uint64_t, std::string>> setup_calls;
void setup_call(const char* what) {
  setup_calls.emplace_back(++sequence, what);
  if (setup_calls.size() > 4096) setup_calls.pop_front();
}

std::set<cudaStream_t> nonblocking_streams;
void check_stream(cudaStream_t s, const char* what) {
  const bool legacy = s == nullptr || s == cudaStreamLegacy;
  if (legacy && !nonblocking_streams.empty())
    violation(std::string(what) + " enqueued on the legacy default stream while a non-blocking stream exists: on a GPU "
              "it is not ordered with that stream's work (set the handle's or launch's stream)");
}

// Each non-blocking stream has a queue; the legacy default stream and the blocking streams share
// one (a GPU orders them with one another; running them in one order is one it may choose). A
// queue runs when the host waits for it: cudaStreamSynchronize, cudaEventSynchronize, a
// synchronous copy (the legacy stream's), a device-to-host cudaMemcpyAsync (to pageable memory it
// returns once done), cudaFree (it synchronises the device), cudnnFind. So a host that reads a
// non-blocking stream's results without waiting for that stream gets what was there before, and
// cudaEventElapsedTime of an event not yet reached stops the run.
std::map<cudaStream_t, std::deque<std::function<void()>>> queues;
cudaStream_t queue_of(cudaStream_t s) { return nonblocking_streams.count(s) ? s : nullptr; }
void enqueue(cudaStream_t s, std::function<void()> op) { queues[queue_of(s)].push_back(std::move(op)); }
void wait_for(cudaStream_t s) {
  auto& q = queues[queue_of(s)];
  while (!q.empty()) {
    const std::function<void()> op = std::move(q.front());
    q.pop_front();
    op();
  }
}
void wait_for_device() {
  for (auto& [s, q] : queues) wait_for(s);
}

void* dynamic_shared_bytes() { return shared_bytes.data(); }

namespace {
// One launch, when its stream's work runs.
void run_launch(const Config& c, const char* kernel, const std::function<void()>& thread) {
  const uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
  gridDim = c.grid, blockDim = c.block;
  body = &thread;
  running = kernel;
  fiberless = barrier_free.count(kernel) > 0, barrier_met = false;
  fibers.assign(threads, Fiber{});
  shared_bytes.assign(c.shared, char(0xff));  // NaN: a kernel must write before it reads
  for (unsigned bz = 0; bz < c.grid.z; ++bz)
    for (unsigned by = 0; by < c.grid.y; ++by)
      for (unsigned bx = 0; bx < c.grid.x; ++bx) {
        blockIdx = {bx, by, bz};
        std::fill(shared_bytes.begin(), shared_bytes.end(), char(0xff));
        // Odd blocks run their threads in reverse order, so that a read the barriers do not
        // order after its write sees the write in one order and not in the other.
        const bool reverse = (bx + by + bz) % 2 == 1;
        if (fiberless) {
          for (std::size_t i = 0; i < threads; ++i) {
            start_fiber(fibers[0], reverse ? threads - 1 - i : i, c.block, false);
            threadIdx = fibers[0].tid;
            thread();
          }
          continue;
        }
        for (std::size_t i = 0; i < threads; ++i) start_fiber(fibers[i], i, c.block, true);
        run_block(reverse);
      }
  if (!fiberless && !barrier_met) barrier_free.insert(kernel);
  body = nullptr, running = nullptr;
}
}  // namespace

void launch(const Config& c, const char* kernel, std::function<void()> thread) {
  const uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
  std::string bad;
  if (threads == 0 || threads > 1024 || c.block.z > 64) bad = "block of " + std::to_string(threads) + " threads";
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || c.grid.y > 65535 || c.grid.z > 65535 ||
      c.grid.x > 0x7fffffffu)
    bad = "grid " + std::to_string(c.grid.x) + "x" + std::to_string(c.grid.y) + "x" + std::to_string(c.grid.z);
  if (c.shared > std::min<std::size_t>(opted_in_shared, kSharedOptin))
    bad = std::to_string(c.shared) + " bytes of dynamic shared memory without the opt-in";
  check_stream(c.stream, kernel);
  if (!bad.empty()) {
    std::fprintf(stderr, "cudasim: launch of %s refused: %s\n", kernel, bad.c_str());
    record(cudaErrorInvalidConfiguration);
    return;
  }
  enqueue(c.stream, [c, kernel, thread = std::move(thread)] { run_launch(c, kernel, thread); });
}

}  // namespace cudasim

using namespace cudasim;

// ---- CUDA runtime ----------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* n) { return *n = 1, cudaSuccess; }
cudaError_t cudaGetDevice(int* d) { return *d = 0, cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return record(d == 0 ? cudaSuccess : cudaErrorInvalidDevice); }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return record(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "cudasim (host simulation)");
  p->major = 9, p->minor = 0;
  p->totalGlobalMem = kDeviceBytes;
  p->sharedMemPerBlock = kSharedDefault, p->sharedMemPerBlockOptin = kSharedOptin;
  p->multiProcessorCount = kSms, p->l2CacheSize = kL2Bytes, p->warpSize = 32;
  p->memoryBusWidth = kMemoryBusBits;
  p->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d != 0) return record(cudaErrorInvalidDevice);
  switch (a) {
    case cudaDevAttrL2CacheSize: return *v = kL2Bytes, cudaSuccess;
    case cudaDevAttrMultiProcessorCount: return *v = kSms, cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: return *v = kSharedOptin, cudaSuccess;
    case cudaDevAttrClockRate: return *v = kSmClockKhz, cudaSuccess;
    case cudaDevAttrMemoryClockRate: return *v = kMemoryClockKhz, cudaSuccess;
    case cudaDevAttrGlobalMemoryBusWidth: return *v = kMemoryBusBits, cudaSuccess;
    default: return record(cudaErrorInvalidValue);
  }
}
cudaError_t cudaDeviceGetPCIBusId(char*, int, int) { return record(cudaErrorNotSupported); }
cudaError_t cudaRuntimeGetVersion(int* v) { return *v = CUDART_VERSION, cudaSuccess; }
cudaError_t cudaDriverGetVersion(int* v) { return *v = 0, cudaSuccess; }

cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  setup_call("cudaMalloc");
  *p = nullptr;
  if (bytes > kDeviceBytes - allocated) return record(cudaErrorMemoryAllocation);
  void* m = nullptr;  // exactly `bytes`, so that AddressSanitizer sees a read one past the end
  if (posix_memalign(&m, 256, std::max<std::size_t>(bytes, 1)) != 0) return record(cudaErrorMemoryAllocation);
  std::memset(m, 0xff, bytes);
  allocations[reinterpret_cast<std::uintptr_t>(m)] = bytes;
  allocated += bytes;
  *p = m;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  setup_call("cudaFree");
  wait_for_device();
  const auto it = allocations.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == allocations.end()) return record(cudaErrorInvalidValue);
  allocated -= it->second;
  allocations.erase(it);
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(std::size_t* free_b, std::size_t* total) {
  *free_b = kDeviceBytes - allocated, *total = kDeviceBytes;
  return cudaSuccess;
}
namespace {
void check_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, const char* what) {
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice)
    check_range(dst, bytes, (std::string(what) + " destination").c_str());
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice)
    check_range(src, bytes, (std::string(what) + " source").c_str());
}
}  // namespace
// The legacy stream's: after its (and the blocking streams') work, not a non-blocking stream's.
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  check_copy(dst, src, bytes, kind, "cudaMemcpy");
  wait_for(nullptr);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
// From pageable host memory the source is staged at the call; to it the call returns once the
// copy is done; device to device it runs with the stream.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
  check_stream(s, "cudaMemcpyAsync");
  check_copy(dst, src, bytes, kind, "cudaMemcpyAsync");
  if (kind == cudaMemcpyDeviceToHost) {
    wait_for(s);
    std::memmove(dst, src, bytes);
  } else if (kind == cudaMemcpyHostToDevice) {
    const auto* from = static_cast<const char*>(src);
    enqueue(s, [dst, staged = std::vector<char>(from, from + bytes)] { std::memcpy(dst, staged.data(), staged.size()); });
  } else {
    enqueue(s, [=] { std::memmove(dst, src, bytes); });
  }
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int v, std::size_t bytes, cudaStream_t s) {
  check_stream(s, "cudaMemsetAsync");
  check_range(p, bytes, "cudaMemsetAsync");
  enqueue(s, [=] { std::memset(p, v, bytes); });
  return cudaSuccess;
}

// Streams and events: see the queues above.
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  setup_call("cudaStreamCreateWithFlags");
  *s = reinterpret_cast<cudaStream_t>(new char);
  if (flags & cudaStreamNonBlocking) nonblocking_streams.insert(*s);
  return cudaSuccess;
}
// Work still queued on s runs, as it would on a GPU after the call returns.
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  wait_for(s);
  queues.erase(s);
  nonblocking_streams.erase(s);
  delete reinterpret_cast<char*>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  wait_for(s);
  return cudaSuccess;
}
namespace {
struct Event {
  double ms = 0;      // host clock when the stream reached the record
  uint64_t seq = 0;   // place of the record call in the sequence of setup calls and records
  cudaStream_t stream = nullptr;
  bool recorded = false, reached = false;
};
Event& event(cudaEvent_t e) { return *reinterpret_cast<Event*>(e); }
}  // namespace
cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = reinterpret_cast<cudaEvent_t>(new Event);
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (event(e).recorded) wait_for_device();  // its records are queued with a pointer to it
  delete &event(e);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  check_stream(s, "cudaEventRecord");
  Event& ev = event(e);
  ev.seq = ++sequence;
  ev.stream = s, ev.recorded = true, ev.reached = false;
  enqueue(s, [&ev, seq = ev.seq] {
    if (ev.seq != seq) return;  // recorded again since
    ev.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    ev.reached = true;
  });
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (event(e).recorded) wait_for(event(e).stream);
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  const uint64_t from = std::min(event(a).seq, event(b).seq), to = std::max(event(a).seq, event(b).seq);
  for (const auto& [seq, what] : setup_calls)
    if (seq > from && seq < to)
      violation(what + " inside a timed region (between the two events cudaEventElapsedTime measures): "
                "allocations, plans, handles and cudnnFind belong before it");
  if (!event(a).reached || !event(b).reached)
    violation(std::string("cudaEventElapsedTime of an event its stream has not reached (a GPU answers ") +
              (event(a).recorded && event(b).recorded ? "cudaErrorNotReady" : "cudaErrorInvalidResourceHandle") +
              "): wait for it with cudaEventSynchronize first");
  *ms = float(event(b).ms - event(a).ms);
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return std::exchange(last_error, cudaSuccess); }
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    default: return "cudaError(other)";
  }
}
const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }

cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > kSharedOptin) return record(cudaErrorInvalidValue);
    opted_in_shared = std::max(opted_in_shared, std::size_t(value));
  }
  return cudaSuccess;
}

// ---- cuFFT: batched R2C / C2R of cufftMakePlanMany64, run by FFTW ---------------------------
namespace {
struct FftPlan {
  int rank = 0;
  long long n[3] = {}, inembed[3] = {}, onembed[3] = {}, istride = 1, idist = 0, ostride = 1, odist = 0, batch = 0;
  long long half[3] = {};  // n with n/2+1 on the last dim: the complex side's extents
  cufftType type = CUFFT_R2C;
  bool made = false, auto_alloc = true;
  void* work = nullptr;
  std::size_t work_bytes = 0;
  cudaStream_t stream = nullptr;
};
std::map<int, FftPlan> fft_plans;
int next_fft = 1;
std::mutex fftw_mutex;

// Elements from the first to one past the last a batch touches in an embedded layout.
long long span(const FftPlan& p, const long long* embed, long long stride, long long dist, const long long* n) {
  long long last = 0, pitch = 1;
  for (int r = p.rank - 1; r >= 0; --r) {
    last += (n[r] - 1) * pitch * stride;
    pitch *= embed[r];
  }
  return (p.batch - 1) * dist + last + 1;
}
}  // namespace

cufftResult cufftCreate(cufftHandle* h) {
  setup_call("cufftCreate");
  *h = next_fft++;
  fft_plans[*h] = FftPlan{};
  return CUFFT_SUCCESS;
}
cufftResult cufftDestroy(cufftHandle h) {
  setup_call("cufftDestroy");
  return fft_plans.erase(h) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}
cufftResult cufftSetAutoAllocation(cufftHandle h, int a) {
  const auto it = fft_plans.find(h);
  if (it == fft_plans.end()) return CUFFT_INVALID_PLAN;
  it->second.auto_alloc = a != 0;
  return CUFFT_SUCCESS;
}
cufftResult cufftSetWorkArea(cufftHandle h, void* w) {
  const auto it = fft_plans.find(h);
  if (it == fft_plans.end()) return CUFFT_INVALID_PLAN;
  check_range(w, it->second.work_bytes, "cufftSetWorkArea");
  it->second.work = w;
  return CUFFT_SUCCESS;
}
cufftResult cufftSetStream(cufftHandle h, cudaStream_t s) {
  const auto it = fft_plans.find(h);
  if (it == fft_plans.end()) return CUFFT_INVALID_PLAN;
  it->second.stream = s;
  return CUFFT_SUCCESS;
}
cufftResult cufftGetVersion(int* v) { return *v = CUFFT_VERSION, CUFFT_SUCCESS; }
cufftResult cufftMakePlanMany64(cufftHandle h, int rank, long long* n, long long* inembed, long long istride,
                                long long idist, long long* onembed, long long ostride, long long odist,
                                cufftType type, long long batch, std::size_t* work) {
  setup_call("cufftMakePlanMany64");
  const auto it = fft_plans.find(h);
  if (it == fft_plans.end()) return CUFFT_INVALID_PLAN;
  if (rank < 1 || rank > 3 || batch < 1 || (type != CUFFT_R2C && type != CUFFT_C2R)) return CUFFT_INVALID_VALUE;
  FftPlan& p = it->second;
  p.rank = rank, p.type = type, p.batch = batch;
  p.istride = istride, p.idist = idist, p.ostride = ostride, p.odist = odist;
  for (int r = 0; r < rank; ++r) {
    if (n[r] < 1) return CUFFT_INVALID_SIZE;
    p.n[r] = n[r];
    p.inembed[r] = inembed ? inembed[r] : n[r];
    p.onembed[r] = onembed ? onembed[r] : n[r];
    p.half[r] = r == rank - 1 ? n[r] / 2 + 1 : n[r];
  }
  // A work area in proportion to the data, so that sharing one across plans is exercised.
  p.work_bytes = std::size_t(span(p, p.inembed, 1, idist, p.n)) * sizeof(float) / 4 + 256;
  p.made = true;
  *work = p.work_bytes;
  return CUFFT_SUCCESS;
}

namespace {
// A transform of plan p (its state at the call), when its stream's work runs.
void run_exec(const FftPlan& p, void* in, void* out);

cufftResult exec(cufftHandle h, void* in, void* out, cufftType type) {
  const auto it = fft_plans.find(h);
  if (it == fft_plans.end() || !it->second.made) return CUFFT_INVALID_PLAN;
  const FftPlan& p = it->second;
  if (p.type != type) return CUFFT_INVALID_TYPE;
  if (!p.auto_alloc && !p.work) violation("cuFFT plan executed without a work area (auto-allocation off)");
  check_stream(p.stream, "cufftExec");
  const bool r2c = type == CUFFT_R2C;
  const std::size_t in_elem = r2c ? sizeof(float) : sizeof(cufftComplex), out_elem = r2c ? sizeof(cufftComplex) : sizeof(float);
  check_range(in, std::size_t(span(p, p.inembed, p.istride, p.idist, r2c ? p.n : p.half)) * in_elem, "cufftExec input");
  check_range(out, std::size_t(span(p, p.onembed, p.ostride, p.odist, r2c ? p.half : p.n)) * out_elem, "cufftExec output");
  enqueue(p.stream, [p, in, out] { run_exec(p, in, out); });
  return CUFFT_SUCCESS;
}

void run_exec(const FftPlan& p, void* in, void* out) {
  const bool r2c = p.type == CUFFT_R2C;
  int n[3], ie[3], oe[3];
  for (int r = 0; r < p.rank; ++r) n[r] = int(p.n[r]), ie[r] = int(p.inembed[r]), oe[r] = int(p.onembed[r]);
  fftwf_plan plan;
  {
    std::lock_guard lock(fftw_mutex);
    plan = r2c ? fftwf_plan_many_dft_r2c(p.rank, n, int(p.batch), static_cast<float*>(in), ie, int(p.istride),
                                         int(p.idist), static_cast<fftwf_complex*>(out), oe, int(p.ostride),
                                         int(p.odist), FFTW_ESTIMATE | FFTW_UNALIGNED)
               : fftwf_plan_many_dft_c2r(p.rank, n, int(p.batch), static_cast<fftwf_complex*>(in), ie, int(p.istride),
                                         int(p.idist), static_cast<float*>(out), oe, int(p.ostride), int(p.odist),
                                         FFTW_ESTIMATE | FFTW_UNALIGNED);
  }
  if (!plan) violation("FFTW could not plan a transform cufftMakePlanMany64 accepted");
  // The work area is scratch, and cuFFT's documentation warns that an out-of-place C2R
  // overwrites its input: both hold NaN afterwards, so that nothing may count on them.
  if (p.work) std::memset(p.work, 0xff, p.work_bytes);
  fftwf_execute(plan);
  if (!r2c && in != out) {  // each input element, not the gaps an embedded layout leaves
    auto* c = static_cast<cufftComplex*>(in);
    const long long n1 = p.rank > 1 ? p.half[1] : 1, n2 = p.rank > 2 ? p.half[2] : 1;
    const long long e1 = p.rank > 1 ? p.inembed[1] : 1, e2 = p.rank > 2 ? p.inembed[2] : 1;
    for (long long b = 0; b < p.batch; ++b)
      for (long long i0 = 0; i0 < p.half[0]; ++i0)
        for (long long i1 = 0; i1 < n1; ++i1)
          for (long long i2 = 0; i2 < n2; ++i2)
            std::memset(c + b * p.idist + ((i0 * e1 + i1) * e2 + i2) * p.istride, 0xff, sizeof(cufftComplex));
  }
  std::lock_guard lock(fftw_mutex);
  fftwf_destroy_plan(plan);
}
}  // namespace

cufftResult cufftExecR2C(cufftHandle h, cufftReal* in, cufftComplex* out) { return exec(h, in, out, CUFFT_R2C); }
cufftResult cufftExecC2R(cufftHandle h, cufftComplex* in, cufftReal* out) { return exec(h, in, out, CUFFT_C2R); }

// ---- cuBLAS: strided-batched GEMMs, column-major, host scalars --------------------------------
struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t* h) {
  setup_call("cublasCreate");
  *h = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
  setup_call("cublasDestroy");
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->math = m;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetProperty(libraryPropertyType t, int* v) {
  *v = t == MAJOR_VERSION ? CUBLAS_VER_MAJOR : t == MINOR_VERSION ? CUBLAS_VER_MINOR : CUBLAS_VER_PATCH;
  return CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusName(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    default: return "CUBLAS_STATUS(other)";
  }
}
const char* cublasGetStatusString(cublasStatus_t s) { return cublasGetStatusName(s); }

namespace {
CBLAS_TRANSPOSE op(cublasOperation_t o) {
  return o == CUBLAS_OP_N ? CblasNoTrans : o == CUBLAS_OP_T ? CblasTrans : CblasConjTrans;
}

// cuBLAS's argument checks, then each matrix of each batch inside its allocation.
template <class T>
cublasStatus_t gemm_checks(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const T* A, int lda, long long sa, const T* B, int ldb, long long sb, const T* C, int ldc,
                           long long sc, int batch) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  check_stream(h->stream, "cuBLAS GEMM");
  const int arows = ta == CUBLAS_OP_N ? m : k, acols = ta == CUBLAS_OP_N ? k : m;
  const int brows = tb == CUBLAS_OP_N ? k : n, bcols = tb == CUBLAS_OP_N ? n : k;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < std::max(1, arows) || ldb < std::max(1, brows) ||
      ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  auto bytes = [](int ld, int rows, int cols) { return (std::size_t(ld) * (cols - 1) + rows) * sizeof(T); };
  for (int b = 0; b < batch; ++b) {
    if (k > 0) {
      check_range(A + b * sa, bytes(lda, arows, acols), "cuBLAS GEMM matrix A");
      check_range(B + b * sb, bytes(ldb, brows, bcols), "cuBLAS GEMM matrix B");
    }
    check_range(C + b * sc, bytes(ldc, m, n), "cuBLAS GEMM matrix C");
  }
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* A, int lda, long long sa,
                                         const float* B, int ldb, long long sb, const float* beta, float* C, int ldc,
                                         long long sc, int batch) {
  if (auto s = gemm_checks(h, ta, tb, m, n, k, A, lda, sa, B, ldb, sb, C, ldc, sc, batch); s != CUBLAS_STATUS_SUCCESS)
    return s;
  // Host scalars are read at the call.
  enqueue(h->stream, [=, a = *alpha, bt = *beta] {
    for (int b = 0; b < batch && m > 0 && n > 0; ++b)
      cblas_sgemm(CblasColMajor, op(ta), op(tb), m, n, k, a, A + b * sa, lda, B + b * sb, ldb, bt, C + b * sc, ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}

namespace {
// op(M) of a column-major complex matrix (rows x cols after op) as its real and imaginary parts,
// column-major with leading dimension rows.
void split_op(cublasOperation_t o, const cuComplex* M, int ld, int rows, int cols, std::vector<float>& re,
              std::vector<float>& im) {
  re.assign(size_t(rows) * cols, 0.0f), im.assign(size_t(rows) * cols, 0.0f);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) {
      const cuComplex v = o == CUBLAS_OP_N ? M[size_t(j) * ld + i] : M[size_t(i) * ld + j];
      re[size_t(j) * rows + i] = v.x;
      im[size_t(j) * rows + i] = o == CUBLAS_OP_C ? -v.y : v.y;
    }
}
}  // namespace

// Gauss's three real products, as cuBLAS's 3m GEMM computes them (so the simulation has its
// rounding, not the four-product GEMM's): with P1 = Ar Br, P2 = Ai Bi, P3 = (Ar + Ai)(Br + Bi),
// op(A) op(B) = (P1 - P2) + i (P3 - P1 - P2).
cublasStatus_t cublasCgemm3mStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                           int k, const cuComplex* alpha, const cuComplex* A, int lda, long long sa,
                                           const cuComplex* B, int ldb, long long sb, const cuComplex* beta,
                                           cuComplex* C, int ldc, long long sc, int batch) {
  if (auto s = gemm_checks(h, ta, tb, m, n, k, A, lda, sa, B, ldb, sb, C, ldc, sc, batch); s != CUBLAS_STATUS_SUCCESS)
    return s;
  enqueue(h->stream, [=, a = *alpha, bt = *beta] {
    std::vector<float> ar, ai, br, bi, p1(size_t(m) * n), p2(size_t(m) * n), p3(size_t(m) * n);
    for (int b = 0; b < batch && m > 0 && n > 0; ++b) {
      split_op(ta, A + b * sa, lda, m, k, ar, ai);
      split_op(tb, B + b * sb, ldb, k, n, br, bi);
      const int la = std::max(1, m), lb = std::max(1, k);
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, ar.data(), la, br.data(), lb, 0.0f,
                  p1.data(), m);
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, ai.data(), la, bi.data(), lb, 0.0f,
                  p2.data(), m);
      for (size_t i = 0; i < ar.size(); ++i) ar[i] += ai[i];
      for (size_t i = 0; i < br.size(); ++i) br[i] += bi[i];
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, ar.data(), la, br.data(), lb, 0.0f,
                  p3.data(), m);
      cuComplex* c = C + b * sc;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          const size_t q = size_t(j) * m + i;
          const float re = p1[q] - p2[q], im = p3[q] - p1[q] - p2[q];
          cuComplex& out = c[size_t(j) * ldc + i];
          const cuComplex old = out;
          const bool keep = bt.x != 0.0f || bt.y != 0.0f;  // beta 0: C is not read (it may be NaN)
          out.x = a.x * re - a.y * im + (keep ? bt.x * old.x - bt.y * old.y : 0.0f);
          out.y = a.x * im + a.y * re + (keep ? bt.x * old.y + bt.y * old.x : 0.0f);
        }
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasCgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const cuComplex* alpha, const cuComplex* A, int lda, long long sa,
                                         const cuComplex* B, int ldb, long long sb, const cuComplex* beta,
                                         cuComplex* C, int ldc, long long sc, int batch) {
  if (auto s = gemm_checks(h, ta, tb, m, n, k, A, lda, sa, B, ldb, sb, C, ldc, sc, batch); s != CUBLAS_STATUS_SUCCESS)
    return s;
  enqueue(h->stream, [=, a = *alpha, bt = *beta] {
    for (int b = 0; b < batch && m > 0 && n > 0; ++b)
      cblas_cgemm(CblasColMajor, op(ta), op(tb), m, n, k, &a, A + b * sa, lda, B + b * sb, ldb, &bt, C + b * sc, ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}
