#include "npy.hpp"

#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>

namespace convbench {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
// Keeps byte counts (elems * 4) and index products far from int64 overflow.
constexpr int64_t kMaxElems = int64_t{1} << 60;

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

[[noreturn]] void fail(const std::string& path, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}", path, what));
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_for_read(const std::string& path, int64_t& size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  // fopen succeeds on a directory on Linux; say so plainly instead of failing on the read.
  if (S_ISDIR(st.st_mode)) fail(path, "cannot open: is a directory");
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  size = static_cast<int64_t>(st.st_size);
  return f;
}

void read_exact(std::FILE* f, void* dst, std::size_t n, const std::string& path, const char* what) {
  if (n != 0 && std::fread(dst, 1, n, f) != n)
    fail(path, std::ferror(f) ? fmt::format("read error in {}", what) : fmt::format("truncated {}", what));
}

// Recursive-descent parser for the header: a Python dict literal with exactly the keys
// 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a tuple of ints), as
// numpy.lib.format writes it. Anything else is rejected rather than guessed at.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  struct Result {
    std::string descr;
    bool descr_is_string = true;
    bool fortran_order = false;
    std::vector<int64_t> shape;
  };

  Result parse() {
    Result r;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string("a quoted key");
      skip_ws();
      expect(':');
      skip_ws();
      auto mark = [&](bool& seen) {
        if (seen) bad(fmt::format("duplicate key '{}'", key));
        seen = true;
      };
      if (key == "descr") {
        mark(have_descr);
        // A list here is a structured dtype; report it as a dtype problem, not a syntax one.
        if (peek() == '[') {
          r.descr_is_string = false;
          skip_brackets();
        } else {
          r.descr = parse_string("a dtype string");
        }
      } else if (key == "fortran_order") {
        mark(have_order);
        r.fortran_order = parse_bool();
      } else if (key == "shape") {
        mark(have_shape);
        r.shape = parse_shape();
      } else {
        bad(fmt::format("unexpected key '{}'", key));
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++pos_;  // '}'
    // numpy pads the header with spaces and ends it with a newline; nothing else may follow.
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r') bad("unexpected text after the closing '}'");
    }
    if (!have_descr) bad("missing key 'descr'");
    if (!have_order) bad("missing key 'fortran_order'");
    if (!have_shape) bad("missing key 'shape'");
    return r;
  }

 private:
  [[noreturn]] void bad(std::string_view what) const {
    fail(path_, fmt::format("unparseable header ({} at offset {}): {}", what, pos_, excerpt()));
  }

  // The header in quotes with control bytes escaped, cut to keep the message one short line.
  std::string excerpt() const {
    std::string out = "\"";
    for (std::size_t i = 0; i < s_.size() && i < 80; ++i) {
      const unsigned char c = static_cast<unsigned char>(s_[i]);
      if (c == '\n') out += "\\n";
      else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') out += fmt::format("\\x{:02x}", c);
      else out += static_cast<char>(c);
    }
    out += s_.size() > 80 ? "...\"" : "\"";
    return out;
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void expect(char c) {
    if (peek() != c) bad(fmt::format("expected '{}'", c));
    ++pos_;
  }

  std::string parse_string(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') bad(fmt::format("expected {}", what));
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) bad("unterminated string");
      const char c = s_[pos_++];
      if (c == q) return out;
      // Escapes and non-ASCII never occur in the keys and dtypes we accept.
      if (c == '\\' || c == '\n' || static_cast<unsigned char>(c) >= 0x7f) bad("unsupported character in string");
      out += c;
    }
  }

  bool parse_bool() {
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    bad("expected True or False for 'fortran_order'");
  }

  // Skips a (possibly nested) [...] without interpreting it.
  void skip_brackets() {
    int depth = 0;
    do {
      if (pos_ >= s_.size()) bad("unterminated '['");
      const char c = s_[pos_++];
      if (c == '[') ++depth;
      if (c == ']') --depth;
    } while (depth > 0);
  }

  int64_t parse_int() {
    const std::size_t start = pos_;
    const bool neg = peek() == '-';
    if (neg) ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    const std::size_t n = pos_ - digits;
    if (n == 0) {
      pos_ = start;
      bad("expected an integer in 'shape'");
    }
    if (n > 1 && s_[digits] == '0') {
      pos_ = start;
      bad("integer with a leading zero in 'shape'");
    }
    const std::string_view text = s_.substr(start, pos_ - start);
    if (n > 18) fail(path_, fmt::format("dimension {} in shape is too large", text));
    int64_t v = 0;
    for (std::size_t i = digits; i < pos_; ++i) v = v * 10 + (s_[i] - '0');
    if (neg) fail(path_, fmt::format("negative dimension {} in shape", text));
    return v;
  }

  // "()", "(5,)", "(2, 3)", "(2, 3,)"; "(5)" is an int in Python, not a tuple.
  std::vector<int64_t> parse_shape() {
    if (peek() != '(') bad("expected a tuple for 'shape'");
    ++pos_;
    std::vector<int64_t> shape;
    bool trailing_comma = false;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      shape.push_back(parse_int());
      skip_ws();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        continue;
      }
      if (peek() != ')') bad("expected ',' or ')' in 'shape'");
    }
    if (shape.size() == 1 && !trailing_comma) bad("'shape' is a parenthesised int, not a tuple (missing ',')");
    ++pos_;  // ')'
    return shape;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// Reads and validates everything before the data; leaves f positioned at the first value.
NpyHeader read_header(std::FILE* f, int64_t file_size, const std::string& path) {
  if (file_size == 0) fail(path, "not a .npy file (empty file)");
  unsigned char pre[12];
  std::size_t got = std::fread(pre, 1, 8, f);
  if (std::ferror(f)) fail(path, "read error in header");
  if (got < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) fail(path, "not a .npy file (bad magic)");
  if (got < 8) fail(path, fmt::format("truncated header: file has only {} bytes", file_size));
  const int major = pre[6], minor = pre[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail(path, fmt::format("unsupported .npy format version {}.{} (expected 1.0, 2.0 or 3.0)", major, minor));
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 (both little-endian).
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  got += std::fread(pre + 8, 1, len_bytes, f);
  if (std::ferror(f)) fail(path, "read error in header");
  if (got < 8 + len_bytes) fail(path, fmt::format("truncated header: file has only {} bytes", file_size));
  uint64_t header_len = 0;
  for (std::size_t i = 0; i < len_bytes; ++i) header_len |= uint64_t{pre[8 + i]} << (8 * i);
  const int64_t data_offset = static_cast<int64_t>(8 + len_bytes + header_len);
  if (data_offset > file_size)
    fail(path, fmt::format("truncated header: header needs {} bytes, file has {}", data_offset, file_size));

  std::string text(header_len, '\0');
  read_exact(f, text.data(), text.size(), path, "header");
  const auto h = HeaderParser(text, path).parse();

  if (!h.descr_is_string) fail(path, "dtype is a structured dtype, not float32 ('<f4')");
  if (h.descr != "<f4") fail(path, fmt::format("dtype '{}' is not float32 ('<f4')", h.descr));
  if (h.fortran_order) fail(path, "fortran_order is True; only C-order arrays are supported");

  NpyHeader out;
  out.shape = h.shape;
  out.data_offset = data_offset;
  for (int64_t d : h.shape) {
    if (d != 0 && out.elems > kMaxElems / d)
      fail(path, fmt::format("shape {} is too large", shape_string(h.shape)));
    out.elems *= d;
  }
  const int64_t want = out.elems * 4;
  const int64_t have = file_size - data_offset;
  if (have < want)
    fail(path, fmt::format("truncated data: shape {} needs {} bytes after the header, file has {}",
                           shape_string(h.shape), want, have));
  if (have > want)
    fail(path, fmt::format("trailing garbage: {} bytes after the data of shape {}", have - want,
                           shape_string(h.shape)));
  return out;
}

}  // namespace

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += shape.size() == 1 ? ",)" : ")";
  return s;
}

NpyHeader read_npy_header(const std::string& path) {
  int64_t size = 0;
  File f = open_for_read(path, size);
  return read_header(f.get(), size, path);
}

NpyArray read_npy(const std::string& path) {
  int64_t size = 0;
  File f = open_for_read(path, size);
  const NpyHeader h = read_header(f.get(), size, path);
  NpyArray a;
  a.shape = h.shape;
  a.data.resize(static_cast<std::size_t>(h.elems));
  read_exact(f.get(), a.data.data(), a.data.size() * sizeof(float), path, "data");
  // The file is little-endian; only a big-endian host needs to swap.
  if constexpr (std::endian::native == std::endian::big) {
    for (float& v : a.data) v = std::bit_cast<float>(__builtin_bswap32(std::bit_cast<uint32_t>(v)));
  }
  return a;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  int64_t elems = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(path, fmt::format("cannot write negative dimension in shape {}", shape_string(shape)));
    if (d != 0 && elems > kMaxElems / d) fail(path, fmt::format("cannot write: shape {} is too large", shape_string(shape)));
    elems *= d;
  }
  if (elems > 0 && data == nullptr) fail(path, "cannot write: no data");

  // Header as numpy.lib.format writes it: the dict, spaces, '\n', total a multiple of 64.
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) dims += ", ";
    dims += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dims += ",";
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  const std::size_t prefix = 10;  // magic, version, 2-byte length
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  if (header.size() > 0xffff) fail(path, "cannot write: header longer than 65535 bytes");

  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;

  File f(std::fopen(path.c_str(), "wb"));
  if (!f) fail(path, fmt::format("cannot open for writing: {}", std::strerror(errno)));
  int err = 0;  // errno of the first failure
  auto put = [&](const void* p, std::size_t n) {
    if (err == 0 && n != 0 && std::fwrite(p, 1, n, f.get()) != n) err = errno ? errno : EIO;
  };
  put(out.data(), out.size());
  if constexpr (std::endian::native == std::endian::big) {
    for (int64_t i = 0; i < elems; ++i) {
      const uint32_t v = __builtin_bswap32(std::bit_cast<uint32_t>(data[i]));
      put(&v, 4);
    }
  } else {
    put(data, static_cast<std::size_t>(elems) * sizeof(float));
  }
  // fclose flushes; a full disk may only show up here.
  if (std::fclose(f.release()) != 0 && err == 0) err = errno ? errno : EIO;
  if (err != 0) {
    // Leave no half-written file that would later read as truncated (regular files only:
    // never unlink a device such as /dev/full).
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) std::remove(path.c_str());
    fail(path, fmt::format("cannot write: {}", std::strerror(err)));
  }
}

}  // namespace convbench
