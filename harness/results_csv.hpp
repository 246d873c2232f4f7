// The results CSV of DESIGN.md: one row per shape x algorithm x pass, written and flushed row by
// row so an interrupted sweep keeps every finished row; --resume reads the keys back.
#pragma once

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "convbench/shape.hpp"

namespace convbench {

struct ResultRow {
  std::string sweep;
  Shape shape;
  std::string algo, pass, precision = "fp32", fft_policy = "cheapest", fft_size;
  double compression = 0;
  std::string status = "ok", reason;  // ok | skipped | failed
  int reps = 0;
  double time_ms = 0, time_min_ms = 0, time_max_ms = 0, time_std_ms = 0;
  double direct_flops = 0, model_flops = 0, model_bytes = 0;
  double workspace_bytes = 0, peak_mem_bytes = 0;
  double rel_error = -1, tolerance = 0;  // rel_error < 0: not measured
  std::string validation;                 // "full" or "sampled:<count>"
  double sm_clock_mhz = 0;
  int threads = 0;
  std::string device;
  std::string detail;  // what the algorithm chose (cudnn.best's algorithm, math type, determinism)
};

// Column names, in file order.
const std::vector<std::string>& csv_columns();

// Identity of a row for --resume and merging: sweep, shape, algo, pass, precision, fft policy,
// compression.
std::string row_key(const ResultRow& r);
// The same key read back from a CSV record (fields by column name).
std::string row_key(const std::vector<std::string>& header, const std::vector<std::string>& fields);

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> split_csv_line(const std::string& line);

class CsvWriter {
 public:
  // Opens path for appending; writes the header if the file is new or empty. An existing file
  // must have exactly our header (otherwise throws, naming the file).
  explicit CsvWriter(const std::string& path);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;
  void write(const ResultRow& r);  // one line, flushed to the OS before returning

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

// The complete rows of a results CSV, as --resume and merge read it: a torn last line (no
// newline: a run killed mid-write) is left out, and `complete_bytes` is where it began; a row
// whose field count differs from the header's throws, naming file and line. Empty header: the
// file is empty (or absent).
struct ResultsText {
  std::string header;                            // without its line end
  std::vector<std::string> columns;              // the header's fields
  std::vector<std::string> lines;                // the complete rows, as written
  std::vector<std::vector<std::string>> fields;  // and split
  bool torn = false;
  std::size_t complete_bytes = 0;
};
ResultsText read_results_text(const std::string& path);

// Keys of the complete rows already in a results CSV (empty when the file does not exist).
// A torn last line (killed mid-write) is ignored and cut off so appending stays valid.
std::set<std::string> completed_row_keys(const std::string& path);

}  // namespace convbench
