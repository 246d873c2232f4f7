"""Every figure on the fixture CSVs: the expected panels, series, axis labels and scales."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, QuadMesh

from convbench_plots import (fig1_model_ops, fig2_mathieu_fig3, fig3_layer_table, fig4_seed, fig5_training,
                             fig6_heatmap, fig7_roofline, fig8_bandlimited, fig9_fft_transform, fig10_tiled,
                             fig11_fft_sizes, fig12_channels_batch,
                             style, targets)
from convbench_plots.base import Skip, fmt


def panels(fig):
    """Data panels only (colour bars have no title and are excluded)."""
    return [a for a in fig.axes if a.get_label() != "<colorbar>"]


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def is_no_data(ax):
    return any(t.get_text().startswith("no data") for t in ax.texts)


def legend_labels(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def test_fig1_model_counts(full_ds):
    (p,) = fig1_model_ops.build(full_ds)
    axes = panels(p.fig)
    assert len(axes) == 3
    for ax, pas in zip(axes, ["fprop", "dgrad", "wgrad"]):
        assert ax.get_title().startswith(pas)
        assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
        assert ax.get_xlabel().startswith("input size n") and ax.get_ylabel() == "operations"
        labels = line_labels(ax)
        assert len(labels) == 4 and any("direct, Mathieu" in lab for lab in labels)
        assert any(lab.startswith("FFT, Mathieu count (C = 2.5)") for lab in labels)
        assert [list(line.get_xdata()) for line in ax.get_lines()][0] == [8, 16, 32, 64]
    # n=64, fprop: the Mathieu direct count S·f'·f·n'²·k² is in the table
    assert "5.19e+11" in p.table  # fprop n=64: S·f'·f·n'²·k² = 128·256·96·58²·49
    assert "294" in p.table  # Mathieu's RAM figure for S=128, n=32, f=96, f'=256 (MB)


def test_fig2_time_vs_n_panels_per_pass(full_ds):
    (p,) = fig2_mathieu_fig3.build(full_ds)
    assert p.name == "fig2_mathieu_fig3a"
    axes = panels(p.fig)
    assert [a.get_title().split(" ")[0] for a in axes] == style.PASSES
    assert set(line_labels(axes[0])) == {"cpu.im2col", "cpu.fft", "cpu.fft (pow2)"}
    for ax in axes:
        assert ax.get_yscale() == "log"
        assert ax.get_ylabel() == "time per call (ms, median)"
        assert ax.get_xlabel().startswith("input size n")
    # the failed step row (n=32, cpu.fft) is not drawn, and the caption says so
    fft_step = [line for line in axes[3].get_lines() if line.get_label() == "cpu.fft"][0]
    assert list(fft_step.get_xdata()) == [8, 16]
    assert "1 failed row" in p.caption
    assert any("mathieu_fig3b" in n for n in p.notes)
    # colours are the shared per-algorithm ones
    assert [line for line in axes[0].get_lines() if line.get_label() == "cpu.fft"][0].get_color() == \
        style.ALGO_COLOURS["cpu.fft"]


def test_fig3_layer_table_with_paper_numbers(full_ds):
    p = fig3_layer_table.build(full_ds)[0]
    assert p.name == "fig3_mathieu_layers"
    axes = panels(p.fig)
    assert len(axes) == 4 and all(a.get_yscale() == "log" for a in axes)
    labels = legend_labels(p.fig)
    assert labels[:3] == ["paper Torch7 (GTX Titan)", "paper CudaConv (GTX Titan)", "paper FFT (GTX Titan)"]
    assert {"cpu.fft", "cpu.onednn"} <= set(labels)
    # 5 layers × (3 paper + 2 ours) bars per panel
    assert len(axes[0].patches) == 5 * 5
    assert "ours:\nnot run" in [t.get_text() for t in axes[0].texts]  # L4, L5 not in the fixture
    assert fig3_layer_table.PAPER_MS["dgrad"][1] == (197, 261, 92)  # 660-178-285, 885-221-403, 159-34-33
    assert "| L2 k=7 n=32 f=96 f'=256 | 178 | 221 | 34 |" in p.table


def test_fig3_convnet_benchmarks_layers_without_paper_bars(full_ds):
    prods = {p.name: p for p in fig3_layer_table.build(full_ds)}
    assert set(prods) == {"fig3_mathieu_layers", "fig3_convnet_benchmarks"}
    p = prods["fig3_convnet_benchmarks"]
    axes = panels(p.fig)
    assert len(axes) == 4 and all(a.get_yscale() == "log" for a in axes)
    assert set(legend_labels(p.fig)) == {"cpu.fft", "cpu.onednn"}  # no paper bars
    assert len(axes[0].patches) == 5 * 2  # 5 layers × 2 of ours (L4, L5 NaN: not in the fixture)
    assert [t.get_text() for t in axes[0].texts].count("ours:\nnot run") == 2
    assert [t.get_text() for t in axes[0].get_xticklabels()][1] == "L2\nk9 n64\n64→128"
    # fixture: L2's cpu.fft step is 20 ms × 3
    assert "| L2 k=9 n=64 f=64 f'=128 | 60 | 240 |" in p.table.split("## step")[1]


def test_fig4_seed_cpu_row_and_missing_panel(full_ds):
    (p,) = fig4_seed.build(full_ds)
    axes = panels(p.fig)
    assert len(axes) == 3  # CPU row only: the fixture has no cuda.* rows
    assert set(line_labels(axes[0])) == {"cpu.direct", "cpu.im2col", "cpu.fft"}
    assert is_no_data(axes[1])  # seed_kernel_size not in the fixture
    assert axes[2].get_yscale() == "log"
    assert [t.get_text() for t in axes[2].get_xticklabels()][0].startswith("1D")
    assert "GPU: no cuda.* rows" in p.caption
    assert any("seed_kernel_size" in n for n in p.notes)


def test_fig5_training_panels_and_stats_table(full_ds):
    (p,) = fig5_training.build(full_ds)
    axes = panels(p.fig)
    assert [a.get_title() for a in axes] == ["step time vs input size n", "step time vs kernel size k",
                                             "step time vs batch size"]
    assert set(line_labels(axes[0])) == {"cpu.direct", "cpu.fft"}
    assert axes[0].get_yscale() == "log"  # 60 ms .. 900 ms
    assert is_no_data(axes[1])
    assert set(line_labels(axes[2])) == {"cpu.im2col", "cpu.fft"}  # from the stats-only file
    assert axes[2].get_xlabel() == "batch size"
    assert "## train_seed_batch.stats.csv" in p.table and "| fftnet | cpu.fft | 16 | 64 | 32 | 1 | 12 |" in p.table


def test_fig5_stats_computed_from_steps_when_no_stats_file(folder_with):
    from convbench_plots import data
    ds = data.load(folder_with("train_seed_input.csv"))
    (p,) = fig5_training.build(ds)
    # count 3, min 402.5, max 410 for cpu.direct at n=70, as the seed's table
    assert "| fftnet | cpu.direct | 10 | 70 | 64 | 1 | 3 | 402.5 | 410 | 405.9 |" in p.table


def test_fig6_heatmaps_cpu_and_gpu(full_ds):
    prods = {p.name: p for p in fig6_heatmap.build(full_ds)}
    assert set(prods) == {"fig6_speedup_quick_cpu_fft_vs_cpu_onednn", "fig6_speedup_quick_cuda_fft_vs_cudnn_best"}
    cpu = prods["fig6_speedup_quick_cpu_fft_vs_cpu_onednn"]
    axes = panels(cpu.fig)
    assert len(axes) == 4
    assert any(a.get_label() == "<colorbar>" for a in cpu.fig.axes)
    for ax in axes:
        assert any(isinstance(c, QuadMesh) for c in ax.collections)
        assert ax.get_xlabel().startswith("kernel size k") and ax.get_ylabel().startswith("input size n")
        assert [t.get_text() for t in ax.get_yticklabels()] == ["8", "16", "32"]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "5", "9"]
    # the synthetic timings cross over: a crossover boundary is drawn in fprop
    assert any(isinstance(c, LineCollection) for c in axes[0].collections)
    assert "N=4, C=16, K=16" in cpu.title
    gpu = panels(prods["fig6_speedup_quick_cuda_fft_vs_cudnn_best"].fig)
    assert not is_no_data(gpu[0]) and all(is_no_data(a) for a in gpu[1:])  # fprop rows only


def test_fig6_geometric_mean_over_configurations(full_ds):
    r = full_ds.ok("quick")
    r = r[(r["dims"] == 2) & r["plain"] & r["cube"] & r["algo"].isin(["cpu.fft", "cpu.onednn"])]
    # a second (N, C, K) grid where the vendor is 4x slower: geometric mean doubles the speedup
    other = r.assign(N=8)
    other.loc[other["algo"] == "cpu.onednn", "time_ms"] *= 4
    one = fig6_heatmap.speedups(r, "cpu.fft", "cpu.onednn")
    two = fig6_heatmap.speedups(pd.concat([r, other]), "cpu.fft", "cpu.onednn")
    assert len(two.attrs["grids"]) == 2 and (two["configs"] == 2).all()
    np.testing.assert_allclose(two["speedup"].to_numpy(), 2 * one["speedup"].to_numpy())
    assert "geometric mean over 2" in fig6_heatmap.grid_label(two.attrs["grids"])


def test_fig6_a_layer_list_is_not_a_grid(full_ds):
    # convnet_benchmarks' L3 and L4 share (N, C, K) with two n and two k, but one k per n
    l3 = full_ds.ok("convnet_benchmarks").query("n == 32 and k == 9")
    l4 = l3.assign(n=16, in_h=16, in_w=16, k=7, k_h=7, k_w=7)
    assert fig6_heatmap.speedups(pd.concat([l3, l4]), "cpu.fft", "cpu.onednn") is None
    assert not any("convnet" in p.name for p in fig6_heatmap.build(full_ds))
    # one more cell, on L3's row and L4's column, makes it a grid
    extra = l3.assign(k=7, k_h=7, k_w=7)
    assert fig6_heatmap.speedups(pd.concat([l3, l4, extra]), "cpu.fft", "cpu.onednn") is not None


def test_fig7_roofline_per_backend(full_ds):
    (p,) = fig7_roofline.build(full_ds)
    axes = panels(p.fig)
    assert len(axes) == 4  # CPU and GPU rows, two panels each
    assert [a.get_title().split(":")[0] for a in axes] == ["CPU", "CPU", "GPU", "GPU"]
    for ax in axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert axes[1].get_xlabel().startswith("arithmetic intensity") and "GFLOP/s" in axes[1].get_ylabel()
    assert any(lab.startswith("measured roof") for lab in line_labels(axes[1]))
    # The GPU run's env sidecar records the device's peaks: its roof is drawn; the CPU has none.
    assert "device peak roof: 6.69e+04 GFLOP/s FP32, 3.35e+03 GB/s DRAM" in line_labels(axes[3])
    assert not any(lab.startswith("device peak roof") for lab in line_labels(axes[1]))
    assert {"cpu.fft", "cpu.onednn", "cuda.fft", "cudnn.best"} <= set(legend_labels(p.fig))


def test_fig8_bandlimited(full_ds):
    (p,) = fig8_bandlimited.build(full_ds)
    assert p.name == "fig8_bandlimited_cpu_fft"
    axes = panels(p.fig)
    assert len(axes) == 2 * 3  # fixture has fprop and step only
    assert any("dgrad" in n for n in p.notes)
    assert axes[0].get_ylabel() == "time / time at compression 0"
    assert axes[2].get_yscale() == "log"
    assert axes[0].get_xlabel().startswith("compression (%")
    shapes = [lab for lab in line_labels(axes[0]) if lab.startswith("N=")]
    assert len(shapes) == 2
    first = [line for line in axes[0].get_lines() if line.get_label() == shapes[0]][0]
    assert list(first.get_xdata()) == [0, 50, 90] and first.get_ydata()[0] == pytest.approx(1.0)
    assert "time ratio" in p.table


def test_fig8_stage_panel_from_stage_times(folder_with):
    d = folder_with("bandlimited.csv")
    q = pd.read_csv(d / "bandlimited.csv", dtype=str)
    c = q["compression"].astype(float)
    # GEMMs shrink with the kept bins, the transforms do not (as cpu.fft measures)
    q["detail"] = [f"stages ms: forward x 20, gemm fprop {10 * (1 - x):g}, inverse y 10" for x in c]
    q.to_csv(d / "bandlimited.csv", index=False)
    from convbench_plots import data
    (p,) = fig8_bandlimited.build(data.load(d))
    axes = panels(p.fig)
    assert len(axes) == 2 * 4  # a stage panel per pass
    stage_ax = axes[3]
    assert stage_ax.get_title() == "fprop: time by stage"
    assert set(line_labels(stage_ax)) == {"GEMM", "transforms"}
    gemm = [ln for ln in stage_ax.get_lines() if ln.get_linestyle() == "-" and len(ln.get_xdata())][0]
    assert list(gemm.get_xdata()) == [0, 50, 90]
    assert list(gemm.get_ydata()) == pytest.approx([10 / 40, 5 / 40, 1 / 40])
    assert "GEMM ratio" in p.table and "transforms ratio" in p.table


def test_fig9_transforms(full_ds):
    (p,) = fig9_fft_transform.build(full_ds)
    axes = panels(p.fig)
    assert len(axes) == 2
    assert set(line_labels(axes[0])) == {"cuda.fbfft", "cuda.fbfft_split", "cufft"}
    assert axes[0].get_xscale() == "log" and axes[0].get_yscale() == "log"
    assert axes[1].get_ylabel() == "speedup over cufft (×)"
    sp = [line for line in axes[1].get_lines() if line.get_label() == "cuda.fbfft"][0]
    assert sp.get_ydata()[0] == pytest.approx(0.021 / 0.011)
    # the split variant where it ran (32, 64; its skipped 16 has no time)
    split = [line for line in axes[1].get_lines() if line.get_label() == "cuda.fbfft_split"][0]
    assert list(split.get_xdata()) == [32, 64]
    assert list(split.get_ydata()) == pytest.approx([0.088 / 0.044, 0.31 / 0.24])


def test_fig10_tiled(full_ds):
    (p,) = fig10_tiled.build(full_ds)
    axes = panels(p.fig)
    combos = full_ds.ok("fft_tiled")[["N", "k"]].drop_duplicates()
    assert len(axes) == 3 * len(combos)  # fprop time, step time, step workspace per (N, k)
    assert {"cpu.fft", "cpu.fft_tiled", "cpu.onednn"} <= set(line_labels(axes[0]))
    assert axes[0].get_xscale() == "log" and axes[0].get_yscale() == "log"
    assert "step workspace" in axes[2 * len(combos)].get_ylabel()
    # the ratio column is the tiled time over the whole-input time of the same row
    r = full_ds.ok("fft_tiled")
    row = r[(r["pass"] == "fprop") & (r["N"] == 1) & (r["k"] == 3) & (r["n"] == 256)]
    ratio = row[row["algo"] == "cpu.fft_tiled"]["time_ms"].iloc[0] / row[row["algo"] == "cpu.fft"]["time_ms"].iloc[0]
    assert f"| {fmt(ratio)} |" in p.table
    assert "cpu.fft_tiled tiles" in p.table and "tiles " in p.table


def test_fig11_fft_sizes(full_ds):
    (p,) = fig11_fft_sizes.build(full_ds)
    axes = panels(p.fig)
    assert len(axes) == 4  # time and size, for cpu.fft and cuda.fft
    assert set(line_labels(axes[0])) == {"cpu.fft (cheapest)", "cpu.fft (smooth)", "cpu.fft (pow2)"}
    assert axes[0].get_yscale() == "log"
    # the size panel plots the size each policy ran (geometric mean of its dims) against the padded n
    size_axes = [ax for ax in axes if ax.get_ylabel() == "transform size" and "cpu.fft" in ax.get_title()]
    (cheapest,) = [ln for ln in size_axes[0].get_lines() if ln.get_label() == "cpu.fft (cheapest)"]
    assert list(cheapest.get_xdata()) == [18, 30, 35]
    assert list(cheapest.get_ydata()) == pytest.approx([20, 32, (35 * 36) ** 0.5])
    # fixture: cpu.fft step at padded 30 takes 7.5 ms cheapest, 15 ms smooth -> 0.5
    assert "| cpu.fft | step | 30 | 32x32 | 30x30 | 32x32 | 7.5 | 15 | 7.5 | 0.5 | 1 |" in p.table
    assert "| cuda.fft | step | 30 | 30x30 | – |" in p.table  # no smooth run there: the cell stays empty
    assert "cpu.fft step: cheapest / smooth geometric mean" in p.table


def test_fig11_notes_failed_rows(folder_with):
    from convbench_plots import data
    folder = folder_with("fft_sizes.csv")
    csv = folder / "fft_sizes.csv"
    df = pd.read_csv(csv)
    df.loc[0, "status"] = "failed"  # one cpu.fft row over tolerance
    df.to_csv(csv, index=False)
    (p,) = fig11_fft_sizes.build(data.load(folder))
    assert p.notes == ["1 failed row(s) (over tolerance) not shown"]


def test_fig12_channel_heatmap_time_and_batch_figures(full_ds):
    prods = {p.name: p for p in fig12_channels_batch.build(full_ds)}
    assert set(prods) == {"fig12_channels_cpu_fft_vs_cpu_onednn", "fig12_channels_time", "fig12_batch_1d",
                          "fig12_batch_2d", "fig12_batch_3d"}
    heat = prods["fig12_channels_cpu_fft_vs_cpu_onednn"]
    axes = panels(heat.fig)
    assert len(axes) == 4 and any(a.get_label() == "<colorbar>" for a in heat.fig.axes)
    for ax in axes:
        assert any(isinstance(c, QuadMesh) for c in ax.collections)
        assert ax.get_ylabel() == "input channels f" and ax.get_xlabel() == "output channels f'"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "4", "16", "64"]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "4", "16", "64"]
    # fixture: the FFT has a 1 ms floor, oneDNN grows 5x faster with f·f': a crossover in every pass
    assert all(any(isinstance(c, LineCollection) for c in ax.collections) for ax in axes)
    assert "N=32, n=32, k=5" in heat.title
    # f = f' = 64, fprop: (0.005·4096 + 0.05) / (0.001·4096 + 1) = 4.03; the skipped wgrad cell stays empty
    fprop = heat.table.split("## fprop")[1].split("## dgrad")[0]
    assert fprop.strip().splitlines()[-1] == "| 64 | 0.348 | 1.06 | 2.55 | 4.03 |"
    assert "n/a" in [t.get_text() for t in axes[2].texts]
    wgrad = heat.table.split("## wgrad")[1].split("## step")[0]
    assert wgrad.strip().splitlines()[-1].endswith("| – |")
    time = panels(prods["fig12_channels_time"].fig)
    assert set(line_labels(time[0])) == {"cpu.im2col", "cpu.fft", "cpu.onednn"}
    assert time[0].get_xlabel() == "channels f = f'"
    (fft,) = [ln for ln in time[0].get_lines() if ln.get_label() == "cpu.fft"]
    assert list(fft.get_xdata()) == [1, 4, 16, 64]  # the diagonal only
    for dims in (1, 2, 3):
        p = prods[f"fig12_batch_{dims}d"]
        axes = panels(p.fig)
        assert [a.get_title().split(" ")[0] for a in axes] == style.PASSES
        assert p.title.startswith(f"Batch sweep, {dims}D") and "C=64, K=64" in p.title
        (fft,) = [ln for ln in axes[0].get_lines() if ln.get_label() == "cpu.fft"]
        assert list(fft.get_xdata()) == [1, 4, 16]
        assert list(fft.get_ydata()) == pytest.approx([(0.2 * s + 0.5) * dims for s in (1, 4, 16)])


def test_fig12_notes_a_missing_sweep(folder_with):
    from convbench_plots import data
    prods = fig12_channels_batch.build(data.load(folder_with("batch.csv")))
    assert [p.name for p in prods] == ["fig12_batch_1d", "fig12_batch_2d", "fig12_batch_3d"]
    assert prods[0].notes == ["sweep(s) not in this folder: channels"]


@pytest.mark.parametrize("module", [fig1_model_ops, fig2_mathieu_fig3, fig3_layer_table, fig4_seed, fig5_training,
                                    fig6_heatmap, fig7_roofline, fig8_bandlimited, fig9_fft_transform, fig10_tiled,
                                    fig11_fft_sizes, fig12_channels_batch, targets])
def test_every_figure_skips_cleanly_without_data(module, folder_with):
    from convbench_plots import data
    ds = data.load(folder_with())  # an empty results folder
    with pytest.raises(Skip):
        module.build(ds)


def test_captions_name_machine_and_date(full_ds):
    (p,) = fig2_mathieu_fig3.build(full_ds)
    assert "machine full (AMD EPYC, 2 threads)" in p.caption and "run 2026-11-22" in p.caption
    gpu = [q for q in fig6_heatmap.build(full_ds) if "cuda" in q.name][0]
    assert "NVIDIA H100 80GB HBM3" in gpu.caption and "2026-11-23" in gpu.caption


def test_fig6_fbfft_space_like_sweep_with_several_grids(folder_with):
    from convbench_plots import data
    d = folder_with()
    q = pd.read_csv(Path(__file__).parent / "fixtures" / "full" / "quick.csv", dtype=str)
    q = q[q["algo"].isin(["cpu.fft", "cpu.onednn"])].assign(sweep="fbfft_space")
    pd.concat([q, q.assign(N="8"), q.assign(C="32")]).to_csv(d / "fbfft_space.csv", index=False)
    (p,) = fig6_heatmap.build(data.load(d))
    assert p.name == "fig6_speedup_fbfft_space_cpu_fft_vs_cpu_onednn"
    assert "geometric mean over 3 (N, C, K)" in p.title
    assert "Range (min–max) over the (N, C, K) configurations, fprop" in p.table
    assert len(panels(p.fig)) == 4


def test_fig2_plots_a_cpu_slice_and_counts_it_as_that_panel(folder_with):
    from convbench_plots import data
    d = folder_with("mathieu_fig3a.csv")
    a = pd.read_csv(d / "mathieu_fig3a.csv", dtype=str)
    (d / "mathieu_fig3a.csv").unlink()
    a.assign(sweep="mathieu_fig3b_cpu").to_csv(d / "mathieu_fig3b_cpu.csv", index=False)
    a.assign(sweep="mathieu_fig3a_cpu").to_csv(d / "mathieu_fig3a_cpu.csv", index=False)
    products = fig2_mathieu_fig3.build(data.load(d))
    assert [p.name for p in products] == ["fig2_mathieu_fig3a_cpu", "fig2_mathieu_fig3b_cpu"]
    assert "Fig. 3(a)" in products[0].title and "CPU slice: S=8" in products[0].title
    assert "Fig. 3(b)" in products[1].title
    # only (c) has neither the full sweep nor a slice
    assert products[0].notes == ["sweep(s) not in this folder: mathieu_fig3c"]


def test_variants_table_compares_matching_ok_cases(full_ds):
    from convbench_plots import variants
    (p,) = variants.build(full_ds)
    assert p.name == "variants" and p.fig is None
    assert "## filter_fft/" in p.table
    assert "`convbench bench --sweep sweeps/mathieu_layers.json --algo cpu.fft --pass fprop,step " \
           "--filter-spectra fft`" in p.table
    # 6 cases at half the time here: ratio 2 per (algo, pass); the compression-0.5 case and the
    # failed row have no ok twin
    assert "| mathieu_layers | cpu.fft | fprop | fp32 | 3 | 2 | 2 | 2 |" in p.table
    assert "| mathieu_layers | cpu.fft | step | fp32 | 3 | 2 | 2 | 2 |" in p.table
    assert "2 of the variant's 8 rows have no `ok` twin" in p.table
    assert p.notes == ["filter_fft/: 1 failed row(s)"]
    assert "data: mathieu_layers.csv" in p.caption and "variants: filter_fft/mathieu_layers.csv" in p.caption


def test_variants_skip_without_subfolders_and_reject_a_damaged_one(folder_with):
    from convbench_plots import data, variants
    d = folder_with("mathieu_layers.csv")
    with pytest.raises(Skip, match="no variant subfolder"):
        variants.build(data.load(d))
    (d / "figures").mkdir()
    (d / "figures" / "x.csv").write_text("not,a,results,file\n")  # figures/ and logs/ are not variants
    with pytest.raises(Skip, match="no variant subfolder"):
        variants.build(data.load(d))
    (d / "v").mkdir()
    (d / "v" / "mathieu_layers.csv").write_text("sweep,algo\nx,cpu.fft\n")
    with pytest.raises(data.CsvError, match="mathieu_layers.csv"):
        variants.build(data.load(d))
