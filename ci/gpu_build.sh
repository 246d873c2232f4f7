#!/usr/bin/env bash
# convbench's CUDA backend on a GPU host without internet access (README: "GPU hosts without
# internet"). Such a host has the NVIDIA driver, nvcc, cmake, ninja, Python with the NVIDIA
# wheels (cuDNN, cuBLAS, cuFFT), but none of the Debian -dev packages the CPU side needs
# (FFTW, OpenBLAS, oneDNN, fmt, Google Benchmark, CLI11, nlohmann-json, GoogleTest). So we
# build on a machine that has them and the CUDA toolkit, and carry the binaries plus the
# non-CUDA shared libraries (compressed); the CUDA libraries come from the GPU host itself.
#
# STATUS: run on an NVIDIA H200 host (2026-12-04, driver 580, CUDA 13.0, cuDNN 9.19 from the
# wheel): a bundle packed on Debian 12 ran there as is; `first` took 94 s, `sanitize` and the
# sweeps as README's H200 section says. On GPU-less machines the CUDA tests run on the host
# simulation (tests/cudasim) instead.
#
#   bash ci/gpu_build.sh pack      build machine: build (CUDA on) and write the bundle
#   bash ci/gpu_build.sh env       GPU host: unpack, find the CUDA libraries, check the binaries
#   bash ci/gpu_build.sh test      GPU host: the CUDA tests (skips are failures there)
#   bash ci/gpu_build.sh sanitize  GPU host: the CUDA tests of our algorithms and cudnn.best under
#                                  compute-sanitizer memcheck (SANITIZER_TOOL: racecheck, synccheck,
#                                  initcheck instead; GTEST_FILTER overrides; random shapes per
#                                  dims: CONVBENCH_TEST_SHAPES, default 6)
#   bash ci/gpu_build.sh sweeps    GPU host: the GPU sweeps, fp32 and tf32, with --stages (the FFT
#                                  algorithms' stage times in `detail`), into results/<gpu>/
#   bash ci/gpu_build.sh transforms GPU host: own small FFT vs cuFFT (convbench fft) into results/<gpu>/
#   bash ci/gpu_build.sh train     GPU host: the seed's training sweeps (ci/train_sweeps.sh) with
#                                  ALGOS (default: cuda.direct cuda.im2col cuda.fft cuda.fbfft cudnn.best)
#   bash ci/gpu_build.sh profile   GPU host: Nsight Compute (ncu) of what PROFILE lists (default
#                                  transforms cuda.fft cuda.fbfft): the transform benchmark's kernels
#                                  (cuFFT's and ours, 2D, PROFILE_SIZES, default 16,32), and the first
#                                  PROFILE_KERNELS (12) kernels of an algorithm's training step on
#                                  SHAPE (default Mathieu's N=128,C=96,K=256,in=32x32,k=7x7): per
#                                  kernel duration, DRAM and SM throughput, occupancy, registers,
#                                  bank conflicts, warp stalls, as CSV in $BUNDLE/logs/ncu.<what>.csv
#                                  and a row per kernel in ncu.<what>.md
#   bash ci/gpu_build.sh first     GPU host, first visit, about 10 minutes: device tests, the tests
#                                  of cuda.fft, cuda.fbfft and the own transforms, the transform
#                                  benchmark, the band-limited sweep, the tests of the other
#                                  algorithms and cudnn.best, the Mathieu layers (FFT algorithms vs
#                                  cuDNN, fp32) and the fprop target (gpu_target, fprop), in that
#                                  order, each stage under a time limit; with COPY_TO=<dir>, logs
#                                  and results are copied there (logs.tar, results.tar) after
#                                  every stage
#   bash ci/gpu_build.sh rest      GPU host, after `first` or `retime`, under 10 minutes: the FFT
#                                  algorithms' step on gpu_target with cuBLAS's usual complex GEMMs
#                                  only (--complex-gemm 4m, into complex_gemm_4m/gpu_target.csv:
#                                  against the rows of the planner, which times 4m and 3m per GEMM),
#                                  then what the committed GPU
#                                  results still lack, resumed (--resume) into the same CSVs:
#                                  Mathieu Fig 3 (b, c, then a), gpu_target, then cuda.direct's
#                                  rows (slow: up to 3 s a run; resumed on each visit) of Fig 3 and
#                                  convnet-benchmarks;
#                                  staged and copied like `first`
#   bash ci/gpu_build.sh retime    GPU host, under 10 minutes, after a change to the FFT algorithms:
#                                  their tests (and memcheck and racecheck over the own
#                                  transforms' and the grid chunks' tests), the
#                                  transform benchmark, then RETIME's rows (default cuda.fft,cuda.fbfft)
#                                  dropped from the committed CSVs and measured again (--resume):
#                                  band-limited, gpu_target (also with --filter-spectra fft, into
#                                  filter_fft/gpu_target.csv), Mathieu layers, convnet-benchmarks,
#                                  then `profile` of the transforms and of cuda.fbfft's step (what
#                                  later work without a GPU can start from); staged and copied
#                                  like `first`
#   bash ci/gpu_build.sh visit     GPU host, one call: retime, or on a GPU without committed cuDNN
#                                  rows of the Mathieu layers (new to results/) first and
#                                  convnet-benchmarks against cuDNN; then rest with what BUDGET_S leaves
#
# Environment:
#   BUNDLE      bundle folder (default build/gpu-bundle; under build/, so git ignores it)
#   BUDGET_S    first, rest, retime, visit: seconds for the whole call (default 580); a stage gets
#               at most what is left, and is skipped (said in stages.txt) under 10 s
#   BUILD_DIR   pack: build folder (default build/gpu); CUDA_ARCHS: default 80;90
#   CUDNN_ROOT  GPU host: cuDNN folder with lib/ (default: the nvidia-cudnn wheel's folder,
#               <site-packages>/nvidia/cudnn, found through python3)
#   SWEEPS      sweeps: sweep names (default: mathieu_layers mathieu_fig3a mathieu_fig3b
#               mathieu_fig3c convnet_benchmarks gpu_target); ALGOS (default 'cuda.*,cudnn.*'),
#               PRECISIONS (default fp32,tf32), PASSES (default: the sweep's), REPS, SHARD (i/n)
#               e.g. band-limited: SWEEPS=bandlimited ALGOS=cuda.fft,cuda.fbfft PRECISIONS=fp32
#               BENCH_ARGS: more `convbench bench` options; OUT_SUBDIR: write results/<gpu>/<subdir>/<sweep>.csv
#               (a variant beside the folder's own rows: the figures read only results/<gpu>/*.csv)
#   FFT_ARGS    transforms: extra `convbench fft` options (e.g. --batch 4096 --reps 50)
set -euo pipefail
self=$(realpath "$0")  # the stages of `first` call this script again, from the repository root
cd "$(dirname "$self")/.."
mode=${1:-}
bundle=${BUNDLE:-build/gpu-bundle}

# The tests of our algorithms, cudnn.best and the transforms (not every cudnn.* one by one).
ours='CudaDevice.*:*cuda_direct*:*cuda_im2col*:*cuda_fft*:*cuda_fbfft*:*cudnn_best*:*CudaFftBandLimited*:OwnSmallFft.*:CudaFftSizes.*:CudaFftStages.*:CudaFftWorkspace.*:CudaFbfftSplitLengths.*:*CudaFftComplexGemm*:CudaWideIndices.*'
# The same tests in two parts for `first`: cuda.fft and cuda.fbfft (whole-input) with the own
# transforms and every kernel's 64-bit index path, then the rest (the tiled FFTs, direct, im2col,
# cudnn.best).
fft_tests='*/cuda_fft:*/cuda_fbfft:*CudaFftBandLimited*:OwnSmallFft.*:CudaFftSizes.*:CudaFftStages.*:CudaFftWorkspace.*:CudaFbfftSplitLengths.*:*CudaFftComplexGemm*:CudaAlgorithmList.*:CudaWideIndices.*'
other_tests='*_tiled:*cuda_direct*:*cuda_im2col*:*cudnn_best*'

die() {
  echo "gpu_build: $*" >&2
  exit 1
}

pack() {
  local build=${BUILD_DIR:-build/gpu} archs=${CUDA_ARCHS:-80;90}
  command -v nvcc >/dev/null || die "pack needs the CUDA toolkit (nvcc) on this machine"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVBENCH_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$archs" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target convbench test_algorithms_cuda test_cuda_device
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib.tmp"
  cp "$build"/convbench "$build"/test_algorithms_cuda "$build"/test_cuda_device "$bundle/bin/"
  # Everything ldd resolves, except the C/C++ runtime (the host has its own, newer) and the
  # CUDA libraries (they must match the host's driver: its toolkit or wheels provide them).
  local skip='^(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[-a-z0-9_]*|libcuda|libcudart|libcublas|libcublasLt|libcufft|libcudnn[a-z_]*|libnvidia-ml)\.so'
  ldd "$bundle"/bin/* | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u | grep -Ev "$skip" |
    while read -r _ path; do cp -L "$path" "$bundle/lib.tmp/"; done
  ldd "$bundle"/bin/* | awk '$2 == "=>" {print $1}' | grep -E '^lib(cudart|cublas|cublasLt|cufft|cudnn)' |
    sort -u >"$bundle/cuda-libs.txt"
  tar -C "$bundle/lib.tmp" -cJf "$bundle/lib.tar.xz" .
  rm -rf "$bundle/lib.tmp"
  { git rev-parse HEAD 2>/dev/null || echo unknown; } >"$bundle/git-sha"
  nvcc --version | tail -1 >"$bundle/built-with"
  echo "gpu_build: bundle in $bundle ($(du -sh "$bundle" | cut -f1)); CUDA libraries the GPU host must provide:"
  sed 's/^/  /' "$bundle/cuda-libs.txt"
}

# Folders of the NVIDIA wheels (nvidia is a namespace package, possibly in several site dirs).
nvidia_dirs() {
  python3 - <<'EOF' 2>/dev/null || true
import importlib.util
spec = importlib.util.find_spec("nvidia")
for p in (spec.submodule_search_locations if spec else []):
    print(p)
EOF
}

# Sets LD_LIBRARY_PATH: bundle libraries, cuDNN (CUDNN_ROOT), the toolkit, then the wheels.
setup_env() {
  [ -x "$bundle/bin/convbench" ] || die "no bundle in $bundle: run 'bash ci/gpu_build.sh pack' on the build machine and bring $bundle along"
  if [ ! -d "$bundle/lib" ]; then
    mkdir -p "$bundle/lib"
    tar -C "$bundle/lib" -xJf "$bundle/lib.tar.xz"
  fi
  local dirs=() d
  mapfile -t nv < <(nvidia_dirs)
  if [ -z "${CUDNN_ROOT:-}" ]; then
    for d in "${nv[@]}"; do [ -d "$d/cudnn/lib" ] && CUDNN_ROOT="$d/cudnn" && break; done
  fi
  export CUDNN_ROOT=${CUDNN_ROOT:-}
  dirs+=("$(realpath "$bundle")/lib")
  [ -n "$CUDNN_ROOT" ] && dirs+=("$CUDNN_ROOT/lib")
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && dirs+=("$d"); done
  for d in "${nv[@]}"; do
    for l in "$d"/*/lib "$d"/cu1[0-9]/lib; do [ -d "$l" ] && dirs+=("$l"); done
  done
  LD_LIBRARY_PATH=$(IFS=:; echo "${dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
  local missing
  # Also catches symbol versions the host's runtime lacks (the binaries need GLIBC 2.34 and
  # GLIBCXX 3.4.30, i.e. a glibc and libstdc++ of 2021-22 or later).
  missing=$(ldd "$bundle"/bin/* 2>&1 | { grep "not found" || true; } | sed 's/^\s*//' | sort -u)
  [ -z "$missing" ] || die "unresolved: $missing (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"
}

print_env() {
  echo "bundle:          $bundle (git $(cat "$bundle/git-sha"), $(cat "$bundle/built-with"))"
  echo "CUDNN_ROOT:      ${CUDNN_ROOT:-<not found: cuDNN must come from the toolkit>}"
  echo "LD_LIBRARY_PATH: $LD_LIBRARY_PATH"
  ldd "$bundle/bin/convbench" | { grep -E 'libcud|libcublas|libcufft' || echo "no CUDA libraries linked"; } | sed 's/^\s*/  /'
  "$bundle/bin/convbench" list | tail -1
}

run_tests() {
  local prefix=("$@") log="$bundle/logs"
  mkdir -p "$log"
  # On the GPU host a skipped CUDA test means the device was not seen: fail instead.
  "${prefix[@]}" "$bundle/bin/test_cuda_device" 2>&1 | tee "$log/test_cuda_device.log"
  "${prefix[@]}" "$bundle/bin/test_algorithms_cuda" 2>&1 | tee "$log/test_algorithms_cuda${prefix:+.${SANITIZER_TOOL:-memcheck}}.log"
  if grep -q "^\[  SKIPPED \]" "$log/test_cuda_device.log"; then die "CUDA device not seen (see $log)"; fi
}

sweeps() {
  local bin="$bundle/bin/convbench" machine s args out
  machine=$("$bin" machine)
  mkdir -p "results/$machine"
  for s in ${SWEEPS:-mathieu_layers mathieu_fig3a mathieu_fig3b mathieu_fig3c convnet_benchmarks gpu_target}; do
    out="results/$machine/${OUT_SUBDIR:+$OUT_SUBDIR/}$s.csv"
    mkdir -p "$(dirname "$out")"
    [ -n "${SHARD:-}" ] && out="results/$machine/$s.${SHARD/\//-of-}.csv"  # merge the shards afterwards
    args=(--sweep "sweeps/$s.json" --algo "${ALGOS:-cuda.*,cudnn.*}" --precision "${PRECISIONS:-fp32,tf32}"
      --out "$out" --resume --progress --stages)  # --stages: where the FFT algorithms' time goes, per row
    [ -n "${PASSES:-}" ] && args+=(--pass "$PASSES")
    [ -n "${REPS:-}" ] && args+=(--reps "$REPS")
    [ -n "${SHARD:-}" ] && args+=(--shard "$SHARD")
    # shellcheck disable=SC2206  # BENCH_ARGS is a list of options
    [ -n "${BENCH_ARGS:-}" ] && args+=(${BENCH_ARGS})
    echo "gpu_build: $s -> results/$machine"
    "$bin" bench "${args[@]}" >"$bundle/logs/$s.console.log" || [ $? -eq 3 ] # 3: some row failed, see the CSV
  done
}

transforms() {
  local bin="$bundle/bin/convbench" machine
  machine=$("$bin" machine)
  # shellcheck disable=SC2086  # FFT_ARGS is a list of options
  "$bin" fft --out "results/$machine/fft_transform_r2c.csv" ${FFT_ARGS:-} 2>&1 | tee "$bundle/logs/fft.console.log"
}

# Nsight Compute, bounded so that it fits a stage. PROFILE lists what: `transforms` (the transform
# benchmark's kernels, cuFFT's and ours, 2D, PROFILE_SIZES) and algorithm names (the first
# PROFILE_KERNELS kernels of one training step on SHAPE, --complex-gemm 4m: no planner GEMMs before
# the step's own). Reports go to $BUNDLE/logs/ncu.<what>.csv (ncu's details page: duration, DRAM and
# SM throughput, occupancy, registers, bank conflicts, warp stalls per kernel) and ncu.<what>.md
# (ci/ncu_summary.py: a row per kernel); an ncu failure is logged, never fatal.
profile() {
  local ncu what bin="$bundle/bin/convbench" shape=${SHAPE:-N=128,C=96,K=256,in=32x32,k=7x7} log="$bundle/logs"
  # MemoryWorkloadAnalysis_Tables: shared memory bank conflicts, L1/L2 sector use per access kind.
  local sections=(--section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables
    --section ComputeWorkloadAnalysis --section Occupancy --section LaunchStats --section WarpStateStats
    --section SchedulerStats)
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1 || true)
  [ -n "$ncu" ] || die "Nsight Compute (ncu) not found"
  mkdir -p "$log"
  # what, launches, kernel-name filter, then the command; the report is saved, then exported as CSV.
  run_ncu() {
    local what=$1 count=$2 filter=$3
    shift 3
    rm -f "$log/ncu.$what.ncu-rep" "$log/profile.$what.csv" "$log/profile.$what.csv.env.json"
    echo "gpu_build: profiling $what"
    if "$ncu" --clock-control none "${sections[@]}" --launch-count "$count" ${filter:+--kernel-name-base demangled --kernel-name "$filter"} \
      -o "$log/ncu.$what" "$@" >"$log/ncu.$what.out" 2>&1 &&
      "$ncu" --import "$log/ncu.$what.ncu-rep" --csv --page details >"$log/ncu.$what.csv" 2>>"$log/ncu.$what.out"; then
      rm -f "$log/ncu.$what.ncu-rep"
      python3 ci/ncu_summary.py "$log/ncu.$what.csv" >"$log/ncu.$what.md" || true  # a row per kernel
    else
      echo "gpu_build: ncu failed for $what (see $log/ncu.$what.out)"
    fi
  }
  for what in ${PROFILE:-transforms cuda.fft cuda.fbfft}; do
    if [ "$what" = transforms ]; then
      # Per size and implementation (cuFFT, cuda.fbfft, at 32 cuda.fbfft_split): a warm-up and one timed run.
      run_ncu transforms 24 "" "$bin" fft --dims 2 --sizes "${PROFILE_SIZES:-16,32}" --batch 16384 --reps 1 \
        --out "$log/profile.transforms.csv"
    else
      # The warm-up step's own kernels and cuBLAS's GEMMs (not the inputs' fill), matched on
      # demangled names: cuBLAS's CUTLASS kernels say "gemm" only in template arguments.
      run_ncu "$what" "${PROFILE_KERNELS:-12}" 'regex:small_fft|gemm|scatter|gather|transpose|to_complex|real_part' \
        "$bin" bench --shape "$shape" --algo "$what" --pass step --reps 1 --complex-gemm 4m --out "$log/profile.$what.csv"
    fi
  done
}

# The staged modes (first, rest, retime, visit) keep within BUDGET_S seconds in all (default
# 580: under a 10-minute limit on the whole call, unpacking the bundle included): a stage gets at
# most what is left, and is skipped, saying so, when under 10 s is.
budget=${BUDGET_S:-580}

# Stage name, time limit (s), command...: runs it, never stops the script, copies what exists.
stage() {
  local name=$1 limit=$2 rc=0 left=$((budget - SECONDS))
  shift 2
  if [ "$left" -lt 10 ]; then
    echo "$name skipped: ${left} s of BUDGET_S=$budget left" | tee -a "$bundle/logs/stages.txt"
    return 0
  fi
  [ "$left" -lt "$limit" ] && limit=$left
  echo "gpu_build: stage $name (limit ${limit}s)"
  timeout "$limit" "$@" || rc=$?
  echo "$name rc=$rc" >>"$bundle/logs/stages.txt"
  if [ -n "${COPY_TO:-}" ]; then
    mkdir -p "$COPY_TO"  # two archives: a host may bring back only a few files
    tar -C "$bundle" -cf "$COPY_TO/logs.tar" logs 2>/dev/null || true
    find results -type f -newer "$bundle/logs/.start" 2>/dev/null | tar -cf "$COPY_TO/results.tar" -T - || true
  fi
}

# Before the stages of a staged mode: the environment, an empty stage log, the start mark, and
# the device tests: where they skip (no device seen: a driver too old for the bundle's CUDA, no
# GPU) every stage would only skip or fail, so the call stops there with the reason in its logs.
begin_stages() {
  setup_env && print_env
  mkdir -p "$bundle/logs"
  : >"$bundle/logs/stages.txt"
  touch "$bundle/logs/.start"  # results newer than this are this run's
  stage device-tests 45 bash -o pipefail -c "'$bundle/bin/test_cuda_device' 2>&1 | tee '$bundle/logs/test_cuda_device.log'"
  if grep -q "^\[  SKIPPED \]" "$bundle/logs/test_cuda_device.log"; then
    echo "device NOT SEEN: no stage run ($(grep -m1 'CUDA tests skipped' "$bundle/logs/test_cuda_device.log"))" |
      tee -a "$bundle/logs/stages.txt"
    [ -z "${COPY_TO:-}" ] || tar -C "$bundle" -cf "$COPY_TO/logs.tar" logs
    die "no CUDA device seen (see $bundle/logs/test_cuda_device.log)"
  fi
}

# The stage limits add up to 570 s; typical stages end well before their limits.
first() {
  begin_stages
  first_stages
  cat "$bundle/logs/stages.txt"
}

first_stages() {
  # What the FFT work needs first (its tests, transform benchmark, band-limited sweep), so that a
  # call cut short still brings it back; then the other algorithms' tests and the layer timings.
  stage fft-tests 150 env GTEST_FILTER="$fft_tests" bash -o pipefail -c \
    "'$bundle/bin/test_algorithms_cuda' 2>&1 | tee '$bundle/logs/test_algorithms_cuda.fft.log'"
  stage transforms 45 bash "$self" transforms
  stage bandlimited 75 env SWEEPS=bandlimited ALGOS=cuda.fft,cuda.fbfft PRECISIONS=fp32 bash "$self" sweeps
  stage other-tests 90 env GTEST_FILTER="$other_tests:CudaCheck.*" bash -o pipefail -c \
    "'$bundle/bin/test_algorithms_cuda' 2>&1 | tee '$bundle/logs/test_algorithms_cuda.other.log'"
  stage mathieu-layers 120 env SWEEPS=mathieu_layers PRECISIONS=fp32 \
    ALGOS=cuda.fft,cuda.fbfft,cuda.im2col,cudnn.best,cudnn.fft,cudnn.fft_tiling bash "$self" sweeps
  stage gpu-target 45 env SWEEPS=gpu_target PASSES=fprop PRECISIONS=fp32 bash "$self" sweeps
}

# The rest of the GPU sweeps, resumed into results/<gpu>/ (committed CSVs keep what earlier
# visits measured); the stage limits add up to 570 s as in `first`.
rest_stages() {
  local fast='cuda.fft,cuda.fbfft,cuda.im2col,cuda.fft_tiled,cuda.fbfft_tiled,cudnn.*'
  stage gemm-4m 50 env SWEEPS=gpu_target ALGOS=cuda.fft,cuda.fbfft PRECISIONS=fp32 PASSES=step \
    BENCH_ARGS="--complex-gemm 4m" OUT_SUBDIR=complex_gemm_4m bash "$self" sweeps
  stage fig3 200 env SWEEPS="mathieu_fig3b mathieu_fig3c mathieu_fig3a" ALGOS="$fast" bash "$self" sweeps
  stage gpu-target 120 env SWEEPS=gpu_target bash "$self" sweeps
  stage direct 200 env SWEEPS="mathieu_fig3b mathieu_fig3c convnet_benchmarks mathieu_fig3a" ALGOS=cuda.direct \
    bash "$self" sweeps
}

# compute-sanitizer over the tests of our hand-written transform kernels: memcheck, then
# racecheck (shared-memory hazards: the host simulation shows one only where it changes a result).
sanitizer_stages() {
  stage fft-memcheck 60 env GTEST_FILTER='*/cuda_fbfft:OwnSmallFft.*:*CudaFftGridChunks*:CudaFbfftSplitLengths.*' CONVBENCH_TEST_SHAPES=3 \
    bash "$self" sanitize
  stage fft-racecheck 40 env SANITIZER_TOOL=racecheck GTEST_FILTER='OwnSmallFft.*:CudaFbfftSplitLengths.*' \
    CONVBENCH_TEST_SHAPES=2 bash "$self" sanitize
}

# Drops the rows of the given algorithms and precisions (comma lists) from a results CSV, so
# that --resume measures them again; the other rows stay as committed.
drop_rows() {
  local csv=$1 algos=$2 precisions=$3
  [ -f "$csv" ] || return 0
  python3 - "$csv" "$algos" "$precisions" <<'EOF'
import csv, sys
path, algos, precisions = sys.argv[1], set(sys.argv[2].split(",")), set(sys.argv[3].split(","))
with open(path, newline="") as f:
    rows = list(csv.reader(f))
algo, precision = rows[0].index("algo"), rows[0].index("precision")
kept = [rows[0]] + [r for r in rows[1:] if r[algo] not in algos or r[precision] not in precisions]
with open(path, "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(kept)
print(f"gpu_build: {path}: {len(rows) - len(kept)} rows of {sys.argv[2]} ({sys.argv[3]}) to measure again")
EOF
}

# After a change to the FFT algorithms: their tests first, then their rows measured again (stage
# limits adding up to 570 s as in `first`), then a profile.
retime_stages() {
  local algos=${RETIME:-cuda.fft,cuda.fbfft} machine s
  machine=$("$bundle/bin/convbench" machine)
  stage fft-tests 120 env GTEST_FILTER="$fft_tests" bash -o pipefail -c \
    "'$bundle/bin/test_algorithms_cuda' 2>&1 | tee '$bundle/logs/test_algorithms_cuda.fft.log'"
  sanitizer_stages
  stage transforms 45 bash "$self" transforms
  for s in bandlimited gpu_target mathieu_layers convnet_benchmarks; do drop_rows "results/$machine/$s.csv" "$algos" fp32; done
  stage bandlimited 75 env SWEEPS=bandlimited ALGOS="$algos" PRECISIONS=fp32 bash "$self" sweeps
  stage gpu-target 90 env SWEEPS=gpu_target ALGOS="$algos" PRECISIONS=fp32 bash "$self" sweeps
  stage gpu-target-filter-fft 40 env SWEEPS=gpu_target ALGOS="$algos" PRECISIONS=fp32 PASSES=fprop,step \
    BENCH_ARGS="--filter-spectra fft" OUT_SUBDIR=filter_fft bash "$self" sweeps
  stage mathieu-layers 90 env SWEEPS=mathieu_layers ALGOS="$algos" PRECISIONS=fp32 bash "$self" sweeps
  stage convnet 50 env SWEEPS=convnet_benchmarks ALGOS="$algos" PRECISIONS=fp32 bash "$self" sweeps
  # Past the 570 s: typical stages end well before their limits; these get what BUDGET_S leaves.
  # One stage per report: a profile cut short is lost whole.
  stage profile-transforms 40 env PROFILE=transforms bash "$self" profile
  stage profile-step 40 env PROFILE=cuda.fbfft bash "$self" profile
}

# One call: retime on a GPU whose Mathieu layers already have cuDNN rows, else (a GPU new to
# results/) first and the convnet-benchmarks layers against cuDNN, since retime would time our
# FFT algorithms alone; then rest with what BUDGET_S leaves.
visit() {
  local machine
  begin_stages
  machine=$("$bundle/bin/convbench" machine)
  if grep -qs ',cudnn\.best,' "results/$machine/mathieu_layers.csv"; then
    retime_stages
  else
    echo "visit: results/$machine/mathieu_layers.csv has no cudnn.best rows: first visit of this GPU" |
      tee -a "$bundle/logs/stages.txt"
    first_stages
    stage convnet 90 env SWEEPS=convnet_benchmarks PRECISIONS=fp32 \
      ALGOS=cuda.fft,cuda.fbfft,cuda.im2col,cudnn.best,cudnn.fft,cudnn.fft_tiling bash "$self" sweeps
    sanitizer_stages
  fi
  rest_stages
  cat "$bundle/logs/stages.txt"
}

case "$mode" in
  pack) pack ;;
  retime) begin_stages && retime_stages && cat "$bundle/logs/stages.txt" ;;
  first) first ;;
  rest) begin_stages && rest_stages && cat "$bundle/logs/stages.txt" ;;
  visit) visit ;;
  profile) setup_env && profile ;;
  env) setup_env && print_env ;;
  test) setup_env && print_env && run_tests ;;
  sanitize)
    setup_env
    sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
    [ -n "$sanitizer" ] || die "compute-sanitizer not found (PATH, /usr/local/cuda/bin)"
    # CudaCheck.* and the out-of-memory test make failing CUDA calls on purpose, which memcheck
    # reports as errors; fewer random shapes keep the instrumented run short.
    GTEST_FILTER=${GTEST_FILTER:-$ours} CONVBENCH_TEST_SHAPES=${CONVBENCH_TEST_SHAPES:-6} \
      run_tests "$sanitizer" --tool "${SANITIZER_TOOL:-memcheck}" --error-exitcode 1 ;;
  sweeps) setup_env && mkdir -p "$bundle/logs" && sweeps ;;
  transforms) setup_env && mkdir -p "$bundle/logs" && transforms ;;
  train)
    setup_env
    CONVBENCH_BIN="$bundle/bin/convbench" ALGOS="${ALGOS:-cuda.direct cuda.im2col cuda.fft cuda.fbfft cudnn.best}" \
      bash ci/train_sweeps.sh ;;
  *) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$self" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
