#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the default sweep (sweeps/quick.json)
# on the backend present, writing results/<machine>/quick.csv and its .env.json, then the
# figures (results/<machine>/figures/, python -m convbench_plots). An interrupted
# run resumes where it stopped; a finished run is replaced by the new measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

bin=build/release/convbench
"$bin" list
machine=$("$bin" machine)
dir="results/$machine"
mkdir -p "$dir"
partial="$dir/quick.partial.csv"
# Google Benchmark's console table goes to a log; the CSV is the result.
"$bin" bench --sweep sweeps/quick.json --out "$partial" --resume --progress >build/quick-console.log
mv "$partial" "$dir/quick.csv"
mv "$partial.env.json" "$dir/quick.csv.env.json"
echo "main: results in $dir/quick.csv (+ .env.json)"
# Mathieu Fig. 2 is a model figure (counts, no timing); then every figure the folder has data for.
"$bin" model --sweep sweeps/mathieu_fig2.json --out "$dir/mathieu_fig2_model.csv"
PYTHONPATH=plots .venv/bin/python -m convbench_plots "$dir"
echo "main: figures in $dir/figures/ (index.md lists them and what was skipped)"
