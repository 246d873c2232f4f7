"""The cross-machine targets table (results/hosts.md): one column per machine folder, each cell that
folder's own verdict, on small synthetic folders and on the repository's results/."""

from pathlib import Path

import pytest

from convbench_plots import hosts
from test_targets import L2, row, write_folder as machine


def cpu_rows(onednn_ms):
    cpu = dict(N=8, C=64, K=64, n=64)
    return [row("cpu_target", dict(cpu, k=9), "cpu.fft", p, 10) for p in ("fprop", "step")] + \
           [row("cpu_target", dict(cpu, k=9), "cpu.onednn", p, t) for p, t in (("fprop", onednn_ms), ("step", 50))]


def test_each_machine_gets_its_own_verdicts_and_hardware(tmp_path):
    machine(tmp_path, "cpu-a", cpu_rows(25), {"cpu": "CPU A", "cpu_simd": "avx2 fma", "omp_threads": 2,
                                             "date": "2026-12-01T00:00:00Z", "git_sha": "abcdef0123"})
    machine(tmp_path, "cpu-b", cpu_rows(15))  # no sidecar
    machine(tmp_path, "gpu-c", [row("mathieu_layers", L2, "cudnn.best", p, t)
                                for p, t in (("fprop", 10), ("dgrad", 12), ("wgrad", 8))]
            + [row("mathieu_layers", L2, "cuda.fft", "step", 12)],
            {"cuda": "built with CUDA 13000, 1 device(s): [0] H-test sm_90", "date": "2026-12-04T00:00:00Z"})
    (tmp_path / "cpu-a" / "figures").mkdir()  # not a machine
    assert hosts.main([str(tmp_path)]) == 0
    text = (tmp_path / "hosts.md").read_text()
    assert "| M1 | cpu-a | CPU A (avx2 fma), 2 threads | 2026-12-01, convbench abcdef0 |" in text
    assert "| M2 | cpu-b | – | – |" in text
    assert "| M3 | gpu-c | H-test | 2026-12-04 |" in text
    lines = {ln.split(" | ")[0].lstrip("| "): ln for ln in text.splitlines() if ln.startswith("| ")}
    cpu_target = lines["cpu.fft ≥ 2× cpu.onednn at k ≥ 9, n = 64, f = f' = 64 (CPU)"].split(" | ")
    # fprop 25/10 = 2.5 and step 50/10 = 5 on A; fprop 1.5 (short) and step 5 on B; nothing on C
    assert cpu_target[2:] == ["met 2/2 (2.5–5×)", "**short** in 1 of 2 (1.5–5×)", "– |"]
    step = [ln for title, ln in lines.items() if title.startswith("cuda.fft training step")][0].split(" | ")
    assert step[2:] == ["–", "–", "met 1/1 (2.5×) |"]  # (10 + 12 + 8) / 12
    assert not any(title.startswith("cpu.fft band-limited") for title in lines)  # measured nowhere


def test_a_root_without_machine_folders_or_with_a_bad_csv_is_one_line(tmp_path, capsys):
    assert hosts.main([str(tmp_path)]) == 2
    assert "no machine folder" in capsys.readouterr().err
    bad = tmp_path / "m"
    bad.mkdir()
    (bad / "x.csv").write_text("sweep,dims\nq,2\n")
    assert hosts.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "x.csv" in err[0]
    assert hosts.main([str(tmp_path / "absent")]) == 2


def test_the_committed_results_make_a_table_with_every_machine():
    """The repository's own results/ (real CSVs of every host so far) go through without error."""
    root = Path(__file__).resolve().parents[2] / "results"
    folders = hosts.machine_folders(root)
    if not folders:
        pytest.skip(f"no machine folder under {root}")
    text = hosts.summarize(root)
    for i, f in enumerate(folders):
        assert f"| M{i + 1} | {f.name} | " in text
    assert "| cpu.fft ≥ 2× cpu.onednn at k ≥ 9" in text or all(f.name.startswith("nvidia") for f in folders)
