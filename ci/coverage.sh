#!/usr/bin/env bash
# Line coverage of kernels/, harness/ and baselines/ under the tests, to find code that no test
# runs. The build is the host simulation (CONVBENCH_CUDA=SIM, as in ci/test.sh), so the CUDA
# kernels count too. It runs the C++ tests, the CLI tests against that build's convbench, and
# ci/test.sh's simulated bench and transform runs. Not part of CI: about 25 minutes on 2 cores,
# and it needs the CUDA toolkit's headers and PyPI (for gcovr).
# Report: build/coverage/coverage.txt (per file: lines, covered, the missing ones). A template is
# one line set for all its instantiations; gcov's own files (gcov -m) mark with '*' the lines
# that some instantiations never ran.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || { echo "coverage: needs the CUDA toolkit (nvcc) for the simulation build" >&2; exit 1; }
bash ci/setup.sh
out=build/coverage
jobs=$(nproc)
cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="--coverage -O1 -g" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCONVBENCH_CUDA=SIM >/dev/null
cmake --build "$out" -j"$jobs"
find "$out" -name '*.gcda' -delete  # this run's counts only
ctest --test-dir "$out" -j"$jobs" --output-on-failure
# The simulation build lists the CUDA algorithms too, so CLI tests that count the release build's
# rows may fail here; what ran still counts.
CONVBENCH_BIN="$PWD/$out/convbench" .venv/bin/python -m pytest -q tests/python ||
  echo "coverage: CLI tests failed against the simulation build (row counts of the release build?); the report counts what ran"
tmp=$(mktemp -d)
"$out/convbench" bench --shape N=3,C=6,K=4,in=11x9,k=3x3,pad=1 --shape N=2,C=4,K=6,in=7x6x5,k=2x3x2,stride=2 \
  --algo 'cuda.*,cudnn.*' --pass fprop,dgrad,wgrad,step --compression 0,0.5 --reps 1 --stages --out "$tmp/bench.csv" >/dev/null
"$out/convbench" fft --sizes 8,12,32 --batch 8 --reps 1 --out "$tmp/fft.csv" >/dev/null
rm -rf "$tmp"
[ -x "$out/venv/bin/gcovr" ] || { python3 -m venv "$out/venv" && "$out/venv/bin/pip" install -q gcovr==8.8; }
"$out/venv/bin/gcovr" -r . "$out" --filter 'kernels/' --filter 'harness/' --filter 'baselines/' \
  --exclude-throw-branches --gcov-ignore-parse-errors=all --txt "$out/coverage.txt" -j "$jobs"
cat "$out/coverage.txt"
