#include "results_csv.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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

ResultsText read_results_text(const std::string& path) {
  ResultsText r;
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!content.empty() && content.back() != '\n') {
    const size_t cut = content.rfind('\n');
    content.resize(cut == std::string::npos ? 0 : cut + 1);
    r.torn = true;
  }
  r.complete_bytes = content.size();
  std::istringstream rows(content);
  std::string line;
  if (!std::getline(rows, line)) return r;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  r.header = line;
  r.columns = split_csv_line(line);
  for (size_t line_no = 2; std::getline(rows, line); ++line_no) {
    if (line.empty()) continue;
    auto fields = split_csv_line(line);
    if (fields.size() != r.columns.size())
      throw std::invalid_argument(fmt::format("{} line {}: {} fields, the header has {} (a damaged row: mend or remove it)",
                                              path, line_no, fields.size(), r.columns.size()));
    r.lines.push_back(std::move(line));
    r.fields.push_back(std::move(fields));
  }
  return r;
}

std::set<std::string> completed_row_keys(const std::string& path) {
  std::set<std::string> keys;
  if (!std::filesystem::exists(path)) return keys;
  const ResultsText r = read_results_text(path);
  if (r.torn) std::filesystem::resize_file(path, r.complete_bytes);  // so that appending stays valid
  if (r.header.empty()) return keys;
  if (r.header != header_line())
    throw std::invalid_argument(fmt::format("{}: not a convbench results file of this version (header differs)", path));
  for (const auto& f : r.fields) keys.insert(row_key(r.columns, f));
  return keys;
}

}  // namespace convbench
