#!/usr/bin/env bash
# The CPU results committed under results/<machine>/ besides quick (ci/run.sh), bandlimited and
# training (ci/train_sweeps.sh): the seed functional analyses I-III, CPU-sized slices of Mathieu
# Fig 3, the core comparison of issue 2, the CPU performance target, tiled vs whole-input FFT,
# the transform size policies, the channel (f, f' = 1..512) and batch (S = 1..256, 1D/2D/3D)
# sweeps, convnet-benchmarks L1-L5 (S = 128; figure 3) and a CPU-sized slice of the fbfft space
# (S = 32, f = f' = 32 and 64, every n and k; figure 6). Each sweep resumes, so an interrupted
# run picks up where it stopped; then the figures are regenerated. ~50 min on the AMD hosts'
# 2-core VMs (channels 12, batch 5, convnet-benchmarks 11, fbfft slice 4), 26 on the Intel one;
# since channels, batch and convnet-benchmarks list cpu.fft_tiled too, its rows add about 9 min
# there (the three sweeps in full: 24 min; channels 11, batch 4, convnet-benchmarks 8).
# Run on a quiet machine: these are timings.
#
# Usage: bash ci/cpu_sweeps.sh [SWEEP...]   (default: all below)
# Environment: CONVBENCH_BIN (default build/release/convbench), OUT_DIR (default results/<machine>).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONVBENCH_BIN:-build/release/convbench}
[ -x "$bin" ] || { echo "cpu_sweeps: $bin not found (build first, or set CONVBENCH_BIN)" >&2; exit 1; }
dir=${OUT_DIR:-results/$("$bin" machine)}
mkdir -p "$dir"
sweeps=("$@")
[ ${#sweeps[@]} -gt 0 ] || sweeps=(seed_input_size seed_kernel_size seed_dims cpu_core cpu_target
                                   mathieu_fig3a_cpu mathieu_fig3b_cpu mathieu_fig3c_cpu fft_tiled fft_sizes
                                   channels batch convnet_benchmarks fbfft_space_cpu)
for s in "${sweeps[@]}"; do
  # The seed sweeps also list the cuda.* algorithms for GPU hosts; here only the CPU ones run.
  algo=()
  case "$s" in
    seed_*) algo=(--algo 'cpu.direct,cpu.im2col,cpu.fft') ;;
    cpu_target | fft_sizes) algo=(--rounds 3) ;;  # compared row against row: interleave the VM's drift
  esac
  echo "== $s" >&2
  "$bin" bench --sweep "sweeps/$s.json" "${algo[@]}" --out "$dir/$s.csv" --resume --progress
done
if [ -x .venv/bin/python ]; then PYTHONPATH=plots .venv/bin/python -m convbench_plots "$dir"; fi
