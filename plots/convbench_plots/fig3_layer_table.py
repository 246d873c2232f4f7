"""Figure 3: Mathieu et al. 2014's layer timing table — our ms per pass per algorithm beside the
paper's GTX Titan numbers (sweep mathieu_layers)."""

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


def layer_label(i, layer) -> str:
    k, n, f, fp = layer
    return f"L{i + 1}\nk{k} n{n}\n{f}→{fp}"


def ours(ds) -> pd.DataFrame:
    """Our median ms per (layer index, pass, series)."""
    r = ds.ok(SWEEP)
    out = []
    if r.empty:
        return pd.DataFrame(out)
    for i, (k, n, f, fp) in enumerate(PAPER_LAYERS):
        d = r[(r["N"] == S) & (r["k"] == k) & (r["n"] == n) & (r["C"] == f) & (r["K"] == fp) & (r["dims"] == 2)]
        for (p, s), g in d.groupby(["pass", "series"]):
            out.append({"layer": i, "pass": p, "series": s, "algo": g["algo"].iloc[0],
                        "policy": g["fft_policy"].iloc[0], "time_ms": g["time_ms"].median()})
    return pd.DataFrame(out)


def build(ds) -> list[Product]:
    o = ours(ds)
    if o.empty:
        raise Skip(ds.why_empty(SWEEP))
    series = style.sort_algos(o["series"].unique())
    fig, axes = style.new_figure(1, 4, width=20, height=5.2)
    nbar = len(PAPER_IMPLS) + len(series)
    width = 0.8 / nbar
    xs = np.arange(len(PAPER_LAYERS))
    md = [f"# Mathieu et al. 2014 layer table: paper (GTX Titan) vs ours ({ds.machine})\n",
          "Milliseconds per call, S = 128. Paper columns: Mathieu, Henaff & LeCun, ICLR 2014 "
          "(Torch7 / CudaConv / their FFT on a GTX Titan); paper dgrad = total − updateOutput − "
          "accGradParameters. Ours: median of the mathieu_layers sweep; `step` is one training step "
          "(the paper's total).\n"]
    for ax, p in zip(axes[0], style.PASSES):
        for j, impl in enumerate(PAPER_IMPLS):
            vals = [PAPER_MS[p][i][j] for i in range(len(PAPER_LAYERS))]
            vals = [v if v > 0 else np.nan for v in vals]  # L1 dgrad is not computed in the paper
            ax.bar(xs - 0.4 + (j + 0.5) * width, vals, width, color=PAPER_GREYS[j], hatch="//",
                   edgecolor="white", label=f"paper {impl} (GTX Titan)")
        d = o[o["pass"] == p]
        for j, s in enumerate(series):
            e = d[d["series"] == s].set_index("layer")["time_ms"]
            if e.empty:
                continue
            vals = [e.get(i, np.nan) for i in range(len(PAPER_LAYERS))]
            st = style.algo_style(d[d["series"] == s]["algo"].iloc[0], d[d["series"] == s]["policy"].iloc[0])
            ax.bar(xs - 0.4 + (len(PAPER_IMPLS) + j + 0.5) * width, vals, width, color=st["color"],
                   label=st["label"])
        for i in range(len(PAPER_LAYERS)):
            if d.empty or not (d["layer"] == i).any():
                ax.text(xs[i] + 0.2, 0.02, "ours:\nnot run", transform=ax.get_xaxis_transform(), ha="center",
                        va="bottom", fontsize=7, color="#a00")
        ax.set_xticks(xs, [layer_label(i, L) for i, L in enumerate(PAPER_LAYERS)], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("time per call (ms)")
        ax.set_xlabel("layer (k, n, f→f'), S = 128")
        ax.set_title(f"{style.PASS_TITLES[p]}\npaper: {PAPER_PASS_NAMES[p]}", fontsize=9.5)
        ax.grid(True, axis="y", which="both", alpha=0.25)
        if d.empty:
            ax.text(0.5, 0.97, f"no ok {p} rows of ours", transform=ax.transAxes, ha="center", va="top",
                    fontsize=8, color="#a00")
        rows = []
        for i, L in enumerate(PAPER_LAYERS):
            row = {"layer": f"L{i + 1} k={L[0]} n={L[1]} f={L[2]} f'={L[3]}"}
            for j, impl in enumerate(PAPER_IMPLS):
                row[f"paper {impl}"] = PAPER_MS[p][i][j] if PAPER_MS[p][i][j] > 0 else np.nan
            e = d.set_index(["layer", "series"])["time_ms"] if not d.empty else pd.Series(dtype=float)
            for s in series:
                row[s] = e.get((i, s), np.nan)
            rows.append(row)
        md.append(f"\n## {p} (paper: {PAPER_PASS_NAMES[p]})\n\n" + md_table(pd.DataFrame(rows)))
    r = ds.ok(SWEEP)
    caption = ds.caption(r["source"].unique(), r["device"].unique()) + " · paper bars: GTX Titan, 2014"
    failed = ds.failed_count(SWEEP)
    if failed:
        caption += f" · {failed} failed row(s) not shown"
    title = "Mathieu et al. 2014 layer table: ours vs the paper's GTX Titan numbers (S = 128)"
    style.finish(fig, title, caption, legend_axes=axes[0])
    return [Product("fig3_mathieu_layers", title, fig, "\n".join(md), caption)]
