// cpu.onednn: oneDNN's convolution primitives (v2 API) with the library's own algorithm choice
// (convolution_auto) and its own internal memory formats. Our plain NC[D][H]W tensors are reordered
// into the formats oneDNN picks and back; every descriptor, primitive and buffer is made in prepare().
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <initializer_list>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "convbench/baseline_algorithms.hpp"

namespace convbench {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;

// User tensors, in ConvBuffers order. Buffer ids >= kTensors name intermediate memories.
enum Tensor { kX, kW, kDy, kY, kDx, kDw, kTensors };

int pass_bit(Pass p) { return 1 << static_cast<int>(p); }

// Active spatial entries of a 3-long extent (the last s.dims), outermost first, minus `minus`.
memory::dims active(const Shape& s, const Extent& e, int64_t minus = 0) {
  memory::dims d;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) d.push_back(e[i] - minus);
  return d;
}

memory::dims concat(memory::dims head, const memory::dims& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// One primitive to execute: reorder or convolution, with DNNL_ARG_* -> buffer id bindings.
struct Op {
  dnnl::primitive_desc_base pd;
  std::vector<std::pair<int, int>> args;
  int passes = 0;    // pass_bit()s whose run needs this op
  int copy_of = -1;  // input reorders: the user tensor they copy
};

// Everything prepare() materialises, decided without allocating, so that supports(),
// workspace_bytes() and prepare() share one code path.
struct Plan {
  memory::desc user[kTensors];
  bool used[kTensors] = {};
  std::vector<memory::desc> inter;  // buffer id kTensors + i
  std::vector<Op> ops;              // execution order
  std::size_t scratch = 0;          // one user scratchpad shared by all ops (they run in sequence)

  std::size_t workspace() const {
    std::size_t bytes = scratch;
    for (const auto& d : inter) bytes += d.get_size();
    return bytes;
  }
};

dnnl::primitive_attr make_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // so its size is known and allocated up front
  attr.set_fpmath_mode(dnnl::fpmath_mode::strict);        // fp32 math, no implicit down-conversion
  return attr;
}

class PlanBuilder {
 public:
  PlanBuilder(Plan& plan, const dnnl::engine& eng) : plan_(plan), eng_(eng) {}

  // Adds convolution `pd` for pass `p`, with reorders around it wherever oneDNN's chosen format
  // differs from the user's. args: (DNNL_ARG_*, tensor, is_output).
  void add_conv(const dnnl::primitive_desc_base& pd, Pass p,
                std::initializer_list<std::tuple<int, Tensor, bool>> args) {
    Op conv{pd, {}, pass_bit(p)};
    std::vector<Op> after;
    for (const auto& [arg, t, output] : args) {
      plan_.used[t] = true;
      const memory::desc want = pd.query_md(dnnl::query::exec_arg_md, arg);
      if (want == plan_.user[t]) {
        conv.args.emplace_back(arg, t);
      } else if (!output) {
        conv.args.emplace_back(arg, input_copy(t, want, p));
      } else {
        const int id = new_inter(want);
        conv.args.emplace_back(arg, id);
        after.push_back(reorder(id, t, plan_.inter[id - kTensors], plan_.user[t], pass_bit(p)));
      }
    }
    note_scratch(pd);
    plan_.ops.push_back(std::move(conv));
    for (auto& op : after) plan_.ops.push_back(std::move(op));
  }

 private:
  // An input in oneDNN's format; step shares one copy between passes that want the same format.
  int input_copy(Tensor t, const memory::desc& want, Pass p) {
    for (auto& op : plan_.ops)
      if (op.copy_of == t && plan_.inter[op.args[1].second - kTensors] == want) {
        op.passes |= pass_bit(p);
        return op.args[1].second;
      }
    const int id = new_inter(want);
    plan_.ops.push_back(reorder(t, id, plan_.user[t], want, pass_bit(p)));
    plan_.ops.back().copy_of = t;
    return id;
  }

  int new_inter(const memory::desc& d) {
    plan_.inter.push_back(d);
    return kTensors + static_cast<int>(plan_.inter.size()) - 1;
  }

  Op reorder(int from, int to, const memory::desc& from_md, const memory::desc& to_md, int passes) {
    const dnnl::reorder::primitive_desc pd(eng_, from_md, eng_, to_md, make_attr());
    note_scratch(pd);
    return Op{pd, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, passes};
  }

  void note_scratch(const dnnl::primitive_desc_base& pd) {
    plan_.scratch = std::max(plan_.scratch, pd.scratchpad_desc().get_size());
  }

  Plan& plan_;
  const dnnl::engine& eng_;
};

// Throws dnnl::error when oneDNN cannot do (s, p).
Plan make_plan(const Shape& s, Pass p, const dnnl::engine& eng) {
  using dt = memory::data_type;
  const tag data_tag[] = {tag::ncw, tag::nchw, tag::ncdhw};
  const tag w_tag[] = {tag::oiw, tag::oihw, tag::oidhw};
  const tag gw_tag[] = {tag::goiw, tag::goihw, tag::goidhw};
  const int di = s.dims - 1;

  const memory::dims x_dims = concat({s.N, s.C}, active(s, s.in)), y_dims = concat({s.N, s.K}, active(s, s.out));
  // Grouped weights {G, K/G, C/G, k...} are our K x C/G x k buffer read in the same order.
  const memory::dims w_dims = s.groups == 1 ? concat({s.K, s.Cg()}, active(s, s.kernel))
                                            : concat({s.groups, s.Kg(), s.Cg()}, active(s, s.kernel));
  const memory::desc x_md(x_dims, dt::f32, data_tag[di]), y_md(y_dims, dt::f32, data_tag[di]);
  const memory::desc w_md(w_dims, dt::f32, s.groups == 1 ? w_tag[di] : gw_tag[di]);

  Plan plan;
  plan.user[kX] = plan.user[kDx] = x_md;
  plan.user[kW] = plan.user[kDw] = w_md;
  plan.user[kY] = plan.user[kDy] = y_md;

  const memory::desc x_any(x_dims, dt::f32, tag::any), y_any(y_dims, dt::f32, tag::any),
      w_any(w_dims, dt::f32, tag::any);
  // oneDNN counts dilation from 0 (no gaps). Right padding = ours: with our floor-rounded output
  // extent given explicitly, oneDNN's consistency check (in+pl+pr-ext)/stride+1 == out holds.
  const memory::dims strides = active(s, s.stride), dilates = active(s, s.dilation, 1), pad = active(s, s.pad);
  const dnnl::primitive_attr attr = make_attr();

  // The forward descriptor is needed even for dgrad/wgrad alone: it is the backward primitives' hint.
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, algorithm::convolution_auto, x_any, w_any, y_any, strides, dilates, pad, pad},
      attr, eng);

  PlanBuilder b(plan, eng);
  if (pass_covered(p, Pass::fprop))
    b.add_conv(fwd, Pass::fprop, {{DNNL_ARG_SRC, kX, false}, {DNNL_ARG_WEIGHTS, kW, false}, {DNNL_ARG_DST, kY, true}});
  if (pass_covered(p, Pass::dgrad)) {
    const dnnl::convolution_backward_data::primitive_desc bwd(
        {algorithm::convolution_auto, x_any, w_any, y_any, strides, dilates, pad, pad}, attr, eng, fwd);
    b.add_conv(bwd, Pass::dgrad,
               {{DNNL_ARG_DIFF_DST, kDy, false}, {DNNL_ARG_WEIGHTS, kW, false}, {DNNL_ARG_DIFF_SRC, kDx, true}});
  }
  if (pass_covered(p, Pass::wgrad)) {
    const dnnl::convolution_backward_weights::primitive_desc bwd(
        {algorithm::convolution_auto, x_any, w_any, y_any, strides, dilates, pad, pad}, attr, eng, fwd);
    b.add_conv(bwd, Pass::wgrad,
               {{DNNL_ARG_SRC, kX, false}, {DNNL_ARG_DIFF_DST, kDy, false}, {DNNL_ARG_DIFF_WEIGHTS, kDw, true}});
  }
  return plan;
}

// The OpenMP build of oneDNN sizes its kernels by omp_get_max_threads() when a descriptor is
// created and runs with it, so a thread count must hold around both.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()), set_(threads > 0) {
    if (set_) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (set_) omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
  bool set_;
};

class CpuOnednn final : public Algorithm {
 public:
  explicit CpuOnednn(const AlgoOptions& opt) : threads_(opt.threads) {}

  std::string name() const override { return "cpu.onednn"; }
  std::string description() const override {
    const dnnl_version_t* v = dnnl_version();
    return fmt::format(
        "oneDNN {}.{}.{} convolution primitives (convolution_auto, oneDNN-chosen memory formats); 1D/2D/3D, "
        "fprop/dgrad/wgrad/step, pad, stride, dilation, groups",
        v->major, v->minor, v->patch);
  }
  std::string supports(const Shape& s, Pass p) const override {
    ThreadScope threads(threads_);
    try {
      const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
      make_plan(s, p, eng);
      return {};
    } catch (const dnnl::error& e) {
      return fmt::format("oneDNN: {}", e.what());
    }
  }
  std::size_t workspace_bytes(const Shape& s, Pass p) const override {
    ThreadScope threads(threads_);
    try {
      const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
      return make_plan(s, p, eng).workspace();
    } catch (const dnnl::error&) {
      return 0;  // unsupported: supports() gives the reason
    }
  }

  void prepare(const Shape& s, Pass p) override {
    ThreadScope threads(threads_);
    prepared_ = false;
    ops_.clear();  // objects made on the engine go before it could
    buffers_.clear();
    scratch_ = memory();
    if (!engine_) {
      engine_ = dnnl::engine(dnnl::engine::kind::cpu, 0);
      stream_ = dnnl::stream(engine_);
    }
    const Plan plan = make_plan(s, p, engine_);

    for (int t = 0; t < kTensors; ++t)  // pointers bound in run()
      buffers_.push_back(plan.used[t] ? memory(plan.user[t], engine_, DNNL_MEMORY_NONE) : memory());
    for (const auto& d : plan.inter) buffers_.emplace_back(d, engine_);
    if (plan.scratch > 0)
      scratch_ = memory({{static_cast<memory::dim>(plan.scratch)}, memory::data_type::u8, tag::a}, engine_);

    for (const Op& op : plan.ops) {
      Exec e{dnnl::primitive(op.pd.get()), {}, op.passes};
      for (const auto& [arg, id] : op.args) e.args.emplace(arg, buffers_[id]);
      if (plan.scratch > 0) e.args.emplace(DNNL_ARG_SCRATCHPAD, scratch_);
      ops_.push_back(std::move(e));
    }
    detail_ = describe(plan);
    pass_ = p;
    prepared_ = true;
  }

  // "fprop jit:avx512_core; dgrad ...; 3 reorders (x, w, dx)": the implementation oneDNN chose per
  // pass (its impl_info_str) and the user tensors copied to or from its formats inside the run.
  std::string detail() const override { return prepared_ ? detail_ : std::string(); }

  static std::string describe(const Plan& plan) {
    static const char* const kName[kTensors] = {"x", "w", "dy", "y", "dx", "dw"};
    std::string convs, copies;
    bool copied[kTensors] = {};
    int reorders = 0;
    for (const Op& op : plan.ops) {
      if (op.pd.get_kind() == dnnl::primitive::kind::convolution) {
        for (Pass q : {Pass::fprop, Pass::dgrad, Pass::wgrad})
          if (op.passes == pass_bit(q)) convs += fmt::format("{}{} {}", convs.empty() ? "" : "; ", to_string(q),
                                                             op.pd.impl_info_str());
        continue;
      }
      // A reorder: into oneDNN's format from a user tensor, or from its format into one.
      const int user = op.copy_of >= 0 ? op.copy_of : op.args[1].second;
      ++reorders;
      copied[user] = true;  // a tensor two passes want in two formats is copied twice, named once
    }
    for (int t = 0; t < kTensors; ++t)
      if (copied[t]) copies += fmt::format("{}{}", copies.empty() ? "" : ", ", kName[t]);
    return reorders == 0 ? convs : fmt::format("{}; {} reorders ({})", convs, reorders, copies);
  }

  void run(Pass p, const ConvBuffers& t) override {
    if (!prepared_ || !pass_covered(pass_, p))
      throw std::logic_error(fmt::format("cpu.onednn: run({}) without prepare for it", to_string(p)));
    ThreadScope threads(threads_);
    const void* ptr[kTensors] = {t.x, t.w, t.dy, t.y, t.dx, t.dw};
    for (int i = 0; i < kTensors; ++i)
      if (buffers_[i]) buffers_[i].set_data_handle(const_cast<void*>(ptr[i]));  // inputs are only read
    for (auto& op : ops_)
      if (p == Pass::step || (op.passes & pass_bit(p))) op.prim.execute(stream_, op.args);
    stream_.wait();
  }

 private:
  struct Exec {
    dnnl::primitive prim;
    std::unordered_map<int, memory> args;
    int passes;
  };

  int threads_;
  Pass pass_ = Pass::fprop;
  bool prepared_ = false;
  dnnl::engine engine_;  // declared first: destroyed after everything made on it
  dnnl::stream stream_;
  std::vector<memory> buffers_;  // user tensors (kX..kDw), then intermediates
  memory scratch_;
  std::vector<Exec> ops_;
  std::string detail_;
};

}  // namespace

std::unique_ptr<Algorithm> make_cpu_onednn(const AlgoOptions& opt) { return std::make_unique<CpuOnednn>(opt); }

}  // namespace convbench
