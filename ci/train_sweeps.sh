#!/usr/bin/env bash
# The seed study's training-step sweeps ("Neural Net training Analysis"): fftnet (conv 3->16 k,
# ReLU, max-pool 2, linear ->120->84->10) trained with every CPU algorithm of the build:
#   (I)   input:  batch 10, k 64, n in {70, 80, 90, 100, 110, 128}, 100 images per epoch
#   (II)  kernel: batch 4, n 128, k in {8, 16, ..., 64}, 128 images per epoch
#   (III) batch:  n 64, k 32, batch in {16, 32, 64, 128, 150, 180, 200}, 200 images per epoch
# SGD lr 0.001, momentum 0.9, synthetic images (FakeData-like, seed 1); EPOCHS epochs (default
# 2: the first also pays first-touch warm-up). Writes results/<machine>/train_{input,kernel,batch}.csv
# (one row per minibatch) with .stats.csv (per epoch) and .csv.env.json beside them.
#
# Cut to what a 2-core CPU finishes in about a quarter of an hour (17.7 min on a 2-core AMD EPYC
# VM: input 5.2, kernel 7.8, batch 4.7 min): cpu.direct (the naive loops: 7 s a step at n = 128,
# k = 64, batch 4; 17 s at batch 10) runs at most DIRECT_STEPS (default 3) minibatches per epoch,
# i.e. 30 of 100, 12 of 128 and 48..200 of 200 images; every other algorithm runs the seed's full
# data sets. The rows' `images` column and the stats' `count` show what ran, `dataset` the
# seed's epoch size. In the batch sweep the last minibatch of an epoch is partial (200 = 150 +
# 50, like the seed's DataLoader): per-minibatch time vs batch wants the rows with
# images == batch; the stats' total_ms is the epoch time (capped cpu.direct: extrapolate).
#
# Usage: bash ci/train_sweeps.sh [input] [kernel] [batch]      (default: all three)
# Environment: CONVBENCH_BIN (default build/release/convbench), ALGOS (space-separated names,
# default: the build's cpu.* algorithms), EPOCHS, DIRECT_STEPS, OUT_DIR (default results/<machine>).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONVBENCH_BIN:-build/release/convbench}
[ -x "$bin" ] || { echo "train_sweeps: $bin not found (build first, or set CONVBENCH_BIN)" >&2; exit 1; }
algos=${ALGOS:-$("$bin" list | awk '$1 ~ /^cpu\./ {print $1}')}
epochs=${EPOCHS:-2}
direct_steps=${DIRECT_STEPS:-3}
dir=${OUT_DIR:-results/$("$bin" machine)}
sweeps=("$@")
[ ${#sweeps[@]} -gt 0 ] || sweeps=(input kernel batch)
for sweep in "${sweeps[@]}"; do
  case $sweep in input | kernel | batch) ;; *) echo "train_sweeps: unknown sweep '$sweep' (input, kernel, batch)" >&2; exit 1 ;; esac
done
mkdir -p "$dir"

# One training run appended to $partial.
run() {  # algo batch input kernel dataset
  local cap=()
  [ "$1" = cpu.direct ] && cap=(--steps "$direct_steps")
  "$bin" train --net fftnet --algo "$1" --batch "$2" --input "$3" --kernel "$4" --dataset "$5" \
    --epochs "$epochs" --seed 1 "${cap[@]}" --out "$partial" --progress
}

for sweep in "${sweeps[@]}"; do
  out="$dir/train_$sweep.csv"
  partial="$dir/train_$sweep.partial.csv"
  rm -f "$partial" "${partial%.csv}.stats.csv" "$partial.env.json" "${partial%.csv}.stats.csv.env.json"  # restart from scratch
  start=$SECONDS
  for algo in $algos; do
    case $sweep in
      input) for n in 70 80 90 100 110 128; do run "$algo" 10 "$n" 64 100; done ;;
      kernel) for k in 8 16 24 32 40 48 56 64; do run "$algo" 4 128 "$k" 128; done ;;
      batch) for b in 16 32 64 128 150 180 200; do run "$algo" "$b" 64 32 200; done ;;
    esac
  done
  mv "$partial" "$out"
  mv "${partial%.csv}.stats.csv" "${out%.csv}.stats.csv"
  mv "$partial.env.json" "$out.env.json"
  mv "${partial%.csv}.stats.csv.env.json" "${out%.csv}.stats.csv.env.json"
  echo "train_sweeps: $sweep in $((SECONDS - start)) s -> $out (+ .stats.csv, .env.json sidecars)"
done
