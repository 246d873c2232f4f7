#include "results_csv.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace convbench {
namespace {

std::string per_dim(const Shape& s, const Extent& e) {
  std::string r;
  bool same = true;
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) same = same && e[i] == e[kMaxDims - 1];
  if (same) return std::to_string(e[kMaxDims - 1]);
  for (int i = kMaxDims - s.dims; i < kMaxDims; ++i) {
    if (!r.empty()) r += 'x';
    r += std::to_string(e[i]);
  }
  return r;
}

std::string quoted(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
  return q + "\"";
}

std::string num(double v) { return fmt::format("{:.9g}", v); }
std::string opt(double v) { return v > 0 ? num(v) : ""; }  // unmeasured cells stay empty

std::vector<std::string> fields_of(const ResultRow& r) {
  const Shape& s = r.shape;
  const bool ok = r.status == "ok" || r.status == "failed";
  return {r.sweep, std::to_string(s.dims), std::to_string(s.N), std::to_string(s.C), std::to_string(s.K),
          std::to_string(s.in[0]), std::to_string(s.in[1]), std::to_string(s.in[2]), std::to_string(s.kernel[0]),
          std::to_string(s.kernel[1]), std::to_string(s.kernel[2]), per_dim(s, s.pad), per_dim(s, s.stride),
          per_dim(s, s.dilation), std::to_string(s.groups), r.algo, r.pass, r.precision, r.fft_policy, r.fft_size,
          num(r.compression), r.status, r.reason, ok ? std::to_string(r.reps) : "", ok ? num(r.time_ms) : "",
          ok ? num(r.time_min_ms) : "", ok ? num(r.time_max_ms) : "", ok ? num(r.time_std_ms) : "",
          num(r.direct_flops), opt(r.model_flops), ok && r.time_ms > 0 ? num(r.direct_flops / r.time_ms / 1e6) : "",
          opt(r.model_bytes), ok ? num(r.workspace_bytes) : "", opt(r.peak_mem_bytes),
          r.rel_error >= 0 ? fmt::format("{:.3e}", r.rel_error) : "", r.tolerance > 0 ? fmt::format("{:.3e}", r.tolerance) : "",
          r.validation, opt(r.sm_clock_mhz), r.threads > 0 ? std::to_string(r.threads) : "", r.device, r.detail};
}

const std::vector<std::string> kKeyColumns = {"sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h",
                                              "k_w", "pad", "stride", "dilation", "groups", "algo", "pass",
                                              "precision", "fft_policy", "compression"};

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> cols = {
      "sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "pad", "stride", "dilation",
      "groups", "algo", "pass", "precision", "fft_policy", "fft_size", "compression", "status", "reason", "reps",
      "time_ms", "time_min_ms", "time_max_ms", "time_std_ms", "direct_flops", "model_flops", "effective_gflops",
      "model_bytes", "workspace_bytes", "peak_mem_bytes", "rel_error", "tolerance", "validation", "sm_clock_mhz",
      "threads", "device", "detail"};
  return cols;
}

std::string row_key(const std::vector<std::string>& header, const std::vector<std::string>& fields) {
  std::string key;
  for (const auto& col : kKeyColumns) {
    size_t i = 0;
    while (i < header.size() && header[i] != col) ++i;
    if (i >= fields.size()) throw std::invalid_argument(fmt::format("results CSV lacks column '{}'", col));
    key += fields[i] + '|';
  }
  return key;
}

std::string row_key(const ResultRow& r) { return row_key(csv_columns(), fields_of(r)); }

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') in_quotes = false;
      else out.back() += c;
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

static std::string header_line() {
  std::string h;
  for (const auto& c : csv_columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

CsvWriter::CsvWriter(const std::string& path) : path_(path) {
  const bool fresh = !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  if (!fresh) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    if (first != header_line())
      throw std::invalid_argument(fmt::format("{}: existing file has a different header; not appending to it", path));
  }
  if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
  f_ = std::fopen(path.c_str(), "a");
  if (!f_) throw std::runtime_error(fmt::format("{}: cannot open for writing", path));
  if (fresh) fmt::print(f_, "{}\n", header_line());
  std::fflush(f_);
}

CsvWriter::~CsvWriter() {
  if (f_) std::fclose(f_);
}

void CsvWriter::write(const ResultRow& r) {
  std::string line;
  for (const auto& f : fields_of(r)) {  // appended piecewise: GCC 12 warns (-Wrestrict) on "," + string&&
    if (!line.empty()) line += ',';
    line += quoted(f);
  }
  line += '\n';
  // One write per row, then flush: a killed process leaves whole rows (or one torn last line).
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    throw std::runtime_error(fmt::format("{}: write failed ({})", path_, std::strerror(errno)));
}

std::set<std::string> completed_row_keys(const std::string& path) {
  std::set<std::string> keys;
  if (!std::filesystem::exists(path)) return keys;
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  if (content.empty()) return keys;
  // Drop a torn last line (no trailing newline): the row was not finished.
  if (content.back() != '\n') {
    const size_t cut = content.rfind('\n');
    content.resize(cut == std::string::npos ? 0 : cut + 1);
    std::filesystem::resize_file(path, content.size());
  }
  size_t pos = content.find('\n');
  if (pos == std::string::npos) return keys;
  const std::string header = content.substr(0, pos);
  if (header != header_line())
    throw std::invalid_argument(fmt::format("{}: not a convbench results file of this version (header differs)", path));
  const auto cols = split_csv_line(header);
  for (size_t line = 2; ++pos < content.size(); ++line) {
    const size_t end = content.find('\n', pos);
    const auto fields = split_csv_line(content.substr(pos, end - pos));
    if (fields.size() != cols.size())
      throw std::invalid_argument(
          fmt::format("{} line {}: {} fields, the header has {}; mend or remove that row to resume", path, line,
                      fields.size(), cols.size()));
    keys.insert(row_key(cols, fields));
    pos = end;
  }
  return keys;
}

}  // namespace convbench
