#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the C++ tests (GoogleTest under
# ctest), the Python tests, then the C++ tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
jobs=$(nproc)

echo "== build (release)"
cmake --preset release >/dev/null
cmake --build --preset release -j"$jobs"
echo "== ctest (release)"
ctest --preset release -j"$jobs"
echo "== pytest"
CONVBENCH_BIN="$PWD/build/release/convbench" .venv/bin/python -m pytest -q tests/python
echo "== pytest (plots)"
.venv/bin/python -m pytest -q plots/tests

echo "== build (asan + ubsan)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
echo "== ctest (asan + ubsan)"
ctest --preset asan -j"$jobs"

echo "== fuzz (sweep and shape parsers, 60 s)"
bash ci/fuzz.sh 60
