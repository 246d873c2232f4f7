"""Figure 11: FFT transform size policies (sweep fft_sizes, run once per --fft-size policy): time
against the padded input n for the planner's cheapest size, the smallest 7-smooth size and the
next power of two, and the size each policy ran. A column per FFT algorithm, a line per policy.
The table gives per n the sizes, the times and the cheapest/smooth and cheapest/pow2 ratios."""

from __future__ import annotations

import math

import pandas as pd

from . import style
from .base import Product, Skip, md_table

SWEEP = "fft_sizes"
POLICIES = {"cheapest": {"linestyle": "-", "marker": "o"}, "smooth": {"linestyle": "--", "marker": "s"},
            "pow2": {"linestyle": ":", "marker": "^"}}
PASS = "step"


def _mean_size(size: str) -> float:
    """Geometric mean of the transform size's dims ("32x50" -> 40); NaN when missing."""
    try:
        dims = [float(v) for v in str(size).split("x")]
    except ValueError:
        return math.nan
    return math.prod(dims) ** (1 / len(dims))


def build(ds) -> list[Product]:
    r = ds.ok(SWEEP)
    if r.empty:
        raise Skip(ds.why_empty(SWEEP))
    r = r[r["fft_policy"].isin(POLICIES)].copy()
    if r.empty:
        raise Skip(f"{SWEEP}: no rows with a known FFT size policy ({', '.join(POLICIES)})")
    r["padded"] = r["n"] + 2 * r["pad"].astype(str).str.split("x").str[-1].astype(int)
    algos = style.sort_algos(r["algo"].unique())
    fig, axes = style.new_figure(2, len(algos), width=4.6 * len(algos) + 2.4, height=7.6)
    table, summary = [], []
    for col, algo in enumerate(algos):
        d = r[(r["algo"] == algo) & (r["pass"] == PASS)]
        t_ax, s_ax = axes[0][col], axes[1][col]
        t_ax.set_title(f"{algo}: {PASS}", fontsize=9)
        s_ax.set_title(f"{algo}: transform size (geometric mean of the dims)", fontsize=9)
        if d.empty:
            style.no_data(t_ax, f"no ok {PASS} rows")
            style.no_data(s_ax, f"no ok {PASS} rows")
            continue
        for policy, look in POLICIES.items():
            dp = d[d["fft_policy"] == policy]
            if dp.empty:
                continue
            kw = {**style.algo_style(algo), **look, "label": f"{algo} ({policy})"}
            t = dp.groupby("padded")["time_ms"].median().sort_index()
            t_ax.plot(t.index, t.values, **kw)
            sizes = dp.groupby("padded")["fft_size"].first().map(_mean_size).sort_index()
            s_ax.plot(sizes.index, sizes.values, **kw)
        lo, hi = int(d["padded"].min()), int(d["padded"].max())
        s_ax.plot([lo, hi], [lo, hi], color="#999999", linewidth=0.8, label="_n")
        for ax, ylabel in ((t_ax, f"{PASS} time (ms, median)"), (s_ax, "transform size")):
            ax.set_xlabel("padded input n (n × n)")
            ax.set_ylabel(ylabel, fontsize=9)
            ax.grid(True, which="both", alpha=0.25)
        t_ax.set_yscale("log")
        for (p, padded), g in r[r["algo"] == algo].groupby(["pass", "padded"]):
            entry = {"algo": algo, "pass": p, "padded n": int(padded)}
            times = g.groupby("fft_policy")["time_ms"].median()
            for policy in POLICIES:
                sizes = g[g["fft_policy"] == policy]["fft_size"]
                entry[f"{policy} size"] = str(sizes.iloc[0]) if len(sizes) else "–"
            for policy in POLICIES:
                entry[f"{policy} (ms)"] = times.get(policy, math.nan)
            for other in ("smooth", "pow2"):
                entry[f"cheapest / {other}"] = times.get("cheapest", math.nan) / times.get(other, math.nan)
            table.append(entry)
    tab = pd.DataFrame(table)
    for (algo, p), g in tab.groupby(["algo", "pass"]):
        for other in ("smooth", "pow2"):
            ratios = g[f"cheapest / {other}"].dropna()
            if len(ratios):
                geo = math.exp(sum(math.log(v) for v in ratios) / len(ratios))
                summary.append(f"{algo} {p}: cheapest / {other} geometric mean {geo:.2f} over {len(ratios)} sizes "
                             f"(range {ratios.min():.2f}–{ratios.max():.2f})")
    notes = ds.failed_notes(SWEEP)
    caption = ds.caption(r["source"].unique(), r["device"].unique())
    title = "FFT transform size policies: cheapest vs smallest 7-smooth vs power of two"
    style.finish(fig, title, caption, legend_axes=axes[0])
    md = (f"# {title}\n\nMedians (ms) per padded input n; sizes as run (`fft_size`); `cheapest / x`: time "
          f"under the planner's cheapest size over policy x (below 1: the planner wins).\n\n"
          + "".join(f"- {line}\n" for line in summary) + "\n" + md_table(tab))
    return [Product("fig11_fft_sizes", title, fig, md, caption, notes)]
