"""ci/gpu_build.sh visit with a stub bundle (its binaries log their arguments): which stages a GPU
host's single call runs, for a GPU new to results/ and for one whose cuDNN rows are committed."""

import csv
import os
import shutil
import subprocess
from pathlib import Path

from conftest import REPO_ROOT

MACHINE = "stub-gpu"

STUB_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char** argv) {
  char script[4096];
  snprintf(script, sizeof script, "%s.sh", argv[0]);
  char** args = calloc((size_t)argc + 2, sizeof *args);
  args[0] = "bash";
  args[1] = script;
  for (int i = 1; i < argc; ++i) args[i + 1] = argv[i];
  execv("/bin/bash", args);
  return 127;
}
"""


def make_tree(tmp_path):
    """A copy of the script in an otherwise empty repository layout, and a stub bundle whose
    binaries log their arguments (and GTEST_FILTER) to calls.log."""
    (tmp_path / "ci").mkdir()
    shutil.copy(REPO_ROOT / "ci" / "gpu_build.sh", tmp_path / "ci" / "gpu_build.sh")
    bundle = tmp_path / "build" / "gpu-bundle"
    (bundle / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    stubs = {
        "test_cuda_device": 'echo "[  PASSED  ] 1 test."',
        "test_algorithms_cuda": f'echo "test_algorithms_cuda $GTEST_FILTER" >> "{log}"',
        "convbench": f'case "$1" in machine) echo {MACHINE} ;; list) echo "1 algorithm" ;; '
                     f'*) echo "convbench $*" >> "{log}" ;; esac',
    }
    # The script runs ldd on the binaries, so each stub is a small executable running <stub>.sh.
    source = tmp_path / "stub.c"
    source.write_text(STUB_C)
    for name, body in stubs.items():
        path = bundle / "bin" / name
        subprocess.run([os.environ.get("CC", "cc"), "-O0", "-o", str(path), str(source)], check=True)
        Path(str(path) + ".sh").write_text(body + "\n")
    (bundle / "lib").mkdir()  # unpacked already: no lib.tar.xz needed
    (bundle / "git-sha").write_text("stub\n")
    (bundle / "built-with").write_text("stub\n")
    return bundle, log


def run_visit(tmp_path):
    env = dict(os.environ, COPY_TO=str(tmp_path / "out"), BUDGET_S="300")
    proc = subprocess.run(["bash", "ci/gpu_build.sh", "visit"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bundle = tmp_path / "build" / "gpu-bundle"
    stages = (bundle / "logs" / "stages.txt").read_text()
    calls = (tmp_path / "calls.log").read_text().splitlines()
    return stages, calls


def stage_names(stages):
    return [line.split(" rc=")[0] for line in stages.splitlines() if " rc=" in line]


def bench_calls(calls, sweep):
    return [c for c in calls if c.startswith("convbench bench") and f"sweeps/{sweep}.json" in c]


def test_visit_of_a_gpu_new_to_results_times_cudnn_beside_our_algorithms(tmp_path):
    make_tree(tmp_path)
    stages, calls = run_visit(tmp_path)
    assert "first visit of this GPU" in stages
    names = stage_names(stages)
    assert names[:10] == ["device-tests", "fft-tests", "transforms", "bandlimited", "other-tests", "mathieu-layers",
                          "gpu-target", "convnet", "fft-memcheck", "fft-racecheck"], names
    assert "gpu-target-filter-fft" not in names  # retime's stages did not run
    assert names[10:] == ["gemm-4m", "fig3", "gpu-target", "direct"], names
    for sweep in ("mathieu_layers", "convnet_benchmarks"):
        runs = bench_calls(calls, sweep)
        assert runs and any("cudnn.best" in c and "cuda.fft" in c for c in runs), (sweep, runs)
    # rest's Fig 3 stage covers all three panels, so a new GPU gets Fig 3a too.
    for sweep in ("mathieu_fig3a", "mathieu_fig3b", "mathieu_fig3c"):
        assert any("cudnn.*" in c for c in bench_calls(calls, sweep)), sweep


def test_visit_of_a_gpu_with_committed_cudnn_rows_retimes_our_fft_algorithms(tmp_path):
    make_tree(tmp_path)
    folder = tmp_path / "results" / MACHINE
    folder.mkdir(parents=True)
    rows = [["sweep", "algo", "precision", "time_ms"],
            ["mathieu_layers", "cudnn.best", "fp32", "1.0"],
            ["mathieu_layers", "cuda.fft", "fp32", "2.0"],
            ["mathieu_layers", "cuda.fft", "tf32", "3.0"]]
    with open(folder / "mathieu_layers.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    stages, calls = run_visit(tmp_path)
    assert "first visit" not in stages
    names = stage_names(stages)
    assert names[:4] == ["device-tests", "fft-tests", "fft-memcheck", "fft-racecheck"], names
    assert "convnet" in names and "other-tests" not in names
    assert names[-4:] == ["gemm-4m", "fig3", "gpu-target", "direct"], names
    # retime dropped our FFT algorithms' fp32 rows to measure them again, and kept the rest.
    with open(folder / "mathieu_layers.csv", newline="") as f:
        kept = [(r["algo"], r["precision"]) for r in csv.DictReader(f)]
    assert kept == [("cudnn.best", "fp32"), ("cuda.fft", "tf32")]
    runs = bench_calls(calls, "mathieu_layers")
    assert runs and all("cudnn" not in c.split("--algo ")[1].split()[0] for c in runs), runs
