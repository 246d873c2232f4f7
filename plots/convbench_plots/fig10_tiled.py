"""Figure 10: tiled (overlap-save) FFT convolution against the whole-input FFT and the library
baselines (sweep fft_tiled): time and workspace against the input size n, a column per
(batch, kernel) pair, a line per algorithm. The table gives the times, the tiled/untiled ratio of
each backend and the tiles the planner chose."""

from __future__ import annotations

import pandas as pd

from . import style
from .base import Product, Skip, md_table

SWEEP = "fft_tiled"
ROWS = [("fprop", "time_ms", "fprop time (ms, median)"), ("step", "time_ms", "step time (ms, median)"),
        ("step", "workspace_bytes", "step workspace (MiB)")]
# tiled algorithm -> its whole-input counterpart
PAIRS = {"cpu.fft_tiled": "cpu.fft", "cuda.fft_tiled": "cuda.fft", "cuda.fbfft_tiled": "cuda.fbfft"}


def build(ds) -> list[Product]:
    r = ds.ok(SWEEP)
    if r.empty:
        raise Skip(ds.why_empty(SWEEP))
    combos = r[["N", "k"]].drop_duplicates().sort_values(["N", "k"]).itertuples(index=False)
    combos = [(int(n), int(k)) for n, k in combos]
    fig, axes = style.new_figure(len(ROWS), len(combos), width=3.9 * len(combos) + 2.4, height=3.2 * len(ROWS) + 1.2)
    for col, (batch, k) in enumerate(combos):
        d = r[(r["N"] == batch) & (r["k"] == k)]
        for row, (p, metric, ylabel) in enumerate(ROWS):
            ax = axes[row][col]
            ax.set_title(f"N={batch}, {int(d['C'].iloc[0])}→{int(d['K'].iloc[0])}ch, k={k}: {p}", fontsize=9)
            dp = d[d["pass"] == p]
            if dp.empty:
                style.no_data(ax, f"no ok {p} rows")
                continue
            for series in style.sort_algos(dp["series"].unique()):
                s = dp[dp["series"] == series].groupby("n")[metric].median().sort_index()
                if metric == "workspace_bytes":
                    s = s / 2**20
                    if not (s > 0).any():
                        continue
                ax.plot(s.index, s.values, **style.algo_style(dp[dp["series"] == series]["algo"].iloc[0]))
            ax.set_xscale("log", base=2)
            style.pow2_ticks(ax, sorted(dp["n"].unique()))
            ax.set_yscale("log")
            ax.set_xlabel("input size n (n × n, 'same' padding)")
            ax.set_ylabel(ylabel, fontsize=9)
            ax.grid(True, which="both", alpha=0.25)
    table = []
    for (p, batch, k, n), g in r.groupby(["pass", "N", "k", "n"]):
        t = g.groupby("series")["time_ms"].median()
        entry = {"pass": p, "N": int(batch), "k": int(k), "n": int(n)}
        for series in style.sort_algos(t.index):
            entry[f"{series} (ms)"] = t[series]
        for tiled, whole in PAIRS.items():
            if tiled in t.index and whole in t.index:
                entry[f"{tiled} / {whole}"] = t[tiled] / t[whole]
            if tiled in t.index:
                detail = g[g["algo"] == tiled]["detail"].dropna() if "detail" in g.columns else pd.Series(dtype=str)
                entry[f"{tiled} tiles"] = str(detail.iloc[0]).split(";")[0] if len(detail) else "–"
        table.append(entry)
    tab = pd.DataFrame(table)
    tab = tab[[c for c in tab.columns if not c.endswith("tiles")] + [c for c in tab.columns if c.endswith("tiles")]]
    notes = ds.failed_notes(SWEEP)
    caption = ds.caption(r["source"].unique(), r["device"].unique())
    title = "Tiled (overlap-save) FFT vs whole-input FFT: time and workspace vs input size"
    style.finish(fig, title, caption, legend_axes=axes[0])
    md = (f"# {title}\n\nMedians (ms); `a / b`: time of the tiled algorithm over its whole-input FFT "
          f"(below 1: tiling wins); tiles: the planner's choice.\n\n" + md_table(tab))
    return [Product("fig10_tiled", title, fig, md, caption, notes)]
