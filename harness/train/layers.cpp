#include "train/layers.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "algorithms.hpp"
#ifdef CONVBENCH_HAVE_CUDA
#include "convbench/cuda_check.hpp"
#endif

namespace convbench::train {

#ifdef CONVBENCH_HAVE_CUDA
struct Conv2d::DeviceTensors {
  cuda::DeviceBuffer x, w, y, dy, dx, dw;
  // The legacy default stream (the algorithms' default): cudaMemcpy orders with their work.
  static float* sized(cuda::DeviceBuffer& b, const std::vector<float>& like) {
    if (b.bytes() != like.size() * sizeof(float)) b = cuda::DeviceBuffer(like.size() * sizeof(float));
    return b.as<float>();
  }
  static float* put(cuda::DeviceBuffer& b, const std::vector<float>& h) {
    float* d = sized(b, h);
    CB_CUDA(cudaMemcpy(d, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
    return d;
  }
  static void get(std::vector<float>& h, const cuda::DeviceBuffer& b) {
    CB_CUDA(cudaMemcpy(h.data(), b.get(), h.size() * sizeof(float), cudaMemcpyDeviceToHost));
  }
};
#else
struct Conv2d::DeviceTensors {};
#endif

Conv2d::~Conv2d() = default;

int64_t volume(const Dims& d) {
  int64_t v = 1;
  for (int64_t e : d) v *= e;
  return v;
}

std::string to_string(const Dims& d) {
  std::string s;
  for (int64_t e : d) {
    if (!s.empty()) s += 'x';
    s += std::to_string(e);
  }
  return s;
}

void Tensor::reshape(const Dims& d) {
  dims = d;
  data.resize(static_cast<size_t>(volume(d)));
}

void init_uniform(Param& p, int64_t fan_in, std::mt19937_64& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  std::uniform_real_distribution<float> u(-bound, bound);
  for (auto& v : p.value) v = u(rng);
}

// --- Conv2d ---------------------------------------------------------------------------------

Conv2d::Conv2d(std::string name, int64_t in_channels, int64_t out_channels, int64_t kernel, std::string algo,
               const AlgoOptions& opt, std::mt19937_64& init_rng)
    : name_(std::move(name)),
      algo_(std::move(algo)),
      C_(in_channels),
      K_(out_channels),
      k_(kernel),
      opt_(opt),
      weight_(name_ + ".weight", out_channels * in_channels * kernel * kernel),
      bias_(name_ + ".bias", out_channels) {
  // Fails early, with make_algorithm's message, on a name this build does not have.
  const auto probe = make_algorithm(algo_, opt_);
  if (probe->device() == Device::cuda) dev_ = std::make_unique<DeviceTensors>();
  init_uniform(weight_, C_ * k_ * k_, init_rng);
  init_uniform(bias_, C_ * k_ * k_, init_rng);
}

Shape Conv2d::shape_for(const Dims& in) const {
  if (in.size() != 4 || in[1] != C_)
    throw std::invalid_argument(fmt::format("{}: expects N x {} x H x W input, got {}", name_, C_, to_string(in)));
  ShapeParams p;
  p.N = in[0], p.C = C_, p.K = K_;
  p.in = {in[2], in[3]};
  p.kernel = {k_, k_};
  try {
    return Shape::make(p);
  } catch (const ShapeError& e) {
    throw std::invalid_argument(fmt::format("{}: {}", name_, e.what()));
  }
}

Dims Conv2d::output_dims(const Dims& in) const {
  const Shape s = shape_for(in);
  return {s.N, s.K, s.out[1], s.out[2]};
}

Algorithm& Conv2d::prepared(const Dims& in) {
  std::unique_ptr<Algorithm>& a = by_batch_[in[0]];
  if (!a) {
    const Shape s = shape_for(in);
    auto made = make_algorithm(algo_, opt_);
    if (std::string why = made->supports(s, Pass::step); !why.empty())
      throw std::invalid_argument(fmt::format("{}: {} cannot run {}: {}", name_, algo_, s.to_string(), why));
    made->prepare(s, Pass::step);
    a = std::move(made);
  }
  return *a;
}

void Conv2d::prepare(const Dims& in, bool) { prepared(in); }

void Conv2d::forward(const Tensor& x, Tensor& y) {
  Algorithm& algo = prepared(x.dims);
  y.reshape(output_dims(x.dims));
  ConvBuffers t;
  t.x = x.data.data(), t.w = weight_.value.data(), t.y = y.data.data();
#ifdef CONVBENCH_HAVE_CUDA
  if (dev_) {
    t.x = DeviceTensors::put(dev_->x, x.data), t.w = DeviceTensors::put(dev_->w, weight_.value);
    t.y = DeviceTensors::sized(dev_->y, y.data);
    algo.run(Pass::fprop, t);
    DeviceTensors::get(y.data, dev_->y);
  } else {
    algo.run(Pass::fprop, t);
  }
#else
  algo.run(Pass::fprop, t);
#endif
  const int64_t N = y.dims[0], plane = y.dims[2] * y.dims[3];
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K_; ++k) {
      float* yk = y.data.data() + (n * K_ + k) * plane;
      const float b = bias_.value[k];
      for (int64_t i = 0; i < plane; ++i) yk[i] += b;
    }
}

void Conv2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  Algorithm& algo = prepared(x.dims);
  ConvBuffers t;
  t.x = x.data.data(), t.w = weight_.value.data(), t.dy = dy.data.data(), t.dw = weight_.grad.data();
  if (dx) {
    dx->reshape(x.dims);
    t.dx = dx->data.data();
  }
#ifdef CONVBENCH_HAVE_CUDA
  if (dev_) {  // x and w are still on the device from forward()
    t.x = dev_->x.as<float>(), t.w = dev_->w.as<float>(), t.dy = DeviceTensors::put(dev_->dy, dy.data);
    t.dw = DeviceTensors::sized(dev_->dw, weight_.grad);
    if (dx) t.dx = DeviceTensors::sized(dev_->dx, dx->data);
    algo.run_backward(t);
    if (dx) DeviceTensors::get(dx->data, dev_->dx);
    DeviceTensors::get(weight_.grad, dev_->dw);
  } else {
    algo.run_backward(t);  // forward() ran on this x and w
  }
#else
  algo.run_backward(t);  // forward() ran on this x and w
#endif
  const int64_t N = y.dims[0], plane = y.dims[2] * y.dims[3];
  for (int64_t k = 0; k < K_; ++k) {
    double sum = 0;  // long reductions (batch x 65 x 65) lose digits in fp32
    for (int64_t n = 0; n < N; ++n) {
      const float* g = dy.data.data() + (n * K_ + k) * plane;
      for (int64_t i = 0; i < plane; ++i) sum += g[i];
    }
    bias_.grad[k] = static_cast<float>(sum);
  }
}

// --- ReLU -----------------------------------------------------------------------------------

void ReLU::forward(const Tensor& x, Tensor& y) {
  y.reshape(x.dims);
  const int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) y.data[i] = x.data[i] > 0.0f ? x.data[i] : 0.0f;
}

void ReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->reshape(x.dims);
  const int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) dx->data[i] = x.data[i] > 0.0f ? dy.data[i] : 0.0f;
}

// --- MaxPool2 -------------------------------------------------------------------------------

Dims MaxPool2::output_dims(const Dims& in) const {
  if (in.size() != 4) throw std::invalid_argument(fmt::format("{}: expects N x C x H x W input, got {}", name_, to_string(in)));
  if (in[2] < 2 || in[3] < 2)
    throw std::invalid_argument(fmt::format("{}: 2x2 max-pool needs an input of at least 2x2, got {}x{}", name_, in[2], in[3]));
  return {in[0], in[1], in[2] / 2, in[3] / 2};
}

void MaxPool2::forward(const Tensor& x, Tensor& y) {
  y.reshape(output_dims(x.dims));
  argmax_.resize(y.data.size());
  const int64_t planes = x.dims[0] * x.dims[1], H = x.dims[2], W = x.dims[3], OH = y.dims[2], OW = y.dims[3];
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x.data.data() + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t best = 2 * oh * W + 2 * ow;
        for (int64_t dh = 0; dh < 2; ++dh)
          for (int64_t dw = 0; dw < 2; ++dw) {
            const int64_t at = (2 * oh + dh) * W + 2 * ow + dw;
            if (xp[at] > xp[best]) best = at;
          }
        const int64_t o = (p * OH + oh) * OW + ow;
        y.data[o] = xp[best];
        argmax_[o] = best;
      }
  }
}

void MaxPool2::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->reshape(x.dims);
  const int64_t planes = x.dims[0] * x.dims[1], plane = x.dims[2] * x.dims[3], oplane = y.dims[2] * y.dims[3];
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    float* dxp = dx->data.data() + p * plane;
    std::fill(dxp, dxp + plane, 0.0f);
    for (int64_t o = p * oplane; o < (p + 1) * oplane; ++o) dxp[argmax_[o]] += dy.data[o];
  }
}

// --- Linear ---------------------------------------------------------------------------------

Linear::Linear(std::string name, int64_t in_features, int64_t out_features, std::mt19937_64& init_rng)
    : name_(std::move(name)),
      in_(in_features),
      out_(out_features),
      weight_(name_ + ".weight", out_features * in_features),
      bias_(name_ + ".bias", out_features) {
  init_uniform(weight_, in_, init_rng);
  init_uniform(bias_, in_, init_rng);
}

Dims Linear::output_dims(const Dims& in) const {
  if (in.empty() || volume(in) / in[0] != in_)
    throw std::invalid_argument(fmt::format("{}: expects {} features per image, got {}", name_, in_, to_string(in)));
  return {in[0], out_};
}

void Linear::forward(const Tensor& x, Tensor& y) {
  y.reshape(output_dims(x.dims));
  const int64_t N = x.dims[0];
  for (int64_t n = 0; n < N; ++n) std::copy(bias_.value.begin(), bias_.value.end(), y.data.begin() + n * out_);
  // y (N x out) += x (N x in) * W^T (in x out)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out_, in_, 1.0f, x.data.data(), in_, weight_.value.data(),
              in_, 1.0f, y.data.data(), out_);
}

void Linear::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int64_t N = x.dims[0];
  // dW (out x in) = dy^T (out x N) * x (N x in)
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_, in_, N, 1.0f, dy.data.data(), out_, x.data.data(), in_,
              0.0f, weight_.grad.data(), in_);
  for (int64_t o = 0; o < out_; ++o) {
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) sum += dy.data[n * out_ + o];
    bias_.grad[o] = static_cast<float>(sum);
  }
  if (dx) {  // dx (N x in) = dy (N x out) * W (out x in)
    dx->reshape(x.dims);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in_, out_, 1.0f, dy.data.data(), out_,
                weight_.value.data(), in_, 0.0f, dx->data.data(), in_);
  }
}

// --- loss and optimiser ---------------------------------------------------------------------

double softmax_cross_entropy(const Tensor& logits, const int32_t* labels, Tensor& dlogits) {
  if (logits.dims.size() != 2) throw std::invalid_argument("softmax_cross_entropy: expects N x classes logits");
  const int64_t N = logits.dims[0], classes = logits.dims[1];
  dlogits.reshape(logits.dims);
  double loss = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (labels[n] < 0 || labels[n] >= classes)
      throw std::invalid_argument(fmt::format("label {} of image {} is not in 0..{}", labels[n], n, classes - 1));
    const float* z = logits.data.data() + n * classes;
    const double zmax = *std::max_element(z, z + classes);  // shift: exp never overflows
    double denom = 0;
    for (int64_t c = 0; c < classes; ++c) denom += std::exp(double(z[c]) - zmax);
    loss += std::log(denom) + zmax - z[labels[n]];
    for (int64_t c = 0; c < classes; ++c) {
      const double p = std::exp(double(z[c]) - zmax) / denom;
      dlogits.data[n * classes + c] = static_cast<float>((p - (c == labels[n] ? 1.0 : 0.0)) / double(N));
    }
  }
  return loss / double(N);
}

void Sgd::step(const std::vector<Param*>& params) const {
  const float m = static_cast<float>(momentum), l = static_cast<float>(lr);
  for (Param* p : params) {
    const size_t n = p->value.size();
    for (size_t i = 0; i < n; ++i) {
      p->velocity[i] = m * p->velocity[i] + p->grad[i];
      p->value[i] -= l * p->velocity[i];
    }
  }
}

}  // namespace convbench::train
