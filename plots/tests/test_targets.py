"""The targets table (figures/targets.md): which cases each DESIGN.md target counts, their ratios
and verdicts, on a small synthetic results folder."""

import csv
import json
from pathlib import Path

import pytest

from convbench_plots import data, targets
from convbench_plots.base import Skip

HEADER = (Path(__file__).resolve().parent / "fixtures" / "full" / "quick.csv").read_text().splitlines()[0].split(",")
HEADER += [c for c in ("detail",) if c not in HEADER]  # the fixture predates the column
L2 = dict(N=128, C=96, K=256, n=32, k=7)      # Mathieu's layer 2 (k >= 5: counted)
L5 = dict(N=128, C=384, K=384, n=16, k=3)     # Mathieu's layer 5 (k = 3: not counted)
CN1 = dict(N=128, C=3, K=96, n=128, k=11)     # convnet-benchmarks L1


def row(sweep, shape, algo, pas, time_ms, precision="fp32", compression=0, workspace=""):
    r = dict.fromkeys(HEADER, "")
    r.update(sweep=sweep, dims=2, N=shape["N"], C=shape["C"], K=shape["K"], in_d=1, in_h=shape["n"], in_w=shape["n"],
             k_d=1, k_h=shape["k"], k_w=shape["k"], pad=0, stride=1, dilation=1, groups=1, algo=algo,
             precision=precision, fft_policy="cheapest", compression=compression, status="ok", reps=3,
             time_ms=time_ms, workspace_bytes=workspace, threads=2, device="test")
    r["pass"] = pas
    return r


def write_folder(root, name, rows, env=None):
    """root/name/results.csv of `rows`, with `env` as its sidecar's run when given; the folder."""
    d = root / name
    d.mkdir(parents=True)
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    if env is not None:
        (d / "results.csv.env.json").write_text(json.dumps({"runs": [env]}))
    return d


def folder(tmp_path, rows, gpu=None):
    """A results folder of `rows`; with `gpu`, an env sidecar whose run carries those GPU facts."""
    env = None if gpu is None else {"date": "2026-12-04T00:00:00Z", "gpu": gpu,
                                    "cuda": "built with CUDA 13000, 1 device(s): [0] H-test sm_90"}
    return data.load(write_folder(tmp_path, "machine-t", rows, env))


def gpu_rows():
    rows = []
    for shape, sweep in ((L2, "mathieu_layers"), (L5, "mathieu_layers"), (CN1, "convnet_benchmarks")):
        rows += [row(sweep, shape, "cudnn.best", p, t) for p, t in (("fprop", 10), ("dgrad", 12), ("wgrad", 8))]
    rows += [row("mathieu_layers", L2, "cuda.fft", "step", 12),        # 30 / 12 = 2.5: met
             row("mathieu_layers", L2, "cuda.fft", "step", 1, "tf32"),  # tf32: not an fp32 case
             row("mathieu_layers", L5, "cuda.fft", "step", 100),      # k = 3: not counted
             row("convnet_benchmarks", CN1, "cuda.fft", "step", 20),  # 1.5: not met
             row("mathieu_layers", L2, "cuda.fbfft", "step", 10),     # 3.0: met
             row("mathieu_layers", L2, "cuda.fft", "fprop", 10),
             row("mathieu_layers", L2, "cudnn.fft", "fprop", 9),       # 0.9: slower than cudnn.fft
             row("mathieu_layers", L2, "cudnn.fft_tiling", "fprop", 15)]  # 1.5
    return rows


def test_step_target_sums_cudnn_best_passes_over_layers_with_k_at_least_5(tmp_path):
    ds = folder(tmp_path, gpu_rows())
    fft, fbfft = targets.step_vs_cudnn_best(ds)
    assert sorted((c["case"].split(":")[0], round(c["measured"], 3), c["met"]) for c in fft.cases) == [
        ("convnet_benchmarks", 1.5, False), ("mathieu_layers", 2.5, True)]
    assert fft.verdict() == "**not met** in 1 of 2 case(s)"
    assert [round(c["measured"], 3) for c in fbfft.cases] == [3.0] and fbfft.verdict().startswith("**met**")
    assert "12 ms vs 30 ms" in [c["detail"] for c in fft.cases]


def test_step_target_keeps_a_layer_whose_cudnn_best_pass_failed_its_accuracy_check(tmp_path):
    # cudnnFind may pick a less accurate algorithm (Winograd at k = 5): its time still counts, and
    # the case says which pass was over its tolerance; a failed row of ours is never a case.
    rows = gpu_rows()
    dgrad = next(r for r in rows if r["algo"] == "cudnn.best" and r["pass"] == "dgrad" and r["C"] == L2["C"])
    dgrad.update(status="failed", rel_error=1.8e-3, tolerance=1e-4,
                 detail="dgrad BWD_DATA_ALGO_WINOGRAD_NONFUSED FMA_MATH deterministic")
    rows.append(row("convnet_benchmarks", CN1, "cuda.fbfft", "step", 5))
    rows[-1].update(status="failed", rel_error=0.5, tolerance=1e-4)
    fft, fbfft = targets.step_vs_cudnn_best(folder(tmp_path, rows))
    cases = {c["case"]: round(c["measured"], 3) for c in fft.cases}
    assert cases == {"convnet_benchmarks: N=128 3→96 in 128×128 k 11×11": 1.5,
                     "mathieu_layers: N=128 96→256 in 32×32 k 7×7 (cudnn.best over its fp32 tolerance: dgrad "
                     "0.0018 > 1.00e-04, BWD_DATA_ALGO_WINOGRAD_NONFUSED)": 2.5}
    assert [c["case"].split(":")[0] for c in fbfft.cases] == ["mathieu_layers"]


def test_never_slower_than_cudnn_fft_counts_each_vendor_where_both_ran(tmp_path):
    fft, fbfft = targets.never_slower_than_cudnn_fft(folder(tmp_path, gpu_rows()))
    assert sorted((c["case"].split(" vs ")[1], round(c["measured"], 3), c["met"]) for c in fft.cases) == [
        ("cudnn.fft", 0.9, False), ("cudnn.fft_tiling", 1.5, True)]
    assert not fbfft.cases and fbfft.verdict().startswith("not measured: GPU sweeps")


def test_cpu_target_and_band_limited(tmp_path):
    cpu = dict(N=8, C=64, K=64, n=64)
    rows = [row("cpu_target", dict(cpu, k=k), a, "fprop", t)
            for k, a, t in ((7, "cpu.fft", 10), (7, "cpu.onednn", 5),        # k = 7: not counted
                            (9, "cpu.fft", 10), (9, "cpu.onednn", 25),       # 2.5: met
                            (11, "cpu.fft", 10), (11, "cpu.onednn", 15))]    # 1.5: not met
    bl = dict(N=128, C=64, K=64, n=34, k=3)
    rows += [row("bandlimited", bl, "cpu.fft", "step", t, compression=c, workspace=w)
             for c, t, w in ((0, 100, 1000), (0.5, 55, 500), (0.9, 20, 100))]
    rows[3]["detail"] = "fprop jit:avx512_core; 3 reorders (x, w, y)"  # k = 9's oneDNN row names its kernel
    (t,) = targets.cpu_target(folder(tmp_path, rows))
    assert sorted((c["case"].split(" k ")[1], c["met"]) for c in t.cases) == [("11×11 fprop", False),
                                                                               ("9×9 fprop", True)]
    assert sorted(c["detail"] for c in t.cases) == ["10 ms vs 15 ms", "10 ms vs 25 ms (oneDNN jit:avx512_core)"]
    bl_targets = {t.title: t for t in targets.band_limited(data.load(tmp_path / "machine-t"))}
    time_t = bl_targets["cpu.fft band-limited: time at 50% compression ≤ 0.6× compression 0"]
    space_t = bl_targets["cpu.fft band-limited: workspace at 50% compression ≤ 0.6× compression 0"]
    assert not bl_targets["cuda.fft band-limited: time at 50% compression ≤ 0.6× compression 0"].cases
    assert [(round(c["measured"], 3), c["met"]) for c in time_t.cases] == [(0.55, True)]
    assert [(round(c["measured"], 3), c["met"]) for c in space_t.cases] == [(0.5, True)]


def test_table_lists_every_target_and_says_what_is_not_measured(tmp_path):
    (p,) = targets.build(folder(tmp_path, gpu_rows()))
    assert p.name == "targets" and p.fig is None
    summary = p.table.split("\n## ")[0]
    # 2 GPU FFTs x 4 GPU targets, own FFT, band-limited time and workspace x 3 FFTs, CPU
    assert summary.count("\n| ") - 2 == 8 + 1 + 6 + 1  # less the header and its rule
    assert "| own small FFT" in summary and "| cpu.fft ≥ 2×" in summary
    assert "| cuda.fbfft band-limited: time at 50% compression ≤ 0.6× compression 0 | not measured" in summary
    assert "not measured: sweep gpu_target with cuda.fft and cudnn.best on a GPU" in summary
    assert "| mathieu_layers: N=128 96→256 in 32×32 k 7×7 | 12 ms vs 30 ms | 2.5 | yes |" in p.table
    assert "| convnet_benchmarks: N=128 3→96 in 128×128 k 11×11 | 20 ms vs 30 ms | 1.5 | **no** |" in p.table


def test_nothing_measured_is_a_skip(tmp_path):
    with pytest.raises(Skip):
        targets.build(folder(tmp_path, [row("quick", L2, "cpu.fft", "fprop", 1)]))


def test_roofline_floor_is_the_larger_of_compute_and_memory_time_at_the_recorded_peaks(tmp_path):
    peaks = {"peak_fp32_gflops": 50_000.0, "peak_dram_gb_per_s": 2_000.0}  # 50 TFLOP/s, 2 TB/s
    r = [row("mathieu_layers", L2, "cuda.fft", "fprop", t) for t in (1.0, 1.2, 1.1)]      # median 1.1 ms
    r += [row("mathieu_layers", L2, "cuda.fft", "step", 8.0),
          row("convnet_benchmarks", CN1, "cuda.fbfft", "dgrad", 3.0),
          row("quick", L2, "cuda.fft", "dgrad", 1.0),                 # not a layer of the target
          row("mathieu_layers", L2, "cuda.fft", "wgrad", 0.1, "tf32")]  # tf32: not an fp32 case
    flops_bytes = {"fprop": (40e9, 1e9), "step": (100e9, 10e9), "dgrad": (1e9, 4e9), "wgrad": (1e9, 1e9)}
    for x in r:
        x["model_flops"], x["model_bytes"] = flops_bytes[x["pass"]]
    fft, fbfft = targets.roofline_floor(folder(tmp_path, r, gpu=peaks))
    # fprop: 40 GFLOP at 50 TFLOP/s = 0.8 ms > 1 GB at 2 TB/s = 0.5 ms; 1.1 / 0.8 = 1.375, met.
    # step: 2 ms vs 5 ms: DRAM-bound, 8 / 5 = 1.6, not met. dgrad: 2 ms of DRAM, 3 / 2 = 1.5, met.
    assert [(c["case"].rsplit(" ", 1)[1], round(c["measured"], 4), c["met"]) for c in fft.cases] == [
        ("fprop", 1.375, True), ("step", 1.6, False)]
    assert fft.cases[0]["detail"] == "1.1 ms vs floor 0.8 ms (FP32-bound)"
    assert fft.cases[1]["detail"].endswith("(DRAM-bound)")
    assert [(round(c["measured"], 4), c["met"]) for c in fbfft.cases] == [(1.5, True)]
    assert fft.verdict() == "**not met** in 1 of 2 case(s)"


def test_roofline_cases_say_where_the_time_goes_from_the_stage_times(tmp_path):
    r = [row("mathieu_layers", L2, "cuda.fft", "fprop", 2.0)]
    r[0].update(model_flops=40e9, model_bytes=1e9,
                detail="cudnn-free; stages ms: place x 0.1, fft x 0.3, transpose x 0.1, place w 0.05, fft w 0.05, "
                       "transpose w 0.05, gemm fprop 1.0, transpose y 0.1, ifft y 0.2, crop y 0.05")
    (case,) = targets.roofline_floor(folder(tmp_path, r, gpu={"peak_fp32_gflops": 50_000.0,
                                                                "peak_dram_gb_per_s": 2_000.0}))[0].cases
    assert case["detail"] == "2 ms vs floor 0.8 ms (FP32-bound; time: GEMM 50%, transforms 28%, layout 22%)"
    assert targets.stage_shares("stages ms: forward x 1, gemm fprop 3") == "GEMM 75%, transforms 25%"
    assert targets.stage_shares("planner timed steps: 36x36 4.44 ms") == ""
    assert targets.stage_shares("stages ms: forward x fast") == ""


def test_implementations_of_a_onednn_row_are_named_once_in_pass_order():
    step = ("fprop jit:avx512_core; dgrad jit:avx512_core; wgrad x64:gemm:jit; "
            "7 reorders (x, w, dy, y, dx, dw)")
    assert targets.implementations(step) == "jit:avx512_core, x64:gemm:jit"
    assert targets.implementations("dgrad brgconv_bwd_d:avx512_core") == "brgconv_bwd_d:avx512_core"
    assert targets.implementations("") == ""
    assert targets.implementations(float("nan")) == ""  # an empty CSV cell, as pandas reads it


def test_roofline_floor_needs_the_gpu_peaks_of_the_env_sidecar(tmp_path):
    r = [row("mathieu_layers", L2, "cuda.fft", "fprop", 1.0)]
    r[0]["model_flops"], r[0]["model_bytes"] = 1e9, 1e9
    fft, _ = targets.roofline_floor(folder(tmp_path, r))  # no sidecar
    assert not fft.cases and "results.csv: no GPU peaks in the env sidecar" in fft.verdict()
    # A compute capability outside convbench's lane table records no FP32 peak: still no floor.
    fft, _ = targets.roofline_floor(folder(tmp_path / "b", r, gpu={"peak_fp32_gflops": None,
                                                                  "peak_dram_gb_per_s": 3000.0}))
    assert not fft.cases and fft.verdict().startswith("not measured")
