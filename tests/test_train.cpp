// Training-step analysis: layer gradients against finite differences, learning on a learnable
// synthetic task with every CPU algorithm, agreement between algorithms after a few SGD steps,
// the CIFAR-10 loader on generated files, and the train command's files and errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms.hpp"
#include "convbench/cuda_info.hpp"
#include "conv_case.hpp"
#include "random_shapes.hpp"
#include "train/cifar.hpp"
#include "train/layers.hpp"
#include "train/network.hpp"
#include "train/train_command.hpp"

namespace convbench::train {
namespace {

using convbench::testing::rel_diff;
using convbench::testing::test_seed;

// Every CPU algorithm; with a CUDA device also ours on the GPU and cudnn.best (the layers stage
// tensors through device memory for them).
std::vector<std::string> train_algorithms() {
  std::vector<std::string> names;
  const bool gpu = cuda_device_count() > 0;
  for (const auto& e : algorithm_list()) {
    const std::string n(e.name);
    if (e.make({})->device() == Device::cpu || (gpu && (n.rfind("cuda.", 0) == 0 || n == "cudnn.best")))
      names.push_back(n);
  }
  return names;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Checks a layer's dx and parameter gradients against central differences of
// L = sum(y * r) with a fixed random r (so dL/dy = r). Each difference divides by the step the
// fp32 perturbation actually made. Layers linear in x and w (conv, linear) are differenced with
// a large step, where rounding matters least; kinked ones with a small step on inputs kept away
// from their kinks.
void check_layer_gradients(Layer& layer, Tensor x, std::mt19937_64& rng, float h, double tol, bool with_dx = true) {
  Tensor y, dx;
  layer.forward(x, y);
  const auto r = convbench::testing::random_tensor(rng, y.size());
  Tensor dy;
  dy.reshape(y.dims);
  std::copy(r.begin(), r.end(), dy.data.begin());
  layer.backward(x, y, dy, with_dx ? &dx : nullptr);
  auto objective = [&](const Tensor& in) {
    Tensor out;
    layer.forward(in, out);
    double s = 0;
    for (int64_t i = 0; i < out.size(); ++i) s += double(out.data[i]) * r[i];
    return s;
  };
  auto difference = [&](float& v, const Tensor& in) {
    const float keep = v;
    v = keep + h;
    const double up = objective(in), vu = v;
    v = keep - h;
    const double down = objective(in), vd = v;
    v = keep;
    return (up - down) / (vu - vd);
  };
  if (with_dx) {
    std::vector<double> fd, an;
    for (int64_t i = 0; i < x.size(); ++i) fd.push_back(difference(x.data[i], x)), an.push_back(dx.data[i]);
    EXPECT_LT(rel_diff(fd, an), tol) << layer.name() << " dx";
  }
  for (Param* p : layer.params()) {
    const std::vector<float> grad = p->grad;  // objective() re-runs forward only; keep backward's
    std::vector<double> fd, an;
    for (size_t i = 0; i < p->value.size(); ++i) fd.push_back(difference(p->value[i], x)), an.push_back(grad[i]);
    EXPECT_LT(rel_diff(fd, an), tol) << layer.name() << " " << p->name;
  }
}

Tensor random_input(std::mt19937_64& rng, const Dims& d) {
  Tensor t;
  t.reshape(d);
  const auto v = convbench::testing::random_tensor(rng, t.size());
  std::copy(v.begin(), v.end(), t.data.begin());
  return t;
}

TEST(TrainLayers, ConvGradientsMatchFiniteDifferencesForEveryAlgorithm) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  for (const auto& algo : train_algorithms()) {
    SCOPED_TRACE(algo);
    std::mt19937_64 rng(seed);
    const int64_t N = convbench::testing::uniform_int(rng, 1, 3), C = convbench::testing::uniform_int(rng, 1, 3);
    const int64_t K = convbench::testing::uniform_int(rng, 1, 4), k = convbench::testing::uniform_int(rng, 1, 4);
    const int64_t n = k + convbench::testing::uniform_int(rng, 0, 5);
    Conv2d conv("conv", C, K, k, algo, {}, rng);
    const Tensor x = random_input(rng, {N, C, n, n});
    check_layer_gradients(conv, x, rng, 0.25f, 2e-4);
    check_layer_gradients(conv, x, rng, 0.25f, 2e-4, /*with_dx=*/false);  // first layer: wgrad only
  }
}

TEST(TrainLayers, LinearReluPoolGradientsMatchFiniteDifferences) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Linear fc("fc", 12, 5, rng);
  check_layer_gradients(fc, random_input(rng, {3, 3, 2, 2}), rng, 0.25f, 2e-4);

  // Inputs at least 0.05 from zero, differenced with steps of 1e-2: no kink is crossed.
  ReLU relu;
  Tensor x = random_input(rng, {2, 3, 4, 5});
  for (auto& v : x.data) v = v < 0 ? v - 0.05f : v + 0.05f;
  check_layer_gradients(relu, x, rng, 1e-2f, 1e-4);

  // Distinct values 0.1 apart (odd extents exercise the floor): every window has a clear max.
  MaxPool2 pool("pool");
  Tensor p;
  p.reshape({2, 2, 5, 7});
  for (int64_t i = 0; i < p.size(); ++i) p.data[i] = 0.1f * static_cast<float>(i);
  std::shuffle(p.data.begin(), p.data.end(), rng);
  EXPECT_EQ(pool.output_dims(p.dims), (Dims{2, 2, 2, 3}));
  check_layer_gradients(pool, p, rng, 1e-2f, 1e-4);
}

TEST(TrainLayers, SoftmaxCrossEntropyGradientAndValue) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Tensor z = random_input(rng, {4, 10});
  for (auto& v : z.data) v *= 3.0f;
  const std::vector<int32_t> labels = {0, 9, 3, 3};
  Tensor g, unused;
  const double loss = softmax_cross_entropy(z, labels.data(), g);
  std::vector<double> fd, an;
  for (int64_t i = 0; i < z.size(); ++i) {
    const float keep = z.data[i];
    z.data[i] = keep + 1e-3f;
    const double up = softmax_cross_entropy(z, labels.data(), unused), vu = z.data[i];
    z.data[i] = keep - 1e-3f;
    const double down = softmax_cross_entropy(z, labels.data(), unused), vd = z.data[i];
    z.data[i] = keep;
    fd.push_back((up - down) / (vu - vd)), an.push_back(g.data[i]);
  }
  EXPECT_LT(rel_diff(fd, an), 1e-5);
  // Uniform logits: the loss is log(10) whatever the labels.
  Tensor flat;
  flat.reshape({2, 10});
  EXPECT_NEAR(softmax_cross_entropy(flat, labels.data(), g), std::log(10.0), 1e-12);
  EXPECT_GT(loss, 0);
  const std::vector<int32_t> bad = {10, 0, 0, 0};
  EXPECT_EQ(error_of([&] { softmax_cross_entropy(z, bad.data(), g); }), "label 10 of image 0 is not in 0..9");
}

TEST(TrainLayers, SgdWithMomentumFollowsPyTorch) {
  Param p("p", 1);
  p.value = {1.0f};
  const Sgd sgd{0.1, 0.9};
  p.grad = {1.0f};
  sgd.step({&p});  // v = 1, w = 1 - 0.1
  p.grad = {2.0f};
  sgd.step({&p});  // v = 0.9 + 2 = 2.9, w = 0.9 - 0.29
  EXPECT_NEAR(p.velocity[0], 2.9f, 1e-6);
  EXPECT_NEAR(p.value[0], 0.61f, 1e-6);
}

// Images that carry their class: a fixed random template per class plus noise.
class LearnableData final : public Dataset {
 public:
  LearnableData(int64_t size, int64_t n, uint64_t seed) : size_(size), n_(n), seed_(seed) {
    std::mt19937_64 rng(seed);
    templates_ = convbench::testing::random_tensor(rng, 10 * image_elems());
  }
  std::string name() const override { return "learnable"; }
  int64_t size() const override { return size_; }
  int64_t channels() const override { return 3; }
  int64_t height() const override { return n_; }
  int64_t width() const override { return n_; }
  int32_t get(int64_t i, float* image) const override {
    std::mt19937_64 rng(seed_ * 1000003 + static_cast<uint64_t>(i));
    const int32_t label = static_cast<int32_t>(i % 10);
    std::normal_distribution<float> noise(0.0f, 0.3f);
    for (int64_t j = 0; j < image_elems(); ++j) image[j] = templates_[label * image_elems() + j] + noise(rng);
    return label;
  }

 private:
  int64_t size_, n_;
  uint64_t seed_;
  std::vector<float> templates_;
};

struct Batch {
  std::vector<float> x;
  std::vector<int32_t> labels;
};
Batch batch_of(const Dataset& d, int64_t first, int64_t n) {
  Batch b{std::vector<float>(n * d.image_elems()), std::vector<int32_t>(n)};
  for (int64_t i = 0; i < n; ++i) b.labels[i] = d.get((first + i) % d.size(), b.x.data() + i * d.image_elems());
  return b;
}

NetConfig small_net(const std::string& net, const std::string& algo, uint64_t seed) {
  NetConfig c;
  c.net = net, c.algo = algo, c.seed = seed;
  c.input = net == "lenet" ? 16 : 12;
  c.kernel = net == "lenet" ? 3 : 5;
  return c;
}

// The whole network's backward against a finite difference along its own gradient direction
// (the directional derivative there is |g|, large against fp32 rounding).
TEST(TrainNetwork, GradientAlongItselfMatchesFiniteDifference) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  for (const char* name : {"lenet", "fftnet"}) {
    SCOPED_TRACE(name);
    Network net(small_net(name, "cpu.direct", seed));
    LearnableData data(8, net.config().input, seed);
    const Batch b = batch_of(data, 0, 8);
    net.forward_backward(b.x.data(), b.labels.data(), 8);
    std::vector<std::vector<float>> g, w0;
    double norm = 0;
    for (Param* p : net.params()) {
      g.push_back(p->grad), w0.push_back(p->value);
      for (float v : p->grad) norm += double(v) * v;
    }
    norm = std::sqrt(norm);
    ASSERT_GT(norm, 0);
    auto loss_at = [&](double t) {
      auto ps = net.params();
      for (size_t i = 0; i < ps.size(); ++i)
        for (size_t j = 0; j < ps[i]->value.size(); ++j)
          ps[i]->value[j] = static_cast<float>(w0[i][j] + t * g[i][j] / norm);
      return net.forward_backward(b.x.data(), b.labels.data(), 8, false);
    };
    // The loss is piecewise smooth: a ReLU or max-pool switch closer than h bends a difference
    // (trial runs met them at h = 1e-3 about once in 50). The gradient then matches a one-sided
    // difference or a smaller step, so the best of central/forward/backward over three steps
    // counts; a wrong gradient is off at every step.
    const double mid = loss_at(0);
    double best = 1e30;
    std::string seen;
    for (double h : {1e-3, 3e-4, 1e-4}) {
      const double up = loss_at(h), down = loss_at(-h);
      for (double d : {(up - down) / (2 * h), (up - mid) / h, (mid - down) / h}) {
        best = std::min(best, std::abs(d - norm));
        seen += " " + std::to_string(d);
      }
    }
    EXPECT_LT(best, 1e-2 * norm) << "|g| " << norm << ", differences" << seen;
  }
}

TEST(TrainNetwork, LossDecreasesOnALearnableTaskWithEveryAlgorithm) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  // ~1000 tiny steps: under ctest -j with OpenMP threads spinning on every core this ran 50x
  // slower (30 s instead of 0.6 s), so it runs on one thread; the other tests use them all.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  struct Restore {
    int n;
    ~Restore() { omp_set_num_threads(n); }
  } restore{threads};
  for (const char* name : {"lenet", "fftnet"})
    for (const auto& algo : train_algorithms()) {
      SCOPED_TRACE(std::string(name) + " " + algo);
      // LeNet's two small-initialised conv layers sit on a plateau for a while (as in the PyTorch
      // tutorial) before the loss falls, so it gets a smaller set and more, gentler steps (at
      // lr 0.05 and 80 steps about 1 seed in 50 stalled; with these, 120 trial seeds ended
      // below 1e-3 of the first loss, fftnet below 0.08).
      const bool lenet = std::string(name) == "lenet";
      Network net(small_net(name, algo, seed));
      LearnableData data(lenet ? 20 : 40, net.config().input, seed);
      const Sgd sgd{lenet ? 0.02 : 0.05, 0.9};
      const int steps = lenet ? 150 : 30;
      std::vector<double> losses;
      for (int step = 0; step < steps; ++step) {
        const Batch b = batch_of(data, step * 10, 10);
        losses.push_back(net.train_step(b.x.data(), b.labels.data(), 10, sgd));
      }
      const double first = (losses[0] + losses[1] + losses[2]) / 3;
      const double last = (losses[steps - 3] + losses[steps - 2] + losses[steps - 1]) / 3;
      EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
    }
}

// Every algorithm follows cpu.direct's training trajectory from the same seed. The forward is
// continuous, so losses and weights agree closely; the backward is not: where a ReLU input or a
// max-pool pair lies within rounding of a tie, two algorithms may route a gradient differently.
// In 300 trial seeds the updates (weights minus their start) agreed to 4e-5 except in 3, where
// such a flip moved the updates upstream of it by 1-4% (weights still within 1e-4). Hence a
// tight bound on losses and weights and a loose one on updates, which still fails on a wrong
// pass (off by O(1)); each pass is held to 2e-4 by the finite-difference tests above.
TEST(TrainNetwork, SameSeedGivesTheSameWeightsWithEveryAlgorithm) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE("CONVBENCH_TEST_SEED=" + std::to_string(seed));
  for (const char* name : {"lenet", "fftnet"}) {
    struct Run {
      std::vector<std::vector<double>> weights, updates;
      std::vector<double> losses;
    };
    auto train = [&](const std::string& algo) {
      Network net(small_net(name, algo, seed));
      // Images that carry their class: random images with random labels give gradients that
      // are mostly cancellation, where fp32 rounding of long sums shows as large relative
      // differences.
      LearnableData data(24, net.config().input, seed);
      Run r;
      for (Param* p : net.params()) r.updates.emplace_back(p->value.begin(), p->value.end());
      for (int step = 0; step < 4; ++step) {
        const Batch b = batch_of(data, step * 6, 6);
        r.losses.push_back(net.train_step(b.x.data(), b.labels.data(), 6, Sgd{0.01, 0.9}));
      }
      auto ps = net.params();
      for (size_t i = 0; i < ps.size(); ++i) {
        r.weights.emplace_back(ps[i]->value.begin(), ps[i]->value.end());
        for (size_t j = 0; j < ps[i]->value.size(); ++j) r.updates[i][j] = r.weights[i][j] - r.updates[i][j];
      }
      return r;
    };
    const Run reference = train("cpu.direct");
    for (const auto& algo : train_algorithms()) {
      SCOPED_TRACE(std::string(name) + " " + algo);
      const Run other = train(algo);
      EXPECT_LT(rel_diff(other.losses, reference.losses), 1e-5);
      for (size_t i = 0; i < reference.weights.size(); ++i) {
        EXPECT_LT(rel_diff(other.weights[i], reference.weights[i]), 2e-4) << "param " << i;
        EXPECT_LT(rel_diff(other.updates[i], reference.updates[i]), 5e-2) << "param " << i;
      }
    }
  }
}

TEST(TrainNetwork, SummaryMatchesTheSeedTables) {
  NetConfig lenet;
  lenet.net = "lenet", lenet.algo = "cpu.direct";
  Network a(lenet);
  const std::string s = a.summary(128);
  EXPECT_NE(s.find("conv1    128x6x28x28             456"), std::string::npos) << s;
  EXPECT_NE(s.find("pool2    128x16x5x5"), std::string::npos) << s;
  EXPECT_NE(s.find("fc1      128x120               48120"), std::string::npos) << s;
  EXPECT_NE(s.find("total params 62006"), std::string::npos) << s;
  NetConfig fft;
  fft.net = "fftnet", fft.algo = "cpu.fft", fft.input = 128, fft.kernel = 64;
  Network b(fft);
  const std::string t = b.summary(8);
  EXPECT_NE(t.find("conv1    8x16x65x65           196624"), std::string::npos) << t;
  EXPECT_NE(t.find("pool1    8x16x32x32"), std::string::npos) << t;
  EXPECT_NE(t.find("total params 2173838"), std::string::npos) << t;
}

// --- CIFAR-10 loader --------------------------------------------------------------------------

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("convbench_train_" + std::to_string(test_seed()) + "_" +
                                                      std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Records: label byte, then 1024 R, 1024 G, 1024 B bytes. Pixel (c, j) of record r holds
// (r * 7 + c * 3 + j) mod 256 so the test can tell records, channels and positions apart.
void write_batch(const std::filesystem::path& file, const std::vector<uint8_t>& labels, int first_record) {
  std::ofstream out(file, std::ios::binary);
  for (size_t r = 0; r < labels.size(); ++r) {
    out.put(static_cast<char>(labels[r]));
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < 1024; ++j) out.put(static_cast<char>(((first_record + int(r)) * 7 + c * 3 + j) % 256));
  }
}

float expected_pixel(int record, int c, int j) { return (float(((record * 7 + c * 3 + j) % 256)) / 255.0f - 0.5f) / 0.5f; }

TEST(Cifar10, ReadsEveryBatchFileInOrder) {
  TempDir dir;
  write_batch(dir.path / "data_batch_10.bin", {5}, 5);  // numeric order: after 2
  write_batch(dir.path / "data_batch_2.bin", {9, 0}, 3);
  write_batch(dir.path / "data_batch_1.bin", {3, 1, 4}, 0);
  std::ofstream(dir.path / "batches.meta.txt") << "airplane\n";  // other files are ignored
  std::ofstream(dir.path / "test_batch.bin") << "x";
  Cifar10 c(dir.path.string());
  ASSERT_EQ(c.size(), 6);
  EXPECT_EQ(c.files().size(), 3u);
  std::vector<float> img(3 * 32 * 32);
  const std::vector<int32_t> labels = {3, 1, 4, 9, 0, 5};
  for (int r = 0; r < 6; ++r) {
    EXPECT_EQ(c.get(r, img.data()), labels[r]);
    for (int ch = 0; ch < 3; ++ch)
      for (int j : {0, 1, 31, 32, 1023}) EXPECT_FLOAT_EQ(img[ch * 1024 + j], expected_pixel(r, ch, j)) << r << " " << ch << " " << j;
  }
  EXPECT_FLOAT_EQ(expected_pixel(0, 0, 255), 1.0f);  // 255 -> 1, 0 -> -1
  EXPECT_THROW(c.get(6, img.data()), std::out_of_range);
}

TEST(Cifar10, ErrorsNameTheFile) {
  TempDir dir;
  EXPECT_NE(error_of([&] { Cifar10 c(dir.path.string()); }).find("no data_batch_*.bin files"), std::string::npos);
  EXPECT_NE(error_of([&] { Cifar10 c((dir.path / "absent").string()); }).find("not a directory"), std::string::npos);

  write_batch(dir.path / "data_batch_1.bin", {1, 2}, 0);
  {
    std::ofstream cut(dir.path / "data_batch_2.bin", std::ios::binary);
    cut << std::string(Cifar10::kRecordBytes + 100, '\0');  // one record and a torn one
  }
  const std::string e = error_of([&] { Cifar10 c(dir.path.string()); });
  EXPECT_NE(e.find("data_batch_2.bin: 3173 bytes is not a whole number of 3073-byte records (truncated?)"),
            std::string::npos)
      << e;

  std::filesystem::remove(dir.path / "data_batch_2.bin");
  write_batch(dir.path / "data_batch_3.bin", {2, 11}, 0);
  EXPECT_NE(error_of([&] { Cifar10 c(dir.path.string()); }).find("data_batch_3.bin: record 1 has label 11"),
            std::string::npos);

  std::filesystem::remove(dir.path / "data_batch_3.bin");
  std::ofstream(dir.path / "data_batch_4.bin").close();
  EXPECT_NE(error_of([&] { Cifar10 c(dir.path.string()); }).find("data_batch_4.bin: empty file"), std::string::npos);
}

TEST(FakeData, DependsOnlyOnSeedAndIndex) {
  FakeData a(10, 3, 8, 8, 7), b(10, 3, 8, 8, 7), c(10, 3, 8, 8, 8);
  std::vector<float> x(192), y(192), z(192);
  EXPECT_EQ(a.get(4, x.data()), b.get(4, y.data()));
  EXPECT_EQ(x, y);
  c.get(4, z.data());
  EXPECT_NE(x, z);
  for (float v : x) EXPECT_TRUE(v >= -1.0f && v <= 1.0f);
  int labels[10] = {};
  FakeData many(2000, 1, 1, 1, 3);
  for (int64_t i = 0; i < many.size(); ++i) ++labels[many.get(i, x.data())];
  for (int l : labels) EXPECT_GT(l, 120);  // uniform over 10 classes
}

// --- the train command ------------------------------------------------------------------------

std::vector<std::string> lines_of(const std::filesystem::path& f) {
  std::ifstream in(f);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(TrainCommand, WritesRowsStatsAndEnvOnCifarFiles) {
  TempDir dir;
  write_batch(dir.path / "data_batch_1.bin", {0, 1, 2}, 0);
  write_batch(dir.path / "data_batch_2.bin", {3, 4}, 3);
  TrainOptions o;
  o.net = "lenet", o.algo = "cpu.im2col", o.batch = 2, o.epochs = 2, o.cifar = dir.path.string();
  o.out = (dir.path / "t.csv").string();
  o.command_line = "convbench train ...";
  run_train(o);
  const auto rows = lines_of(dir.path / "t.csv");
  ASSERT_EQ(rows.size(), 1 + 2 * 3u);  // 5 images in minibatches of 2, 2, 1; two epochs
  EXPECT_EQ(rows[0], "net,algo,batch,input,kernel,epoch,step,time_ms,loss,device,images,dataset,data,conv_passes,threads");
  EXPECT_EQ(rows[3].rfind("lenet,cpu.im2col,2,32,5,1,3,", 0), 0u) << rows[3];
  EXPECT_NE(rows[3].find(",1,5,cifar10,separate,"), std::string::npos) << rows[3];
  const auto stats = lines_of(dir.path / "t.stats.csv");
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].rfind("net,algo,batch,input,kernel,epoch,count,min_ms,max_ms,mean_ms,median_ms,std_ms,final_loss", 0), 0u);
  EXPECT_EQ(stats[2].rfind("lenet,cpu.im2col,2,32,5,2,3,", 0), 0u) << stats[2];
  EXPECT_TRUE(std::filesystem::exists(dir.path / "t.csv.env.json"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "t.stats.csv.env.json"));

  run_train(o);  // a second run appends to the same files
  EXPECT_EQ(lines_of(dir.path / "t.csv").size(), 1 + 4 * 3u);
  o.input = 64;
  EXPECT_EQ(error_of([&] { run_train(o); }), "--input 64: CIFAR-10 images are 32x32");
}

TEST(TrainCommand, StepsCapAndStatistics) {
  TempDir dir;
  TrainOptions o;
  o.net = "fftnet", o.algo = "cpu.fft", o.batch = 4, o.input = 20, o.kernel = 9, o.dataset = 30, o.steps = 5;
  o.out = (dir.path / "f.csv").string();
  run_train(o);
  const auto rows = lines_of(dir.path / "f.csv");
  ASSERT_EQ(rows.size(), 6u);
  std::vector<double> t;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::string> f;
    std::stringstream ss(rows[i]);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    t.push_back(std::stod(f[7]));
    EXPECT_TRUE(std::isfinite(std::stod(f[8])));
  }
  const auto stats = lines_of(dir.path / "f.stats.csv");
  ASSERT_EQ(stats.size(), 2u);
  std::vector<std::string> f;
  std::stringstream ss(stats[1]);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  EXPECT_EQ(f[6], "5");
  EXPECT_NEAR(std::stod(f[7]), *std::min_element(t.begin(), t.end()), 1e-5);
  EXPECT_NEAR(std::stod(f[8]), *std::max_element(t.begin(), t.end()), 1e-5);
  double mean = 0;
  for (double v : t) mean += v / 5;
  EXPECT_NEAR(std::stod(f[9]), mean, 1e-5);
  std::sort(t.begin(), t.end());
  EXPECT_NEAR(std::stod(f[10]), t[2], 1e-5);
}

TEST(TrainCommand, OneLineErrors) {
  TempDir dir;
  TrainOptions o;
  o.net = "fftnet", o.algo = "cpu.direct", o.batch = 2, o.input = 16, o.kernel = 5, o.dataset = 4;
  o.out = (dir.path / "e.csv").string();
  auto with = [&](auto change) {
    TrainOptions c = o;
    change(c);
    return error_of([&] { run_train(c); });
  };
  EXPECT_EQ(with([](TrainOptions& c) { c.algo = "cpu.nope"; }),
            error_of([] { make_algorithm("cpu.nope"); }));  // make_algorithm's own message
  EXPECT_EQ(with([](TrainOptions& c) { c.kernel = 17; }), "--kernel 17 > --input 16");
  EXPECT_EQ(with([](TrainOptions& c) { c.batch = 5; }), "--batch 5 > the 4 images of an epoch");
  EXPECT_EQ(with([](TrainOptions& c) { c.net = "resnet"; }), "--net: unknown 'resnet' (lenet, fftnet)");
  EXPECT_EQ(with([](TrainOptions& c) { c.algo = ""; }), "--algo is required (see convbench list)");
  EXPECT_EQ(with([](TrainOptions& c) { c.momentum = 1; }), "--momentum must be in [0, 1), got 1");
  EXPECT_EQ(with([](TrainOptions& c) { c.lr = 0; }), "--lr must be > 0, got 0");
  EXPECT_EQ(with([](TrainOptions& c) { c.net = "lenet", c.input = 12, c.kernel = 5; }),
            "lenet with --input 12 --kernel 5: conv2: kernel 5 > padded input 4 in dim H");
  EXPECT_EQ(with([](TrainOptions& c) { c.input = 17, c.kernel = 17; }),
            "fftnet with --input 17 --kernel 17: pool1: 2x2 max-pool needs an input of at least 2x2, got 1x1");
  EXPECT_EQ(with([&](TrainOptions& c) { c.input = 0, c.kernel = 5, c.cifar = (dir.path / "none").string(); }),
            "--cifar " + (dir.path / "none").string() + ": not a directory");
  EXPECT_FALSE(std::filesystem::exists(dir.path / "e.csv"));  // errors come before any file is written
  std::ofstream(dir.path / "e.csv") << "sweep,dims\n";
  EXPECT_NE(with([](TrainOptions&) {}).find("exists with another header"), std::string::npos);
  EXPECT_EQ(train_stats_path("a/b.csv"), "a/b.stats.csv");
  EXPECT_EQ(train_stats_path("log"), "log.stats.csv");
}

TEST(TrainNetwork, FftAlgorithmsReuseForwardTransformsInTheBackward) {
  EXPECT_EQ(Network::conv_passes("cpu.fft"), "reuse");
  EXPECT_EQ(Network::conv_passes("cpu.im2col"), "separate");
  EXPECT_EQ(Network::conv_passes("cpu.direct"), "separate");
}

// The GPU half of the training tests runs inside the tests above when a device is present;
// this one says so, or why not.
TEST(TrainNetwork, GpuAlgorithmsJoinTheTestsWhenADeviceIsPresent) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_summary() << " (training tests ran CPU algorithms only)";
  const auto names = train_algorithms();
  for (const char* n : {"cuda.fft", "cuda.im2col", "cudnn.best"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace convbench::train
