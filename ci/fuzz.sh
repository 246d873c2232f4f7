#!/usr/bin/env bash
# Builds the libFuzzer target (clang, ASan + UBSan) over the sweep, shape and .npy parsers and runs it
# for a bounded time (default 60 s) from the shipped sweeps as seed corpus. Exits non-zero on a
# crash; the crashing input is left in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p build/fuzz/corpus
cp sweeps/*.json build/fuzz/corpus/
printf 'N=8,C=64,K=64,in=64x64,k=9x9,pad=1,stride=1,dilation=1,groups=1' > build/fuzz/corpus/shape1
printf 'in=5x6x7,k=3x3x3,stride=2,groups=1' > build/fuzz/corpus/shape2
# Two .npy files as numpy.save writes them (format 1.0, header padded to 64 bytes): (2, 3) and ().
npy() { printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' "$1"; }
{ npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"; head -c 24 /dev/urandom; } > build/fuzz/corpus/npy1
{ npy "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"; head -c 4 /dev/urandom; } > build/fuzz/corpus/npy2
if [ ! -x build/fuzz/fuzz_parsers ] || [ -n "$(find harness kernels tests/fuzz -newer build/fuzz/fuzz_parsers -name '*.[ch]pp' | head -1)" ]; then
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iharness -Ikernels/include tests/fuzz/fuzz_parsers.cpp harness/sweep.cpp harness/shape_spec.cpp harness/npy.cpp \
    kernels/shape.cpp kernels/fft_size.cpp -lfmt -o build/fuzz/fuzz_parsers
fi
cd build/fuzz
./fuzz_parsers -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 corpus 2>fuzz.log \
  || { tail -40 fuzz.log; echo "fuzz: crash, see build/fuzz/"; exit 1; }
grep -E "stat::number_of_executed_units|Done" fuzz.log | tail -2
echo "fuzz: no crash in ${seconds}s"
