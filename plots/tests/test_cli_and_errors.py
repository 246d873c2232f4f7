"""The one command, its outputs and summary, and the bad-CSV errors."""

import json
import shutil
from pathlib import Path

import pytest

from convbench_plots import __main__ as cli
from convbench_plots import data, style

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_full_fixture_folder_makes_every_figure(tmp_path, capsys):
    out = tmp_path / "figs"
    assert cli.main([str(FIXTURES / "full"), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    for n in range(1, 14):
        assert f"made    fig {n}:" in stdout
    assert "0 skipped, 0 failed" in stdout
    for stem in ["fig1_mathieu_fig2_model", "fig2_mathieu_fig3a", "fig3_mathieu_layers", "fig3_convnet_benchmarks",
                 "fig4_seed_functional",
                 "fig5_training", "fig6_speedup_quick_cpu_fft_vs_cpu_onednn", "fig7_model_vs_measured",
                 "fig8_bandlimited_cpu_fft", "fig9_fft_vs_cufft", "fig10_tiled", "fig11_fft_sizes",
                 "fig12_channels_cpu_fft_vs_cpu_onednn", "fig12_channels_time", "fig12_batch_2d"]:
        for ext in ("png", "svg", "md"):
            assert (out / f"{stem}.{ext}").stat().st_size > 0, f"{stem}.{ext}"
    assert "| own small FFT (cuda.fbfft's transforms)" in (out / "targets.md").read_text()
    index = (out / "index.md").read_text()
    assert "![" in index and "Skipped" not in index and "[targets.md](targets.md)" in index


def test_quick_only_folder_lists_the_skipped(folder_with, capsys):
    d = folder_with("quick.csv")
    stale = d / "figures" / "fig4_seed_functional.png"
    stale.parent.mkdir()
    stale.write_text("old")
    assert cli.main([str(d)]) == 0
    stdout = capsys.readouterr().out
    for n in ("1", "2", "3", "4", "5", "8", "9", "10", "12", "13"):
        assert f"skipped fig {n}:" in stdout
    assert "made    fig 6:" in stdout and "made    fig 7:" in stdout
    index = (d / "figures" / "index.md").read_text()
    assert "## Skipped (no data in this folder)" in index and "mathieu_layers" in index
    assert not stale.exists()  # an old figure of a now-skipped analysis is not left behind
    assert (d / "figures" / "fig6_speedup_quick_cpu_fft_vs_cpu_onednn.png").exists()


def test_svg_is_reproducible(folder_with, tmp_path):
    d = folder_with("quick.csv")
    cli.main([str(d), "--only", "6", "--out", str(tmp_path / "a")])
    cli.main([str(d), "--only", "6", "--out", str(tmp_path / "b")])
    name = "fig6_speedup_quick_cpu_fft_vs_cpu_onednn.svg"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("name, message", [
    ("empty.csv", "empty.csv: empty file (no header line)"),
    ("missing_columns.csv", "missing_columns.csv: missing column(s) algo, time_ms for a convbench results CSV"),
    ("bad_algo.csv", "bad_algo.csv: unknown algorithm name(s) 'FFT conv'; expected <backend>.<method>"),
    ("non_numeric.csv", "non_numeric.csv: column 'time_ms' must be numeric, got 'fast' on line 2"),
    ("bad_pass.csv", "bad_pass.csv: unknown pass name(s) ['forward']"),
    ("train_broken.stats.csv", "train_broken.stats.csv: missing column(s) median_ms for a training statistics CSV"),
])
def test_bad_csv_is_one_clear_line_and_exit_2(name, message, folder_with, capsys):
    d = folder_with("quick.csv")
    shutil.copy(FIXTURES / "bad" / name, d / name)
    assert cli.main([str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("convbench_plots: error: ") and message in err[0] and str(d) in err[0]


def test_known_algorithms_list_in_error(folder_with):
    d = folder_with()
    shutil.copy(FIXTURES / "bad" / "bad_algo.csv", d / "bad_algo.csv")
    with pytest.raises(style.UnknownAlgorithm, match="known: cpu.direct, cpu.im2col, cpu.fft"):
        data.load(d)


def test_well_formed_new_algorithm_gets_fallback_colour_and_warning(folder_with, capsys):
    d = folder_with()
    shutil.copy(FIXTURES / "bad" / "new_algo.csv", d / "new_algo.csv")
    ds = data.load(d)
    assert any("unknown algorithm 'cpu.winograd'" in n and "fallback colour" in n for n in ds.notes)
    c = style.colour("cpu.winograd")
    assert c == style.colour("cpu.winograd") and c not in style.ALGO_COLOURS.values()
    assert cli.main([str(d)]) == 0
    assert "note: " in capsys.readouterr().err


def test_cudnn_algorithms_are_known_without_warning():
    assert style.check_algorithms(["cudnn.best", "cudnn.winograd_nonfused", "cudnn.bwd_filter_algo_3"], "x") == []


def test_header_only_file_is_a_note_not_an_error(folder_with):
    d = folder_with("quick.csv")
    shutil.copy(FIXTURES / "bad" / "header_only.csv", d / "header_only.csv")
    ds = data.load(d)
    assert any("header_only.csv: header only" in n for n in ds.notes)
    assert len(ds.results) == len(data.read_csv(d / "quick.csv").df)


def test_partial_csv_ignored(folder_with):
    d = folder_with("quick.csv")
    shutil.copy(FIXTURES / "bad" / "empty.csv", d / "quick.partial.csv")  # would be an error if read
    ds = data.load(d)
    assert any("quick.partial.csv: unfinished sweep" in n for n in ds.notes)


def test_missing_folder(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_duplicate_rows_across_files_keep_the_last(folder_with):
    d = folder_with("quick.csv")
    shutil.copy(d / "quick.csv", d / "quick_rerun.csv")
    ds = data.load(d)
    assert len(ds.results) == len(data.read_csv(d / "quick.csv").df)
    assert any("duplicate" in n for n in ds.notes)


def test_runs_on_a_busy_host_are_a_note(folder_with):
    d = folder_with("quick.csv")
    side = d / "quick.csv.env.json"
    quiet = {"seconds": 9.0, "cpus": 2, "others_cpu_s": 0.9, "steal_cpu_s": 0.0, "others_share": 0.05,
             "steal_share": 0.0}
    side.write_text(json.dumps({"runs": [{"cpu": "x", "date": "2026-12-07", "host_load": quiet}]}))
    assert not any("busy" in n or "host_load" in n for n in data.load(d).notes)
    busy = dict(quiet, others_cpu_s=8.6, others_share=0.48)
    stolen = dict(quiet, steal_cpu_s=2.7, steal_share=0.15)
    tiny = dict(quiet, seconds=0.1, others_cpu_s=0.04, others_share=0.2)  # a few ticks: not evidence
    side.write_text(json.dumps({"runs": [{"host_load": busy}, {"host_load": stolen}, {"host_load": tiny}, {}]}))
    notes = [n for n in data.load(d).notes if "host_load" in n]
    assert len(notes) == 1 and "2 of 4 runs" in notes[0] and "up to 48%" in notes[0], notes
