"""Figure 3: layer timing tables — our ms per pass per algorithm on Mathieu et al. 2014's layers
beside the paper's GTX Titan numbers (sweep mathieu_layers), and on the convnet-benchmarks layers
L1–L5 that fbfft (Vasilache et al. 2015) used (sweep convnet_benchmarks; no paper bars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style
from .base import Product, Skip, md_table

SWEEP = "mathieu_layers"
# Source: Mathieu, Henaff & LeCun, "Fast Training of Convolutional Networks through FFTs", ICLR 2014
# (arXiv 1312.5851), layer timing table: GTX Titan, ms, S = 128, as collected in DESIGN.md.
# Layers are (k, n, f, f'); each entry is (Torch7, CudaConv, FFT).
PAPER_IMPLS = ["Torch7", "CudaConv", "FFT"]
PAPER_LAYERS = [(11, 32, 3, 96), (7, 32, 96, 256), (5, 16, 256, 384), (5, 16, 384, 384), (3, 16, 384, 384)]
PAPER_MS = {
    "fprop": [(5, 16, 3), (178, 221, 34), (74, 98, 34), (111, 146, 49), (57, 86, 49)],     # updateOutput
    "wgrad": [(39, 32, 2), (285, 403, 33), (116, 195, 32), (174, 280, 48), (96, 178, 47)],  # accGradParameters
    "step": [(44, 48, 5), (660, 885, 159), (266, 401, 142), (401, 587, 213), (215, 341, 212)],  # total
}
# DESIGN.md does not list updateGradInput; it is derived as total − updateOutput − accGradParameters
# (0 for the first layer, whose input gradient is not needed).
PAPER_MS["dgrad"] = [tuple(t - f - w for t, f, w in zip(*trip))
                     for trip in zip(PAPER_MS["step"], PAPER_MS["fprop"], PAPER_MS["wgrad"])]
PAPER_PASS_NAMES = {"fprop": "updateOutput", "dgrad": "updateGradInput (derived)", "wgrad": "accGradParameters",
                    "step": "total"}
PAPER_GREYS = ["#bdbdbd", "#969696", "#636363"]
S = 128
# convnet-benchmarks L1-L5 as (k, n, f, f') (DESIGN.md; sweeps/convnet_benchmarks.json), S = 128
CONVNET_SWEEP = "convnet_benchmarks"
CONVNET_LAYERS = [(11, 128, 3, 96), (9, 64, 64, 128), (9, 32, 128, 128), (7, 16, 128, 128), (3, 13, 384, 384)]


def layer_label(i, layer) -> str:
    k, n, f, fp = layer
    return f"L{i + 1}\nk{k} n{n}\n{f}→{fp}"


def ours(ds, sweep=SWEEP, layers=PAPER_LAYERS) -> pd.DataFrame:
    """Our median ms per (layer index, pass, series)."""
    r = ds.ok(sweep)
    out = []
    if r.empty:
        return pd.DataFrame(out)
    for i, (k, n, f, fp) in enumerate(layers):
        d = r[(r["N"] == S) & (r["k"] == k) & (r["n"] == n) & (r["C"] == f) & (r["K"] == fp) & (r["dims"] == 2)]
        for (p, s), g in d.groupby(["pass", "series"]):
            out.append({"layer": i, "pass": p, "series": s, "algo": g["algo"].iloc[0],
                        "policy": g["fft_policy"].iloc[0], "time_ms": g["time_ms"].median()})
    return pd.DataFrame(out)


def build(ds) -> list[Product]:
    out, missing = [], []
    for sweep, layers, paper in ((SWEEP, PAPER_LAYERS, True), (CONVNET_SWEEP, CONVNET_LAYERS, False)):
        o = ours(ds, sweep, layers)
        if o.empty:
            missing.append(sweep)
        else:
            out.append(layer_figure(ds, o, sweep, layers, paper))
    if not out:
        raise Skip(ds.why_empty(missing))
    if missing:
        out[0].notes.append("sweep(s) not in this folder: " + ", ".join(missing))
    return out


def layer_figure(ds, o: pd.DataFrame, sweep: str, layers, paper: bool) -> Product:
    """Bars per layer: the paper's three implementations (Mathieu's table only), then ours."""
    series = style.sort_algos(o["series"].unique())
    impls = PAPER_IMPLS if paper else []
    fig, axes = style.new_figure(1, 4, width=20, height=5.2)
    nbar = len(impls) + len(series)
    width = 0.8 / nbar
    xs = np.arange(len(layers))
    if paper:
        md = [f"# Mathieu et al. 2014 layer table: paper (GTX Titan) vs ours ({ds.machine})\n",
              "Milliseconds per call, S = 128. Paper columns: Mathieu, Henaff & LeCun, ICLR 2014 "
              "(Torch7 / CudaConv / their FFT on a GTX Titan); paper dgrad = total − updateOutput − "
              "accGradParameters. Ours: median of the mathieu_layers sweep; `step` is one training step "
              "(the paper's total).\n"]
    else:
        md = [f"# convnet-benchmarks layers L1–L5 ({ds.machine})\n",
              "Milliseconds per call, S = 128, stride 1, no padding (the layers fbfft, Vasilache et al. 2015, "
              "measured). Ours: median of the convnet_benchmarks sweep; `step` is one training step.\n"]
    for ax, p in zip(axes[0], style.PASSES):
        for j, impl in enumerate(impls):
            vals = [PAPER_MS[p][i][j] for i in range(len(layers))]
            vals = [v if v > 0 else np.nan for v in vals]  # L1 dgrad is not computed in the paper
            ax.bar(xs - 0.4 + (j + 0.5) * width, vals, width, color=PAPER_GREYS[j], hatch="//",
                   edgecolor="white", label=f"paper {impl} (GTX Titan)")
        d = o[o["pass"] == p]
        for j, s in enumerate(series):
            e = d[d["series"] == s].set_index("layer")["time_ms"]
            if e.empty:
                continue
            vals = [e.get(i, np.nan) for i in range(len(layers))]
            st = style.algo_style(d[d["series"] == s]["algo"].iloc[0], d[d["series"] == s]["policy"].iloc[0])
            ax.bar(xs - 0.4 + (len(impls) + j + 0.5) * width, vals, width, color=st["color"], label=st["label"])
        for i in range(len(layers)):
            if d.empty or not (d["layer"] == i).any():
                ax.text(xs[i] + (0.2 if paper else 0), 0.02, "ours:\nnot run", transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=7, color="#a00")
        ax.set_xticks(xs, [layer_label(i, L) for i, L in enumerate(layers)], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("time per call (ms)")
        ax.set_xlabel("layer (k, n, f→f'), S = 128")
        ax.set_title(f"{style.PASS_TITLES[p]}\npaper: {PAPER_PASS_NAMES[p]}" if paper else style.PASS_TITLES[p],
                     fontsize=9.5)
        ax.grid(True, axis="y", which="both", alpha=0.25)
        if d.empty:
            ax.text(0.5, 0.97, f"no ok {p} rows of ours", transform=ax.transAxes, ha="center", va="top",
                    fontsize=8, color="#a00")
        rows = []
        for i, L in enumerate(layers):
            row = {"layer": f"L{i + 1} k={L[0]} n={L[1]} f={L[2]} f'={L[3]}"}
            for j, impl in enumerate(impls):
                row[f"paper {impl}"] = PAPER_MS[p][i][j] if PAPER_MS[p][i][j] > 0 else np.nan
            e = d.set_index(["layer", "series"])["time_ms"] if not d.empty else pd.Series(dtype=float)
            for s in series:
                row[s] = e.get((i, s), np.nan)
            rows.append(row)
        heading = f"{p} (paper: {PAPER_PASS_NAMES[p]})" if paper else p
        md.append(f"\n## {heading}\n\n" + md_table(pd.DataFrame(rows)))
    r = ds.ok(sweep)
    caption = ds.caption(r["source"].unique(), r["device"].unique()) + (" · paper bars: GTX Titan, 2014" if paper else "")
    failed = ds.failed_count(sweep)
    if failed:
        caption += f" · {failed} failed row(s) not shown"
    if paper:
        title = "Mathieu et al. 2014 layer table: ours vs the paper's GTX Titan numbers (S = 128)"
        name = "fig3_mathieu_layers"
    else:
        title = "convnet-benchmarks layers L1–L5 (fbfft's evaluation; S = 128): time per pass"
        name = "fig3_convnet_benchmarks"
    style.finish(fig, title, caption, legend_axes=axes[0])
    return Product(name, title, fig, "\n".join(md), caption)
