#!/usr/bin/env bash
# Installs what convbench needs on a Debian machine (idempotent: does nothing when all is there)
# and the Python virtual environment .venv. The CUDA toolkit is optional and never installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config git
  libfftw3-dev libopenblas-openmp-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libdnnl-dev
  clang libclang-rt-14-dev python3-venv
  ocl-icd-opencl-dev opencl-headers)  # oneDNN's CMake config looks for OpenCL
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Reinstalled whenever a pin changes (ci/requirements.txt includes plots/requirements.txt).
pins=$(cat ci/requirements.txt plots/requirements.txt)
if [ ! -x .venv/bin/python ] || [ "$pins" != "$(cat .venv/requirements.installed 2>/dev/null)" ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r ci/requirements.txt
  printf '%s' "$pins" > .venv/requirements.installed
fi
