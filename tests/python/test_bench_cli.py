"""`convbench bench`, `model` and `merge` end to end: CSV schema, validation, resume after
SIGKILL without lost or duplicated rows, shards, and one-line errors."""

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import time

import pytest

SHAPES = ["N=2,C=4,K=6,in=12x12,k=3x3,pad=1", "N=1,C=2,K=3,in=30,k=5,stride=2", "N=1,C=2,K=2,in=6x6x6,k=3x3x3"]
DESIGN_COLUMNS = ("sweep dims N C K in_d in_h in_w k_d k_h k_w pad stride dilation groups algo pass precision "
                  "fft_size compression status reason reps time_ms time_min_ms time_max_ms time_std_ms "
                  "direct_flops model_flops effective_gflops model_bytes workspace_bytes peak_mem_bytes "
                  "rel_error sm_clock_mhz device").split()


def bench(binary, *args, check=True, timeout=300):
    proc = subprocess.run([str(binary), "bench", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def shape_args():
    return [a for s in SHAPES for a in ("--shape", s)]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def key(row):
    return tuple(row[c] for c in ("sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w",
                                  "pad", "stride", "dilation", "groups", "algo", "pass", "precision", "compression"))


def test_rows_follow_the_schema_and_are_validated(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, *shape_args(), "--algo", "cpu.*", "--reps", "2", "--out", str(out))
    rows = read_rows(out)
    assert list(rows[0].keys())[: len(DESIGN_COLUMNS)] != []
    for c in DESIGN_COLUMNS:
        assert c in rows[0], c
    algos = {r["algo"] for r in rows}
    assert {"cpu.direct", "cpu.im2col", "cpu.fft"} <= algos
    assert len(rows) == len(SHAPES) * len(algos) * 4
    for r in rows:
        assert r["status"] == "ok", r
        assert float(r["rel_error"]) <= float(r["tolerance"])
        assert float(r["time_min_ms"]) <= float(r["time_ms"]) <= float(r["time_max_ms"])
        assert int(r["reps"]) == 2
        assert float(r["direct_flops"]) > 0
    fft_rows = [r for r in rows if r["algo"] == "cpu.fft"]
    assert all(r["fft_size"] for r in fft_rows)
    env = json.loads((tmp_path / "r.csv.env.json").read_text())
    run = env["runs"][0]
    for k in ("host", "cpu", "git_sha", "build_type", "date", "versions"):
        assert run[k], k
    assert "fftw" in run["versions"] and "openblas" in run["versions"]
    # The GPU's facts (the roofline's ceilings) are there exactly when a device is.
    if "no CUDA device" in run["cuda"] or "without CUDA" in run["cuda"]:
        assert "gpu" not in run
    else:
        assert run["gpu"]["sms"] > 0 and run["gpu"]["peak_dram_gb_per_s"] > 0


def test_stages_put_the_fft_pipeline_stage_times_into_detail(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.fft,cpu.direct", "--pass", "dgrad,step", "--reps", "2",
          "--stages", "--out", str(out))
    rows = {(r["algo"], r["pass"]): r for r in read_rows(out)}
    expected = {"dgrad": ["forward w", "forward dy", "gemm dgrad", "inverse dx"],
                "step": ["forward x", "forward w", "forward dy", "gemm fprop", "inverse y", "gemm dgrad",
                         "inverse dx", "gemm wgrad", "inverse dw"]}
    for p, names in expected.items():
        detail = rows[("cpu.fft", p)]["detail"]
        assert "stages ms: " in detail, detail
        stages = [part.rsplit(" ", 1) for part in detail.split("stages ms: ")[1].split(", ")]
        assert [name for name, _ in stages] == names
        assert all(float(ms) >= 0 for _, ms in stages)
        assert rows[("cpu.fft", p)]["status"] == "ok"
        assert "stages" not in rows[("cpu.direct", p)]["detail"]  # marks no stages
    rounds = tmp_path / "rounds.csv"  # the row keeps its first round's detail: one set of stages
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.fft", "--pass", "fprop", "--reps", "1", "--rounds", "2",
          "--stages", "--out", str(rounds))
    assert read_rows(rounds)[0]["detail"].count("stages ms: ") == 1
    plain = tmp_path / "plain.csv"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.fft", "--pass", "fprop", "--reps", "1",
          "--out", str(plain))
    assert "stages" not in read_rows(plain)[0]["detail"]  # only when asked


def test_unsupported_cases_are_skipped_rows_with_a_reason(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.direct", "--pass", "fprop", "--precision", "fp32,tf32",
          "--reps", "1", "--out", str(out))
    rows = read_rows(out)
    assert [r["status"] for r in rows] == ["ok", "skipped"]
    assert "tf32" in rows[1]["reason"]
    assert rows[1]["time_ms"] == ""  # an unmeasured cell stays empty


def test_tiled_fft_rows_name_their_tiles_and_an_impossible_tile_is_skipped(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    shape = "N=1,C=2,K=3,in=40x40,k=5x5,pad=2"
    bench(convbench_bin, "--shape", shape, "--algo", "cpu.fft_tiled", "--pass", "fprop,step", "--fft-tile", "12",
          "--fft-size", "smooth", "--reps", "1", "--out", str(out))
    rows = read_rows(out)
    assert [r["status"] for r in rows] == ["ok", "ok"], rows
    # 12-point tiles, 8 outputs each: 40 outputs -> 5 x 5 tiles; transforms of 12 x 12
    assert all(r["detail"].startswith("tiles 5x5 of 8x8 outputs") and r["fft_size"] == "12x12" for r in rows)
    # the FFT model counts what runs: 25 images of 12 x 12, as `convbench model` does for that shape
    model = subprocess.run([str(convbench_bin), "model", "--shape", "N=25,C=2,K=3,in=12x12,k=5x5"],
                           capture_output=True, text=True, check=True).stdout
    (fft,) = [r for r in csv.DictReader(model.splitlines()) if r["pass"] == "fprop" and r["method"] == "fft"]
    assert float(rows[0]["model_flops"]) == pytest.approx(float(fft["model_flops"]), rel=1e-6)
    assert float(rows[0]["model_bytes"]) == pytest.approx(float(fft["model_bytes"]), rel=1e-6)
    out2 = tmp_path / "r2.csv"
    bench(convbench_bin, "--shape", shape, "--algo", "cpu.fft_tiled", "--pass", "fprop", "--fft-tile", "4",
          "--reps", "1", "--out", str(out2))
    (row,) = read_rows(out2)
    assert row["status"] == "skipped" and "below the dilated kernel (5)" in row["reason"], row


def test_fft_size_policies_and_the_model_counts_the_sizes_that_ran(convbench_bin, tmp_path):
    # 2D, padded 34 x 21: smallest 7-smooth 35 x 21, powers of two 64 x 32
    shape = "N=2,C=3,K=4,in=32x19,k=5x3,pad=1"
    sizes = {}
    for policy in ("cheapest", "smooth", "pow2", None):
        out = tmp_path / f"{policy}.csv"
        bench(convbench_bin, "--shape", shape, "--algo", "cpu.fft", "--pass", "fprop,step", "--reps", "1",
              *(["--fft-size", policy] if policy else []), "--out", str(out))
        rows = read_rows(out)
        assert all(r["status"] == "ok" and r["fft_policy"] == (policy or "cheapest") for r in rows), rows
        assert len({r["fft_size"] for r in rows}) == 1, "one transform size per layer, every pass"
        sizes[policy] = [int(v) for v in rows[0]["fft_size"].split("x")]
        # model_flops: 3 planes' worth of transforms per pass (6 in the step) at P points, plus
        # 8 flops per complex multiply-add over the half spectrum's bins, at the sizes that ran
        h, w = sizes[policy]
        points, bins = h * w, h * (w // 2 + 1)
        planes = 2 * 3 + 4 * 3 + 2 * 4
        per_pass = planes * 2.5 * points * math.log2(points) + 8 * bins * 2 * 3 * 4
        want = {"fprop": per_pass, "step": 3 * per_pass - planes * 2.5 * points * math.log2(points)}
        for r in rows:
            assert float(r["model_flops"]) == pytest.approx(want[r["pass"]], rel=1e-6), (policy, r["pass"])
    assert sizes["smooth"] == [35, 21] and sizes["pow2"] == [64, 32]
    for got in (sizes["cheapest"], sizes[None]):
        assert 35 <= got[0] <= 64 and 21 <= got[1] <= 32, got


def test_a_list_of_size_policies_runs_each_in_turn_per_case(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", "N=1,C=2,K=2,in=30x30,k=3x3", "--shape", "N=1,C=2,K=2,in=18,k=3",
          "--algo", "cpu.fft,cpu.direct", "--pass", "fprop", "--fft-size", "pow2,smooth", "--reps", "1",
          "--out", str(out))
    rows = read_rows(out)
    got = [(r["in_w"], r["algo"], r["fft_policy"], r["fft_size"]) for r in rows]
    # per shape: cpu.fft under each policy, back to back; cpu.direct (no transforms) once
    assert got == [("30", "cpu.fft", "pow2", "32x32"), ("30", "cpu.fft", "smooth", "30x30"),
                   ("30", "cpu.direct", "pow2", ""),
                   ("18", "cpu.fft", "pow2", "32"), ("18", "cpu.fft", "smooth", "18"),
                   ("18", "cpu.direct", "pow2", "")], got
    assert all(r["status"] == "ok" for r in rows)
    # resume knows both policies' rows
    bench(convbench_bin, "--shape", "N=1,C=2,K=2,in=30x30,k=3x3", "--shape", "N=1,C=2,K=2,in=18,k=3",
          "--algo", "cpu.fft,cpu.direct", "--pass", "fprop", "--fft-size", "pow2,smooth", "--reps", "1",
          "--out", str(out), "--resume")
    assert len(read_rows(out)) == len(rows)


def test_sigkill_loses_no_row_and_resume_adds_no_duplicate(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    shapes = [f"N=2,C=8,K=8,in={n}x{n},k=5x5" for n in range(12, 40, 2)]
    args = [str(convbench_bin), "bench", *[a for s in shapes for a in ("--shape", s)], "--algo", "cpu.direct,cpu.fft",
            "--reps", "3", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 8):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = read_rows(out)
    assert 7 <= len(before) < len(shapes) * 2 * 4, "kill the sweep in the middle"
    bench(convbench_bin, *args[2:], "--resume")
    after = read_rows(out)
    keys = [key(r) for r in after]
    assert len(keys) == len(set(keys)), "no duplicates"
    assert len(after) == len(shapes) * 2 * 4, "nothing lost"
    assert [key(r) for r in after[: len(before)]] == [key(r) for r in before]
    assert all(r["status"] == "ok" for r in after)
    # Resuming a finished sweep adds nothing.
    bench(convbench_bin, *args[2:], "--resume")
    assert len(read_rows(out)) == len(after)
    assert len(json.loads((tmp_path / "r.csv.env.json").read_text())["runs"]) == 3


def test_a_case_given_twice_runs_once(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    spec = "N=1,C=2,K=2,in=9x9,k=3x3"
    proc = bench(convbench_bin, "--shape", spec, "--shape", spec + ",pad=0", "--algo", "cpu.fft,cpu.f*",
                 "--pass", "fprop,wgrad,fprop", "--compression", "-0,0,0.5,0.50", "--reps", "1", "--out", str(out))
    rows = read_rows(out)
    # Both specs name one shape; cpu.f* names cpu.fft (again) and cpu.fft_tiled.
    keys = [key(r) for r in rows]
    assert len(keys) == len(set(keys)) == 1 * 2 * 2 * 2, keys
    assert {r["algo"] for r in rows} == {"cpu.fft", "cpu.fft_tiled"}
    assert {r["pass"] for r in rows} == {"fprop", "wgrad"}
    assert {r["compression"] for r in rows} == {"0", "0.5"}
    assert f"note: {2 * 2 * 3 * 4 - 8} cases repeat an earlier one" in proc.stderr


def test_a_tuning_option_no_algorithm_run_reads_is_a_note(convbench_bin, tmp_path):
    args = ["--shape", "N=1,C=2,K=2,in=9x9,k=3x3", "--reps", "1", "--dry-run", "--out", str(tmp_path / "r.csv")]
    proc = bench(convbench_bin, *args, "--algo", "cpu.direct,cpu.fft", "--fft-tile", "5", "--complex-gemm", "4m")
    notes = [line for line in proc.stderr.splitlines() if "no algorithm run reads it" in line]
    assert len(notes) == 1 and notes[0].startswith("convbench: note: --fft-tile 5:") and "cpu.fft_tiled" in notes[0]
    proc = bench(convbench_bin, *args, "--algo", "cpu.fft_tiled", "--fft-tile", "5", "--complex-gemm", "4m",
                 "--fft-planning", "measure")
    assert "no algorithm run reads it" not in proc.stderr


def test_a_busy_host_is_recorded_and_warned_about(convbench_bin, tmp_path):
    cpus = len(os.sched_getaffinity(0))
    spinners = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(cpus)]
    try:
        time.sleep(0.2)
        out = tmp_path / "r.csv"
        proc = bench(convbench_bin, "--shape", "N=4,C=16,K=16,in=24x24,k=3x3,pad=1", "--algo", "cpu.direct",
                     "--reps", "20", "--out", str(out))
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    load = json.loads((tmp_path / "r.csv.env.json").read_text())["runs"][-1]["host_load"]
    assert load["cpus"] == cpus
    assert load["seconds"] > 0.2
    # Each spinner holds a CPU at least half the time that convbench's threads compete for it.
    assert load["others_share"] >= 0.3, load
    assert abs(load["others_cpu_s"] - load["others_share"] * load["seconds"] * cpus) <= 0.01 * load["seconds"] * cpus + 0.002
    assert "warning: while this ran, other processes kept" in proc.stderr
    assert f"of its {cpus} CPU" in proc.stderr


def test_shards_partition_the_sweep_and_merge_back(convbench_bin, tmp_path):
    full = tmp_path / "full.csv"
    common = [*shape_args(), "--algo", "cpu.im2col,cpu.fft", "--reps", "1"]
    listing = bench(convbench_bin, *common, "--dry-run").stdout.splitlines()
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i}.csv"
        bench(convbench_bin, *common, "--shard", f"{i}/3", "--out", str(part))
        parts.append(part)
    counts = [len(read_rows(p)) for p in parts]
    assert sum(counts) == len(listing) and max(counts) - min(counts) <= 1
    proc = subprocess.run([str(convbench_bin), "merge", "--out", str(full), *map(str, parts)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    merged = read_rows(full)
    assert len(merged) == len(listing) == len({key(r) for r in merged})
    assert len(json.loads((tmp_path / "full.csv.env.json").read_text())["runs"]) == 3


def merge(binary, out, *inputs):
    return subprocess.run([str(binary), "merge", "--out", str(out), *map(str, inputs)], capture_output=True, text=True)


def test_merge_drops_a_killed_runs_torn_row_and_names_a_bad_file(convbench_bin, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.direct", "--reps", "1", "--out", str(a))
    bench(convbench_bin, "--shape", SHAPES[0], "--shape", SHAPES[1], "--algo", "cpu.direct", "--reps", "1",
          "--out", str(b))
    text = b.read_text()
    b.write_text(text + text.splitlines()[-1][:25])  # SIGKILL mid-row: a last line without its newline
    proc = merge(convbench_bin, tmp_path / "m.csv", a, b)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "m.csv")
    assert len(rows) == 8 and len({key(r) for r in rows}) == 8
    assert all(r["status"] == "ok" and r["time_ms"] for r in rows)
    assert "4 repeated rows dropped" in proc.stderr and "1 unfinished last line dropped" in proc.stderr

    cut = tmp_path / "cut.csv"
    lines = a.read_text().splitlines()
    cut.write_text("\n".join(lines[:2] + [lines[2][:40]] + lines[3:]) + "\n")  # a damaged middle row
    proc = merge(convbench_bin, tmp_path / "m2.csv", a, cut)
    assert proc.returncode != 0 and "cut.csv line 3:" in proc.stderr and "fields, the header has" in proc.stderr
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    proc = merge(convbench_bin, tmp_path / "m3.csv", other)
    assert proc.returncode != 0 and "other.csv: results CSV lacks column 'sweep'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sweep_file_runs_and_counts_dropped_points(convbench_bin, tmp_path):
    sweep = tmp_path / "s.json"
    sweep.write_text(json.dumps({"name": "mini", "source": "test", "algorithms": ["cpu.fft", "cuda.*"],
                                 "passes": ["wgrad"], "reps": 1,
                                 "grids": [{"dims": [1, 2], "N": 1, "C": 2, "K": 2, "in": [4, 8], "k": [3, 7]}]}))
    out = tmp_path / "r.csv"
    proc = bench(convbench_bin, "--sweep", str(sweep), "--out", str(out))
    assert "dropped 2 grid points" in proc.stderr and "kernel 7 > padded input 4" in proc.stderr
    rows = read_rows(out)
    assert len(rows) == 6 and {r["sweep"] for r in rows} == {"mini"}


@pytest.mark.parametrize("args, message", [
    (["--shape", "N=2,in=8,k=9"], "kernel 9 > padded input 8 in dim W"),
    (["--shape", "N=2,in=8,kk=3"], "unknown key 'kk'"),
    (["--shape", "in=8", "--algo", "cpu.nope"], "unknown algorithm 'cpu.nope'"),
    (["--shape", "in=8", "--pass", "forward"], "unknown pass 'forward'"),
    (["--shape", "in=8", "--shard", "3/2"], "--shard"),
    (["--shape", "in=8", "--compression", "2"], "--compression"),
    (["--shape", "in=8", "--frobnicate"], "unknown option '--frobnicate'"),
    (["--shape", "in=8", "--fft-tile", "0"], "--fft-tile: must be a positive integer, got '0'"),
    (["--shape", "in=8", "--reps", "2.5"], "--reps: must be a positive integer, got '2.5'"),
    (["--shape", "in=8", "--rounds", "0"], "--rounds: must be a positive integer, got '0'"),
    (["--shape", "in=8", "--filter-spectra", "fast"], "--filter-spectra: fast not in {planner,dft,fft}"),
    (["--shape", "in=8", "--fft-grid-mib", "0"], "--fft-grid-mib: must be a positive integer, got '0'"),
    (["--shape", "in=8", "--fft-grid-mib", "4294967296"], "--fft-grid-mib: Value 4294967296 not in range"),
    (["--shape", "in=8", "--complex-gemm", "2m"], "--complex-gemm: 2m not in {planner,4m,3m}"),
    (["--shape", "in=8", "--fft-planning", "exhaustive"], "--fft-planning: exhaustive not in {estimate,measure,patient}"),
    ([], "give --sweep FILE and/or --shape SPEC"),
])
def test_bad_input_gets_one_line(convbench_bin, tmp_path, args, message):
    proc = bench(convbench_bin, *args, "--out", str(tmp_path / "r.csv"), check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "r.csv").exists()


def test_malformed_sweep_file_names_file_and_key(convbench_bin, tmp_path):
    sweep = tmp_path / "bad.json"
    sweep.write_text('{"reps": "many", "shapes": ["in=8"]}')
    proc = bench(convbench_bin, "--sweep", str(sweep), "--out", str(tmp_path / "r.csv"), check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"convbench: error: {sweep}: key 'reps' must be an integer, got \"many\""


def test_refuses_to_overwrite_without_resume(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", "in=8", "--algo", "cpu.direct", "--pass", "fprop", "--reps", "1", "--out", str(out))
    proc = bench(convbench_bin, "--shape", "in=8", "--algo", "cpu.direct", "--reps", "1", "--out", str(out), check=False)
    assert proc.returncode != 0 and "--resume" in proc.stderr
    # A damaged row (not the torn last line, which resume drops) is named, and nothing is appended.
    lines = out.read_text().splitlines()
    out.write_text("\n".join([lines[0], lines[1][:30]]) + "\n")
    proc = bench(convbench_bin, "--shape", "in=8", "--algo", "cpu.direct", "--reps", "1", "--out", str(out), "--resume",
                 check=False)
    assert proc.returncode != 0 and f"{out} line 2: " in proc.stderr and "fields, the header has" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and len(out.read_text().splitlines()) == 2


def test_model_csv(convbench_bin):
    proc = subprocess.run([str(convbench_bin), "model", "--shape", "N=128,C=96,K=256,in=16x16,k=7x7"],
                          capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert len(rows) == 4 * 2  # passes x {direct, fft}
    mem = {round(float(r["mathieu_fft_mem_mb"])) for r in rows}
    assert mem == {76}
    assert any("mem" in c for c in rows[0])
    fp = [r for r in rows if r["pass"] == "fprop" and r["method"] == "direct"][0]
    assert float(fp["model_flops"]) == 2 * 128 * 96 * 256 * 10 * 10 * 49
    # The same shape spelled twice is counted once; a bad spec names itself.
    twice = subprocess.run([str(convbench_bin), "model", "--shape", "N=2,in=8,k=3", "--shape", "N=2,in=8,k=3,pad=0",
                            "--shape", "N=3,in=8,k=3"], capture_output=True, text=True, check=True)
    assert len(list(csv.DictReader(twice.stdout.splitlines()))) == 2 * 4 * 2
    bad = subprocess.run([str(convbench_bin), "model", "--shape", "N=2,in=8,k=9"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--shape 'N=2,in=8,k=9': kernel 9 > padded input 8" in bad.stderr


def test_model_out_file_has_the_same_rows_and_a_fresh_sidecar(convbench_bin, tmp_path):
    args = [str(convbench_bin), "model", "--shape", "N=8,C=3,K=4,in=16x16,k=5x5"]
    stdout = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    out = tmp_path / "m.csv"
    for _ in range(2):  # rewritten, not appended: one run in the sidecar
        subprocess.run(args + ["--out", str(out)], capture_output=True, text=True, check=True)
    assert out.read_text() == stdout
    env = json.loads((tmp_path / "m.csv.env.json").read_text())
    assert len(env["runs"]) == 1 and "model" in env["runs"][0]["command"]


def test_out_of_memory_is_a_skipped_row_and_the_sweep_goes_on(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", "N=200000,C=64,K=64,in=64x64,k=3x3", "--shape", "N=1,C=2,K=2,in=8x8,k=3x3",
          "--algo", "cpu.im2col", "--pass", "fprop", "--reps", "1", "--out", str(out))
    rows = read_rows(out)
    assert [r["status"] for r in rows] == ["skipped", "ok"]
    assert rows[0]["reason"].startswith("out of memory: needs")


def mem_available_bytes():
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))


def test_the_process_memory_limit_bounds_the_out_of_memory_check(convbench_bin, tmp_path):
    # Under a 3 GiB address-space limit a case whose tensors take 2.9 GiB cannot fit, however
    # much the machine has free: it is skipped naming the limit, not started and killed.
    import resource

    limit = 3 << 30
    if mem_available_bytes() < 2 * limit:
        pytest.skip("needs 6 GiB available so that the limit, not MemAvailable, is the tightest bound")
    out = tmp_path / "r.csv"
    args = ["bench", "--shape", "N=1,C=1,K=1,in=194304512,k=1", "--shape", "N=1,C=2,K=2,in=8x8,k=3x3",
            "--algo", "cpu.direct", "--pass", "fprop", "--reps", "1", "--out", str(out)]
    proc = subprocess.run([str(convbench_bin), *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    assert [r["status"] for r in rows] == ["skipped", "ok"]
    assert rows[0]["reason"].startswith("out of memory: needs 2.90 GiB"), rows[0]["reason"]
    assert rows[0]["reason"].endswith("available (RLIMIT_AS)"), rows[0]["reason"]
    env = json.loads((tmp_path / "r.csv.env.json").read_text())["runs"][0]["memory_available"]
    assert env["bound"] == "RLIMIT_AS" and 0 < env["bytes"] < limit


def test_google_benchmark_flags_pass_through(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    gb_json = tmp_path / "gb.json"
    bench(convbench_bin, *shape_args(), "--algo", "cpu.im2col,cpu.fft", "--pass", "fprop", "--reps", "1",
          "--benchmark_filter=cpu.fft", f"--benchmark_out={gb_json}", "--out", str(out))
    rows = read_rows(out)
    assert rows and {r["algo"] for r in rows} == {"cpu.fft"}
    names = [b["name"] for b in json.loads(gb_json.read_text())["benchmarks"]]
    assert len(names) == len(rows) and all("cpu.fft" in n for n in names)


def test_rounds_interleave_the_cases_and_write_one_row_each_from_every_round(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    gb_json = tmp_path / "gb.json"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.fft,cpu.direct", "--pass", "fprop,step",
          "--compression", "0,0.5", "--reps", "2", "--rounds", "3", f"--benchmark_out={gb_json}", "--out", str(out))
    rows = read_rows(out)
    assert len(rows) == 8 and len({key(r) for r in rows}) == 8
    for r in rows:
        if r["algo"] == "cpu.direct" and float(r["compression"]) > 0:
            assert r["status"] == "skipped" and "FFT algorithms only" in r["reason"], r
            continue
        assert r["status"] == "ok", r
        assert int(r["reps"]) == 6  # 2 per round
        assert float(r["time_min_ms"]) <= float(r["time_ms"]) <= float(r["time_max_ms"])
        assert float(r["rel_error"]) <= float(r["tolerance"]) or float(r["compression"]) > 0
    # Round-major: every case once per round, round 1 before round 2 before round 3.
    names = [b["name"] for b in json.loads(gb_json.read_text())["benchmarks"]]
    rounds = [int(n.split("/round:")[1].split("/")[0]) for n in names]
    assert len(names) == 24 and rounds == sorted(rounds) and rounds.count(1) == rounds.count(3) == 8


def test_rounds_that_a_filter_cuts_short_still_write_their_rows(convbench_bin, tmp_path):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", SHAPES[0], "--algo", "cpu.fft", "--pass", "fprop", "--reps", "2",
          "--rounds", "3", "--benchmark_filter=round:[12]/", "--out", str(out))
    rows = read_rows(out)
    assert len(rows) == 1 and rows[0]["status"] == "ok" and int(rows[0]["reps"]) == 4


def run_env(binary, tmp_path, name, extra_env):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "CONVBENCH_OPENBLAS_DETECTED")}
    env.update(extra_env)
    out = tmp_path / f"{name}.csv"
    proc = subprocess.run([str(binary), "bench", "--shape", "N=1,C=2,K=2,in=8x8,k=3x3", "--algo", "cpu.im2col",
                           "--pass", "fprop", "--reps", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / f"{name}.csv.env.json").read_text())["runs"][0]


def test_openblas_never_runs_its_generic_kernels_where_the_cpu_has_avx2(convbench_bin, tmp_path):
    """OpenBLAS 0.3.21 takes CPUs it does not know (e.g. Xeon family 6 model 207) for a Prescott
    (SSE3; GEMMs 2-3x slower): convbench then runs itself again with a core that fits."""
    run = run_env(convbench_bin, tmp_path, "auto", {})
    if "DYNAMIC_ARCH" not in run["versions"]["openblas"]:
        pytest.skip("OpenBLAS built for one core: nothing to choose")
    if {"avx2", "fma"} <= set(run["cpu_simd"].split()):
        assert "Prescott" not in run["versions"]["openblas"], run
    note = run.get("openblas_coretype", "")
    assert note == "" or note.startswith(run["versions"]["openblas"].split()[-2] + " (set by convbench"), run


def test_openblas_coretype_of_the_user_is_kept(convbench_bin, tmp_path):
    run = run_env(convbench_bin, tmp_path, "user", {"OPENBLAS_CORETYPE": "Haswell"})
    if "DYNAMIC_ARCH" not in run["versions"]["openblas"] or "avx2" not in run["cpu_simd"].split():
        pytest.skip("OpenBLAS built for one core, or a CPU without the Haswell core's AVX2")
    assert " Haswell " in run["versions"]["openblas"], run
    assert run["openblas_coretype"] == "Haswell (set by the user)"


def test_env_names_the_fftw_that_is_loaded(convbench_bin, tmp_path):
    """A user may run convbench with another FFTW (LD_LIBRARY_PATH, e.g. one built with AVX-512
    codelets): the sidecar names the loaded one in full. A library preloaded ahead of FFTW defines
    a longer fftwf_version than the build's; an executable linked to that data symbol would hold a
    copy sized by the build's FFTW (truncated)."""
    version = "fftw-3.3.10-sse2-avx-avx2-avx2_128-avx512 (a longer version string than any build's)"
    source = tmp_path / "version.c"
    source.write_text(f'const char fftwf_version[] = "{version}";\n')
    lib = tmp_path / "libversion.so"
    compiler = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if compiler is None:
        pytest.skip("no C compiler to build the preloaded library")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(lib), str(source)], check=True, timeout=60)
    run = run_env(convbench_bin, tmp_path, "preload", {"LD_PRELOAD": str(lib)})
    assert run["versions"]["fftw"] == version


def test_env_records_the_l2_that_sizes_cpu_fft_chunks(convbench_bin, tmp_path):
    """cpu.fft's chunks grow to 32 planes where a quarter of a core's L2 holds them: the sidecar says
    how large that L2 is."""
    run = run_env(convbench_bin, tmp_path, "l2", {})
    getconf = subprocess.run(["getconf", "LEVEL2_CACHE_SIZE"], capture_output=True, text=True, timeout=30)
    if getconf.returncode != 0 or not getconf.stdout.strip().isdigit():
        pytest.skip("getconf cannot tell this machine's L2 size")
    assert run["cpu_l2_bytes"] == int(getconf.stdout.strip())


@pytest.mark.parametrize("args, note", [([], None), (["--fft-planning", "patient"], "FFTW patient plans"),
                                        (["--fft-measure"], "FFTW measure plans")])
def test_fft_planning_reaches_cpu_fft_and_its_rows_say_so(convbench_bin, tmp_path, args, note):
    out = tmp_path / "r.csv"
    bench(convbench_bin, "--shape", "N=2,C=3,K=4,in=13x11,k=3x3,pad=1", "--algo", "cpu.fft,cpu.fft_tiled",
          "--pass", "fprop,step", "--fft-size", "smooth", "--reps", "1", *args, "--out", str(out))
    rows = read_rows(out)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), rows
    for r in rows:
        assert ("FFTW " in r["detail"]) == (note is not None) and (note is None or note in r["detail"]), r["detail"]


@pytest.mark.parametrize("command", [
    ["bench", "--shape", "in=8", "--algo", "cpu.direct"], ["model", "--shape", "in=8"], ["merge", "x.csv"],
    ["train", "--net", "lenet", "--algo", "cpu.fft"], ["fft"],
    ["conv", "--algo", "cpu.fft", "--pass", "fprop", "--x", "x.npy", "--w", "w.npy"]])
def test_an_out_folder_is_refused_before_anything_runs(convbench_bin, tmp_path, command):
    (tmp_path / "x.csv").write_text("")
    proc = subprocess.run([str(convbench_bin), *command, "--out", str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"convbench: error: --out: '{tmp_path}' is a folder; name a file in it (see --help)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]
