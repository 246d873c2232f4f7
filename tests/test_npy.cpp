#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "npy.hpp"
#include "random_shapes.hpp"

namespace convbench {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("convbench_test_npy_" + std::to_string(::getpid()) + "_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A .npy file as bytes: magic, version, header length (2 bytes for 1.x, 4 otherwise), the
// header dict padded with spaces and '\n' to a multiple of 64, then `data`.
std::string npy_bytes(int major, int minor, const std::string& dict, const std::string& data) {
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  const std::size_t prefix = 8 + len_bytes;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  for (std::size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string float_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string dict_for(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

std::vector<float> random_floats(std::mt19937_64& rng, std::size_t n) {
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  std::vector<float> v(n);
  for (float& x : v) {
    do x = u(rng);
    while (x == 0.0f);
  }
  return v;
}

// The message of the std::runtime_error that reading `path` throws ("" if it reads fine).
std::string read_error(const std::string& path) {
  try {
    read_npy(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Writes `bytes` as a file and expects reading it to fail with one line naming the file and
// containing `problem`; also the header-only reader when `header_too`.
void expect_rejected(const TempDir& dir, const std::string& name, const std::string& bytes,
                     const std::string& problem, bool header_too = true) {
  const std::string path = dir.file(name);
  write_bytes(path, bytes);
  const std::string msg = read_error(path);
  EXPECT_NE(msg, "") << name << " was accepted";
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << "message does not start with the path: " << msg;
  EXPECT_NE(msg.find(problem), std::string::npos) << "expected '" << problem << "' in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
  if (header_too) {
    try {
      read_npy_header(path);
      ADD_FAILURE() << "read_npy_header accepted " << name;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
    }
  }
}

TEST(Npy, RoundTripRandomShapesAndData) {
  const uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  for (int trial = 0; trial < 60; ++trial) {
    const int rank = static_cast<int>(testing::uniform_int(rng, 0, 6));
    std::vector<int64_t> shape(rank);
    std::size_t n = 1;
    for (auto& d : shape) {
      d = testing::uniform_int(rng, 1, rank > 3 ? 4 : 9);
      n *= static_cast<std::size_t>(d);
    }
    const auto data = random_floats(rng, n);
    const std::string path = dir.file("rt" + std::to_string(trial) + ".npy");
    write_npy(path, shape, data.data());

    const std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 10u);
    const std::size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    EXPECT_EQ((10 + header_len) % 64, 0u) << "header not 64-byte aligned";
    EXPECT_EQ(bytes.size(), 10 + header_len + 4 * n);
    EXPECT_EQ(bytes[10 + header_len - 1], '\n');

    const NpyArray a = read_npy(path);
    EXPECT_EQ(a.shape, shape) << "seed " << seed << " trial " << trial;
    ASSERT_EQ(a.data.size(), n);
    EXPECT_EQ(std::memcmp(a.data.data(), data.data(), n * 4), 0) << "seed " << seed << " trial " << trial;
    const NpyHeader h = read_npy_header(path);
    EXPECT_EQ(h.shape, shape);
    EXPECT_EQ(h.elems, static_cast<int64_t>(n));
    EXPECT_EQ(h.data_offset, static_cast<int64_t>(10 + header_len));
  }
}

TEST(Npy, RoundTripKeepsSpecialValuesBitExact) {
  TempDir dir;
  const std::vector<float> v{-0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
                             std::numeric_limits<float>::max(), 1.5f};
  write_npy(dir.file("s.npy"), {7}, v.data());
  const NpyArray a = read_npy(dir.file("s.npy"));
  ASSERT_EQ(a.data.size(), v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(std::bit_cast<uint32_t>(a.data[i]), std::bit_cast<uint32_t>(v[i])) << i;
}

TEST(Npy, WritesHeaderLikeNumpy) {
  TempDir dir;
  const float v[6] = {1, 2, 3, 4, 5, 6};
  write_npy(dir.file("a.npy"), {2, 3}, v);
  EXPECT_EQ(read_bytes(dir.file("a.npy")),
            npy_bytes(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                      float_bytes({1, 2, 3, 4, 5, 6})));
  write_npy(dir.file("b.npy"), {3}, v);
  EXPECT_NE(read_bytes(dir.file("b.npy")).find("'shape': (3,), }"), std::string::npos);
  write_npy(dir.file("c.npy"), {}, v);
  const NpyArray c = read_npy(dir.file("c.npy"));
  EXPECT_TRUE(c.shape.empty());
  EXPECT_EQ(c.data, std::vector<float>{1});
  write_npy(dir.file("d.npy"), {2, 0, 3}, nullptr);
  EXPECT_EQ(read_npy(dir.file("d.npy")).data.size(), 0u);
}

TEST(Npy, ReadsVersions2And3AndHeaderVariants) {
  TempDir dir;
  std::mt19937_64 rng(testing::test_seed());
  const auto v = random_floats(rng, 6);
  const std::string data = float_bytes(v);
  const std::vector<std::pair<int, std::string>> files = {
      {1, dict_for("<f4", "(2, 3)")},
      {2, dict_for("<f4", "(2, 3)")},
      {3, dict_for("<f4", "(2, 3)")},
      {1, "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}"},  // any key order, no spaces
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,)}"},
      {1, "  { 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 ) , } "},
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string path = dir.file(std::string("v") += std::to_string(i) + ".npy");
    write_bytes(path, npy_bytes(files[i].first, 0, files[i].second, data));
    const NpyArray a = read_npy(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3})) << files[i].second;
    EXPECT_EQ(a.data, v) << files[i].second;
  }
}

TEST(Npy, RejectsMissingFileAndDirectory) {
  TempDir dir;
  const std::string missing = dir.file("missing.npy");
  const std::string msg = read_error(missing);
  EXPECT_EQ(msg.rfind(missing + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  fs::create_directory(dir.file("sub.npy"));
  EXPECT_NE(read_error(dir.file("sub.npy")).find("is a directory"), std::string::npos);
}

TEST(Npy, RejectsNonNpyFiles) {
  TempDir dir;
  expect_rejected(dir, "empty.npy", "", "not a .npy file (empty file)");
  expect_rejected(dir, "text.npy", "x,y\n1,2\n", "not a .npy file (bad magic)");
  expect_rejected(dir, "zip.npy", std::string("PK\x03\x04", 4) + std::string(100, '\0'), "bad magic");
  expect_rejected(dir, "short.npy", "\x93NU", "bad magic");
  expect_rejected(dir, "v4.npy", npy_bytes(4, 0, dict_for("<f4", "(1,)"), float_bytes({1})),
                  "unsupported .npy format version 4.0");
  expect_rejected(dir, "v11.npy", npy_bytes(1, 1, dict_for("<f4", "(1,)"), float_bytes({1})),
                  "unsupported .npy format version 1.1");
}

TEST(Npy, RejectsTruncatedHeader) {
  TempDir dir;
  const std::string good = npy_bytes(1, 0, dict_for("<f4", "(2,)"), float_bytes({1, 2}));
  expect_rejected(dir, "t7.npy", good.substr(0, 7), "truncated header");
  expect_rejected(dir, "t9.npy", good.substr(0, 9), "truncated header");
  expect_rejected(dir, "t40.npy", good.substr(0, 40), "truncated header");
  const std::string good2 = npy_bytes(2, 0, dict_for("<f4", "(2,)"), float_bytes({1, 2}));
  expect_rejected(dir, "t2_11.npy", good2.substr(0, 11), "truncated header");
  // A header length far beyond the file must not be trusted for an allocation.
  std::string huge = good2;
  huge[8] = huge[9] = huge[10] = huge[11] = '\xff';
  expect_rejected(dir, "hugelen.npy", huge, "truncated header");
}

TEST(Npy, RejectsUnparseableHeaders) {
  TempDir dir;
  const std::string d = float_bytes({1, 2});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"notdict", "['<f4', False, (2,)]"},
      {"nokeyshape", "{'descr': '<f4', 'fortran_order': False}"},
      {"nokeydescr", "{'fortran_order': False, 'shape': (2,)}"},
      {"noorder", "{'descr': '<f4', 'shape': (2,)}"},
      {"dupkey", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"},
      {"extrakey", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"},
      {"intshape", dict_for("<f4", "(2)")},
      {"listshape", dict_for("<f4", "[2]")},
      {"floatdim", dict_for("<f4", "(2.0,)")},
      {"lowerfalse", dict_for("<f4", "(2,)", "false")},
      {"unterminated", "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}"},
      {"noclose", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"},
      {"junk", dict_for("<f4", "(2,)") + " junk"},
      {"nul", dict_for("<f4", "(2,)") + std::string(1, '\0')},
      {"emptyheader", ""},
  };
  for (const auto& [name, dict] : cases)
    expect_rejected(dir, name + ".npy", npy_bytes(1, 0, dict, d), "unparseable header");
}

TEST(Npy, RejectsOtherDtypes) {
  TempDir dir;
  for (const std::string dt : {"<f8", "<i4", ">f4", "|u1", "<f2", "<c8", "f4", "float32"}) {
    const std::string name = "dt" + std::to_string(std::hash<std::string>{}(dt)) + ".npy";
    expect_rejected(dir, name, npy_bytes(1, 0, dict_for(dt, "(2,)"), float_bytes({1, 2})),
                    "dtype '" + dt + "' is not float32 ('<f4')");
  }
  expect_rejected(dir, "struct.npy",
                  npy_bytes(1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                            float_bytes({1, 2})),
                  "structured dtype");
}

TEST(Npy, RejectsFortranOrder) {
  TempDir dir;
  expect_rejected(dir, "f.npy", npy_bytes(1, 0, dict_for("<f4", "(2, 3)", "True"), float_bytes({1, 2, 3, 4, 5, 6})),
                  "fortran_order is True");
}

TEST(Npy, RejectsTruncatedDataAndTrailingGarbage) {
  TempDir dir;
  const std::string good = npy_bytes(1, 0, dict_for("<f4", "(2, 3)"), float_bytes({1, 2, 3, 4, 5, 6}));
  expect_rejected(dir, "short.npy", good.substr(0, good.size() - 1), "truncated data");
  expect_rejected(dir, "nodata.npy", good.substr(0, good.size() - 24), "truncated data");
  expect_rejected(dir, "long.npy", good + "x", "trailing garbage: 1 bytes");
  expect_rejected(dir, "long4.npy", good + float_bytes({7}), "trailing garbage: 4 bytes");
}

TEST(Npy, RejectsNegativeAndOverflowingDims) {
  TempDir dir;
  const std::string d = float_bytes({1, 2});
  expect_rejected(dir, "neg.npy", npy_bytes(1, 0, dict_for("<f4", "(-2,)"), d), "negative dimension -2");
  expect_rejected(dir, "neg2.npy", npy_bytes(1, 0, dict_for("<f4", "(2, -1)"), d), "negative dimension -1");
  expect_rejected(dir, "bigdim.npy", npy_bytes(1, 0, dict_for("<f4", "(99999999999999999999999,)"), d),
                  "too large");
  expect_rejected(dir, "bigprod.npy",
                  npy_bytes(1, 0, dict_for("<f4", "(4294967296, 4294967296, 4294967296)"), d), "too large");
  // Large but representable: caught by the size check without allocating.
  expect_rejected(dir, "bigsize.npy", npy_bytes(1, 0, dict_for("<f4", "(1000000000000,)"), d), "truncated data");
}

// Random corruption of a valid file: every outcome is a clean read or one std::runtime_error
// naming the file, never a crash or another exception type.
TEST(Npy, CorruptedFilesFailCleanly) {
  const uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string good = npy_bytes(1, 0, dict_for("<f4", "(2, 3)"), float_bytes(random_floats(rng, 6)));
  const std::string path = dir.file("fuzz.npy");
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good;
    if (trial % 3 == 0) {
      bytes.resize(static_cast<std::size_t>(testing::uniform_int(rng, 0, static_cast<int64_t>(good.size()))));
    } else {
      const int flips = static_cast<int>(testing::uniform_int(rng, 1, 4));
      for (int f = 0; f < flips; ++f) {
        // Mostly the magic, version, length and header, where the parser lives.
        const auto at = static_cast<std::size_t>(testing::uniform_int(rng, 0, 74));
        bytes[at] = static_cast<char>(testing::uniform_int(rng, 0, 255));
      }
    }
    write_bytes(path, bytes);
    try {
      const NpyArray a = read_npy(path);
      int64_t n = 1;
      for (int64_t d : a.shape) n *= d;
      EXPECT_EQ(static_cast<int64_t>(a.data.size()), n) << "seed " << seed << " trial " << trial;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    } catch (...) {
      ADD_FAILURE() << "non-runtime_error exception, seed " << seed << " trial " << trial;
    }
  }
}

TEST(Npy, WriteErrorsNameThePath) {
  TempDir dir;
  const std::string bad = dir.file("no_such_dir/out.npy");
  const float v[1] = {1};
  try {
    write_npy(bad, {1}, v);
    FAIL() << "write to a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad + ": cannot open for writing", 0), 0u) << e.what();
  }
  try {
    write_npy(dir.file("neg.npy"), {2, -1}, v);
    FAIL() << "negative dimension written";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("negative dimension"), std::string::npos) << e.what();
  }
  if (fs::exists("/dev/full")) {
    try {
      write_npy("/dev/full", {1}, v);
      FAIL() << "write to /dev/full succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("/dev/full: cannot write", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace convbench
