"""Figure 2: Mathieu et al. 2014, Fig. 3 — measured time against n, k and S (sweeps
mathieu_fig3a/b/c, or their CPU-sized slices mathieu_fig3a/b/c_cpu), one panel per pass, one line
per algorithm. One PNG per sweep present."""

from __future__ import annotations

import pandas as pd

from . import style
from .base import Product, Skip, md_table

SWEEPS = {
    # sweep: (x column, axis label, what is fixed)
    "mathieu_fig3a": ("n", "input size n (n × n)", "S=128, f=96, f'=256, k=7"),
    "mathieu_fig3b": ("k", "kernel size k (k × k)", "S=128, f=96, f'=256, n=32"),
    "mathieu_fig3c": ("N", "minibatch size S", "f=96, f'=256, k=7, n=32"),
    # CPU-sized slices: the minibatch cut so that 2 cores finish
    "mathieu_fig3a_cpu": ("n", "input size n (n × n)", "CPU slice: S=8, f=96, f'=256, k=7"),
    "mathieu_fig3b_cpu": ("k", "kernel size k (k × k)", "CPU slice: S=8, f=96, f'=256, n=32"),
    "mathieu_fig3c_cpu": ("N", "minibatch size S", "CPU slice: f=96, f'=256, k=7, n=32"),
}


def time_panels(ds, rows: pd.DataFrame, x: str, xlabel: str, title: str, name: str, sweep: str,
                passes=style.PASSES, extra_caption: str = "") -> Product:
    """A row of panels (one per pass) of median time against `x`, a line per series (algorithm)."""
    fig, axes = style.new_figure(1, len(passes), width=4.0 * len(passes) + 2.4, height=4.2)
    table = []
    all_t = rows["time_ms"]
    logy = style.wide(all_t)
    for ax, p in zip(axes[0], passes):
        d = rows[rows["pass"] == p]
        if d.empty:
            style.no_data(ax, f"no ok {p} rows in {sweep}")
            ax.set_title(style.PASS_TITLES[p], fontsize=10)
            continue
        for series in style.sort_algos(d["series"].unique()):
            s = d[d["series"] == series].groupby(x)["time_ms"].median().sort_index()
            algo = d[d["series"] == series]["algo"].iloc[0]
            st = style.algo_style(algo, d[d["series"] == series]["fft_policy"].iloc[0])
            ax.plot(s.index, s.values, **st)
            for xv, t in s.items():
                table.append({"pass": p, x: xv, "series": series, "time_ms": t})
        ax.set_title(style.PASS_TITLES[p], fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("time per call (ms, median)")
        if logy:
            ax.set_yscale("log")
        if style.wide(d[x], 15):
            ax.set_xscale("log", base=2)
        ax.grid(True, which="both", alpha=0.25)
    failed = ds.failed_count(sweep)
    caption = ds.caption(rows["source"].unique(), rows["device"].unique()) + extra_caption
    if failed:
        caption += f" · {failed} failed row(s) (over tolerance) not shown"
    style.finish(fig, title, caption, legend_axes=axes[0])
    tab = pd.DataFrame(table)
    md = ""
    if not tab.empty:
        wide = tab.pivot_table(index=["pass", x], columns="series", values="time_ms").reset_index()
        wide["pass"] = pd.Categorical(wide["pass"], style.PASSES, ordered=True)
        wide = wide.sort_values(["pass", x])
        wide["pass"] = wide["pass"].astype(str)
        md = f"# {title}\n\nMedian time per call in ms.\n\n" + md_table(wide)
    return Product(name, title, fig, md, caption)


def build(ds) -> list[Product]:
    out, missing = [], []
    for sweep, (x, xlabel, fixed) in SWEEPS.items():
        rows = ds.ok(sweep)
        if rows.empty:
            missing.append(sweep)
            continue
        letter = sweep.removesuffix("_cpu")[-1]
        title = f"Mathieu et al. 2014 Fig. 3({letter}): time vs {xlabel.split(' (')[0]} ({fixed})"
        out.append(time_panels(ds, rows, x, xlabel, title, f"fig2_{sweep}", sweep))
    if not out:
        raise Skip(ds.why_empty(missing))
    # a panel of Fig. 3 is missing only when neither the full sweep nor its CPU slice ran
    present = {sweep.removesuffix("_cpu") for sweep in SWEEPS if sweep not in missing}
    missing = [m for m in missing if not m.endswith("_cpu") and m not in present]
    if missing:
        out[0].notes.append("sweep(s) not in this folder: " + ", ".join(missing))
    return out
