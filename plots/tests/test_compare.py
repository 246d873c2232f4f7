"""Two results folders row against row (python -m convbench_plots.compare): ratios per group, the rows
that could not be compared counted, bad input one line."""

from pathlib import Path

import pytest

from convbench_plots import compare
from test_targets import L2, L5, row, write_folder

CPU_A = {"cpu": "CPU A", "omp_threads": 2, "date": "2026-12-01T00:00:00Z", "git_sha": "aaaaaaa111"}


def table_rows(text, header):
    """{first cells: last cells} of the Markdown table after `header`."""
    part = text.split(header, 1)[1].split("\n## ", 1)[0]
    rows = [ln.strip("| ").split(" | ") for ln in part.splitlines() if ln.startswith("| ")][2:]
    return {tuple(r[:-4]): r[-4:] for r in rows}


def test_ratios_per_group_and_the_rows_left_out_are_counted(tmp_path, capsys):
    base = write_folder(tmp_path, "before", [
        row("s1", L2, "cpu.fft", "fprop", 10), row("s1", L5, "cpu.fft", "fprop", 20),
        row("s1", L2, "cpu.fft", "step", 30), row("s1", L2, "cpu.onednn", "fprop", 8),
        row("s2", L2, "cpu.fft", "fprop", 6), row("s1", L2, "cpu.im2col", "fprop", 5)], CPU_A)
    failed = row("s1", L2, "cpu.onednn", "fprop", 2)
    failed["status"] = "failed"
    other = write_folder(tmp_path, "after", [
        row("s1", L2, "cpu.fft", "fprop", 5), row("s1", L5, "cpu.fft", "fprop", 40),
        row("s1", L2, "cpu.fft", "step", 15), failed,
        row("s2", L2, "cpu.fft", "fprop", 3), row("s3", L2, "cpu.fft", "fprop", 1)], dict(CPU_A, git_sha="bbbbbbb222"))
    assert compare.main([str(base), str(other)]) == 0
    text = capsys.readouterr().out
    assert "The hardware differs" not in text  # same CPU: a before/after of the code
    assert "aaaaaaa" in text and "bbbbbbb" in text
    # compared: s1 fft fprop 2 cases (2, 0.5), s1 fft step 2, s2 fft fprop 2; not: onednn (failed
    # after), im2col (only before), s3 (only after)
    assert ("4 case(s) compared; 1 row(s) only in base, 1 row(s) only in other, "
            "1 row(s) in both, not ok on a side.") in text
    groups = table_rows(text, "## By sweep, algorithm, pass and precision")
    assert groups == {("s1", "cpu.fft", "fprop", "fp32"): ["2", "1.25", "0.5", "2"],
                      ("s1", "cpu.fft", "step", "fp32"): ["1", "2", "2", "2"],
                      ("s2", "cpu.fft", "fprop", "fp32"): ["1", "2", "2", "2"]}
    assert table_rows(text, "## By algorithm, over every sweep") == {("cpu.fft",): ["4", "2", "0.5", "2"]}


def test_other_hardware_is_said_and_out_writes_a_file(tmp_path):
    base = write_folder(tmp_path, "a", [row("s", L2, "cpu.fft", "fprop", 4)], CPU_A)
    other = write_folder(tmp_path, "b", [row("s", L2, "cpu.fft", "fprop", 8)], dict(CPU_A, cpu="CPU B"))
    out = tmp_path / "cmp.md"
    assert compare.main([str(base), str(other), "--out", str(out)]) == 0
    text = out.read_text()
    assert "The hardware differs" in text
    assert table_rows(text, "## By algorithm, over every sweep") == {("cpu.fft",): ["1", "0.5", "0.5", "0.5"]}


def test_runs_on_a_busy_host_are_said(tmp_path):
    quiet = {"seconds": 60.0, "cpus": 2, "others_cpu_s": 1.2, "steal_cpu_s": 0.0, "others_share": 0.01,
             "steal_share": 0.0}
    base = write_folder(tmp_path, "a", [row("s", L2, "cpu.fft", "fprop", 4)], dict(CPU_A, host_load=quiet))
    other = write_folder(tmp_path, "b", [row("s", L2, "cpu.fft", "fprop", 8)], dict(CPU_A, host_load=quiet))
    assert "busy host" not in compare.report(base, other)
    busy = write_folder(tmp_path, "c", [row("s", L2, "cpu.fft", "fprop", 8)],
                        dict(CPU_A, host_load=dict(quiet, others_cpu_s=48.0, others_share=0.4)))
    text = compare.report(base, busy)
    assert "Runs timed on a busy host" in text
    assert "- OTHER: " in text and "1 of 1 runs" in text and "up to 40%" in text and "- BASE: " not in text


def test_nothing_to_compare_or_bad_input_is_one_line(tmp_path, capsys):
    a = write_folder(tmp_path, "a", [row("s", L2, "cpu.fft", "fprop", 4)])
    b = write_folder(tmp_path, "b", [row("s", L5, "cpu.fft", "fprop", 4)])
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.csv").write_text("sweep,dims\nq,2\n")
    for args, says in (([a, b], "share no case"), ([a, empty], "no benchmark result rows"),
                       ([a, bad], "x.csv"), ([a, tmp_path / "absent"], "absent")):
        assert compare.main([str(p) for p in args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err


def test_the_committed_intel_hosts_compare():
    """The repository's two Intel folders (the same sweeps on two VMs) match case for case."""
    root = Path(__file__).resolve().parents[2] / "results"
    a, b = (root / f"intel-r-xeon-r-processor-family-6-model-{m}" for m in (207, 167))
    if not (a.is_dir() and b.is_dir()):
        pytest.skip("the Intel results folders are not in this checkout")
    text = compare.report(a, b)
    assert "The hardware differs" in text
    algos = table_rows(text, "## By algorithm, over every sweep")
    assert {"cpu.fft", "cpu.onednn"} <= {k[0] for k in algos}
    assert all(0.5 < float(v[1]) < 2 for v in algos.values())  # medians: the same hardware class
