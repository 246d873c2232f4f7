#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the C++ tests (GoogleTest under
# ctest), the Python tests, the GPU bundle (packed, and its visit stopping at the device
# check on a machine without a GPU), the CUDA tests and a CUDA bench on the host simulation
# (tests/cudasim, under AddressSanitizer + UBSan), then the C++ tests again under
# AddressSanitizer + UBSan.
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

echo "== GPU bundle: packed, then a visit here, which without a GPU must stop at its device check"
if ! command -v nvcc >/dev/null; then
  echo "skipped: no CUDA toolkit (nvcc), so no CUDA build to pack"
elif nvidia-smi -L >/dev/null 2>&1; then
  echo "skipped: a GPU is here; run the visit itself (README: GPU hosts without internet)"
else
  check_bundle=build/gpu-bundle-check check_out=$(mktemp -d)
  BUNDLE=$check_bundle BUILD_DIR=build/release bash ci/gpu_build.sh pack >/dev/null
  BUNDLE=$check_bundle bash ci/gpu_build.sh env >/dev/null  # the bundle's libraries resolve
  if BUNDLE=$check_bundle COPY_TO=$check_out bash ci/gpu_build.sh visit >"$check_out/visit.log" 2>&1; then
    echo "gpu_build.sh visit ran its stages without a CUDA device"; exit 1
  fi
  grep "device NOT SEEN" "$check_bundle/logs/stages.txt" || { cat "$check_out/visit.log"; exit 1; }
  # grep reads the whole list: with -q it could exit first and SIGPIPE tar, failing the pipeline (pipefail)
  tar -tf "$check_out/logs.tar" | grep -x logs/test_cuda_device.log >/dev/null
  rm -rf "$check_bundle" "$check_out"
fi

echo "== CUDA code on the host simulation, under ASan + UBSan (tests/cudasim: our kernels, cuFFT, cuBLAS and cuDNN calls)"
if command -v nvcc >/dev/null; then
  cmake --preset cudasim >/dev/null
  cmake --build --preset cudasim -j"$jobs" --target test_cudasim test_algorithms_cuda test_cuda_device test_train convbench
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1  # the preset's sanitizers
  build/cudasim/test_cudasim
  build/cudasim/test_cuda_device
  build/cudasim/test_algorithms_cuda
  build/cudasim/test_train  # training with every algorithm, the CUDA ones and cudnn.best included
  sim_out=$(mktemp -d)
  build/cudasim/convbench bench --shape N=3,C=6,K=4,in=11x9,k=3x3,pad=1 \
    --shape N=2,C=4,K=6,in=7x6x5,k=2x3x2,stride=2 --algo 'cuda.*' --pass fprop,dgrad,wgrad,step \
    --compression 0,0.5 --reps 1 --stages --out "$sim_out/bench.csv" >/dev/null
  build/cudasim/convbench bench --shape N=3,C=6,K=4,in=11x9,k=3x3,pad=1 \
    --shape N=2,C=4,K=6,in=7x6x5,k=2x3x2,stride=2 --shape N=2,C=4,K=4,in=20,k=5,groups=2 --algo 'cudnn.*' \
    --pass fprop,dgrad,wgrad,step --precision fp32,tf32 --reps 1 --out "$sim_out/cudnn.csv" >/dev/null
  build/cudasim/convbench fft --sizes 8,12,32 --batch 8 --reps 1 --out "$sim_out/fft.csv"
  rm -rf "$sim_out"
else
  echo "skipped: no CUDA toolkit (nvcc) on this machine, so no CUDA headers to build the simulation with"
fi

echo "== build (asan + ubsan)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
echo "== ctest (asan + ubsan)"
ctest --preset asan -j"$jobs"

echo "== fuzz (sweep, shape and .npy parsers, 60 s)"
bash ci/fuzz.sh 60
