"""Figure 4: the seed study's functional analysis — single image, one channel in and out, fprop:
(I) time vs n (2D, k = 2), (II) time vs k (2D, n = 150), (III) time vs dims (n = 50, k = 2);
naive direct vs im2col vs FFT, a row of panels per backend (CPU; GPU when cuda.* rows exist)."""

from __future__ import annotations

import pandas as pd

from . import style
from .base import Product, Skip, md_table

PANELS = [  # sweep, x column, x label, panel title
    ("seed_input_size", "n", "input size n (2D, n × n)", "(I) time vs input size, k = 2"),
    ("seed_kernel_size", "k", "kernel size k (2D, k × k)", "(II) time vs kernel size, n = 150"),
    ("seed_dims", "dims", "dimensions d (n = 50 per dim)", "(III) time vs dimensions, n = 50, k = 2"),
]
BACKENDS = {"cpu": "CPU", "cuda": "GPU"}


def build(ds) -> list[Product]:
    sweeps = [p[0] for p in PANELS]
    r = ds.ok(sweeps)
    r = r[r["pass"] == "fprop"] if not r.empty else r
    if r.empty:
        raise Skip(ds.why_empty(sweeps))
    r = r.assign(backend=r["algo"].str.split(".").str[0])
    backends = [b for b in BACKENDS if (r["backend"] == b).any()]
    fig, axes = style.new_figure(len(backends), 3, width=15, height=3.9 * len(backends) + 1.2)
    table = []
    for row, b in enumerate(backends):
        for col, (sweep, x, xlabel, title) in enumerate(PANELS):
            ax = axes[row][col]
            ax.set_title(f"{BACKENDS[b]}: {title}", fontsize=10)
            d = r[(r["sweep"] == sweep) & (r["backend"] == b)]
            if d.empty:
                style.no_data(ax, f"sweep {sweep} has no {b}.* rows here")
                continue
            for s in style.sort_algos(d["series"].unique()):
                g = d[d["series"] == s]
                t = g.groupby(x)["time_ms"].median().sort_index()
                ax.plot(t.index, t.values, **style.algo_style(g["algo"].iloc[0], g["fft_policy"].iloc[0]))
                table += [{"backend": BACKENDS[b], "analysis": sweep, "x": f"{x}={int(xv)}", "series": s,
                           "time_ms": tv} for xv, tv in t.items()]
            ax.set_xlabel(xlabel)
            ax.set_ylabel("fprop time (ms, median)")
            if style.wide(d["time_ms"], 10):
                ax.set_yscale("log")
            if x == "dims":
                ax.set_xticks([1, 2, 3], ["1D\n50", "2D\n50²", "3D\n50³"])
            ax.grid(True, which="both", alpha=0.25)
    notes = []
    missing = [s for s in sweeps if not (r["sweep"] == s).any()]
    if missing:
        notes.append("sweep(s) not in this folder: " + ", ".join(missing))
    if "cuda" not in backends:
        notes.append("no GPU (cuda.*) rows: the GPU row of this figure is missing")
    caption = ds.caption(r["source"].unique(), r["device"].unique())
    if "cuda" not in backends:
        caption += " · GPU: no cuda.* rows in this folder"
    title = "Seed functional analysis: naive direct vs im2col vs FFT (1 image, 1 channel in and out, fprop)"
    style.finish(fig, title, caption, legend_axes=[a for row in axes for a in row])
    tab = pd.DataFrame(table)
    md = (f"# {title}\n\nMedian fprop time in ms.\n\n"
          + md_table(tab.pivot_table(index=["backend", "analysis", "x"], columns="series", values="time_ms",
                                     sort=False).reset_index()))
    return [Product("fig4_seed_functional", title, fig, md, caption, notes)]
