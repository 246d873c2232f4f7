"""Figure 6: fbfft-style heat map (Vasilache et al. 2015) — speedup of our FFT over the best
vendor algorithm over (n, k), with the crossover contour (speedup = 1), one panel per pass.

CPU: cpu.fft over cpu.onednn; GPU: cuda.fft (and cuda.fbfft) over cudnn.best. Works on any sweep
with a 2D grid of square, unpadded, stride-1 shapes that has at least two n and two k values for
one (N, C, K): the quick sweep (N=4, C=16, K=16) and fbfft_space. When a sweep has several
(N, C, K) grids (fbfft_space), each cell is the geometric mean of the speedups over them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle

from . import style
from .base import Product, Skip, md_table

PAIRS = [("cpu.fft", "cpu.onednn"), ("cuda.fft", "cudnn.best"), ("cuda.fbfft", "cudnn.best")]
CMAP = "RdBu"  # blue: our FFT faster, red: the vendor faster


def speedups(rows: pd.DataFrame, ours: str, vendor: str) -> pd.DataFrame | None:
    """Per (pass, n, k): speedup = vendor time / our time (geometric mean over (N, C, K) grids)."""
    d = rows[rows["series"].isin([ours, vendor])]
    if d.empty:
        return None
    piv = d.pivot_table(index=["pass", "N", "C", "K", "n", "k"], columns="series", values="time_ms",
                        aggfunc="median")
    if ours not in piv or vendor not in piv:
        return None
    piv = piv.dropna(subset=[ours, vendor]).reset_index()
    piv["speedup"] = piv[vendor] / piv[ours]
    # keep (N, C, K) that form a real 2D grid: some n measured at two k or more, and some k at two
    # n or more (layer lists such as convnet_benchmarks' L3/L4, one k per n, are not a grid)
    ks_per_n = piv.groupby(["N", "C", "K", "n"])["k"].nunique().groupby(["N", "C", "K"]).max()
    ns_per_k = piv.groupby(["N", "C", "K", "k"])["n"].nunique().groupby(["N", "C", "K"]).max()
    grids = ks_per_n[(ks_per_n >= 2) & (ns_per_k.reindex(ks_per_n.index) >= 2)].index
    piv = piv.set_index(["N", "C", "K"]).loc[lambda x: x.index.isin(grids)].reset_index()
    if piv.empty:
        return None
    piv["log2"] = np.log2(piv["speedup"])
    agg = piv.groupby(["pass", "n", "k"]).agg(log2=("log2", "mean"), lo=("speedup", "min"),
                                              hi=("speedup", "max"), configs=("speedup", "size")).reset_index()
    agg["speedup"] = 2.0 ** agg["log2"]
    agg.attrs["grids"] = list(grids)
    return agg


def grid_label(grids) -> str:
    if len(grids) == 1:
        N, C, K = grids[0]
        return f"N={N}, C={C}, K={K}"
    Ns, Cs, Ks = (sorted({g[i] for g in grids}) for i in range(3))
    return (f"geometric mean over {len(grids)} (N, C, K): N∈{{{','.join(map(str, Ns))}}}, "
            f"C∈{{{','.join(map(str, Cs))}}}, K∈{{{','.join(map(str, Ks))}}}")


def heatmap(ax, a: pd.DataFrame, ns, ks, limit: float, axes=("n", "k"),
            labels=("input size n (n × n)", "kernel size k (k × k)"), missing=None):
    """log2 speedups of `a` on a grid: rows are a[axes[0]] values `ns`, columns a[axes[1]] values
    `ks`; missing(row value, column value) labels an unmeasured cell (default: "k > n" or "n/a")."""
    missing = missing or (lambda n, k: "k > n" if k > n else "n/a")
    z = np.full((len(ns), len(ks)), np.nan)
    for rv, cv, lg in zip(a[axes[0]], a[axes[1]], a["log2"]):
        z[ns.index(rv), ks.index(cv)] = lg
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    mesh = ax.pcolormesh(np.arange(len(ks) + 1) - 0.5, np.arange(len(ns) + 1) - 0.5, np.ma.masked_invalid(z),
                         cmap=CMAP, norm=norm, edgecolors="white", linewidth=0.5)
    for i in range(len(ns)):
        for j in range(len(ks)):
            if np.isfinite(z[i, j]):
                s = 2.0 ** z[i, j]
                ax.text(j, i, f"{s:.2g}×", ha="center", va="center", fontsize=7.5,
                        color="white" if abs(z[i, j]) > 0.6 * limit else "black")
    # cells not measured (k > n, or a skipped row): hatched grey, never mistaken for a value
    for i in range(len(ns)):
        for j in range(len(ks)):
            if not np.isfinite(z[i, j]):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#eeeeee", hatch="xx",
                                       edgecolor="#cccccc", linewidth=0))
                ax.text(j, i, missing(ns[i], ks[j]), ha="center", va="center", fontsize=7, color="#777777")
    # crossover: the cell edges between neighbours on opposite sides of speedup = 1 (a contour of
    # the sign on this categorical grid, without interpolating through the cells)
    segs = []
    for i in range(len(ns)):
        for j in range(len(ks)):
            if j + 1 < len(ks) and z[i, j] * z[i, j + 1] < 0:
                segs.append([(j + 0.5, i - 0.5), (j + 0.5, i + 0.5)])
            if i + 1 < len(ns) and z[i, j] * z[i + 1, j] < 0:
                segs.append([(j - 0.5, i + 0.5), (j + 0.5, i + 0.5)])
    if segs:
        ax.add_collection(LineCollection(segs, colors="black", linewidths=2.5, label="crossover (speedup = 1)",
                                         capstyle="round"))
    crossing = bool(segs)
    ax.set_xticks(range(len(ks)), [str(k) for k in ks])
    ax.set_yticks(range(len(ns)), [str(n) for n in ns])
    ax.set_ylabel(labels[0])
    ax.set_xlabel(labels[1])
    return mesh, crossing


def speedup_panels(a: pd.DataFrame, ours: str, vendor: str, ys, xs, keys=("n", "k"), names=("n", "k"),
                   labels=("input size n (n × n)", "kernel size k (k × k)"), missing=None, extra=None):
    """One heat map per pass of a's speedups (rows: a[keys[0]] values ys, columns: a[keys[1]]
    values xs) and a colour bar; returns the figure and the per-pass Markdown tables, each followed
    by extra(pass, rows) when given."""
    limit = max(1.0, float(np.nanmax(np.abs(a["log2"]))))
    fig, axes = style.new_figure(1, 4, width=4.3 * 4 + 1.5, height=1.0 + 0.55 * len(ys) + 2.2)
    mesh, md = None, []
    for ax, p in zip(axes[0], style.PASSES):
        d = a[a["pass"] == p]
        if d.empty:
            style.no_data(ax, f"no {p} rows with both {ours} and {vendor}")
            ax.set_title(p, fontsize=10)
            continue
        mesh, crossing = heatmap(ax, d, ys, xs, limit, keys, labels, missing)
        wins = int((d["speedup"] > 1).sum())
        note = "black line: speedup = 1" if crossing else (
            "FFT faster everywhere" if d["speedup"].min() > 1 else "no crossover: vendor faster everywhere")
        ax.set_title(f"{style.PASS_TITLES[p]}\n{ours} faster in {wins}/{len(d)} cells; {note}", fontsize=9)
        tab = d.pivot_table(index=keys[0], columns=keys[1], values="speedup").reindex(index=ys, columns=xs)
        tab.columns = [f"{names[1]}={x}" for x in tab.columns]
        corner = f"{names[0]} \\ {names[1]}"
        md.append(f"\n## {p}\n\n" + md_table(tab.reset_index().rename(columns={keys[0]: corner})))
        if extra:
            md.append(extra(p, d))
    if mesh is not None:
        cb = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.9, pad=0.01)
        ticks = [t for t in [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16] if abs(np.log2(t)) <= limit + 1e-9]
        cb.set_ticks(np.log2(ticks), labels=[f"{t:g}×" for t in ticks])
        cb.set_label(f"speedup = time({vendor}) / time({ours})")
    return fig, md


def build(ds) -> list[Product]:
    r = ds.ok()
    if r.empty:
        raise Skip("no ok results rows")
    r = r[(r["dims"] == 2) & r["plain"] & r["cube"]]
    out = []
    for sweep in sorted(r["sweep"].unique()):
        rows = r[r["sweep"] == sweep]
        for ours_algo, vendor in PAIRS:
            for ours in style.sort_algos(rows.loc[rows["algo"] == ours_algo, "series"].unique()):
                a = speedups(rows, ours, vendor)
                if a is None:
                    continue
                out.append(one_figure(ds, rows, sweep, ours, vendor, a))
    if not out:
        raise Skip("no sweep with a 2D (n, k) grid measured for both cpu.fft and cpu.onednn "
                   "(or cuda.fft/cuda.fbfft and cudnn.best)")
    return out


def one_figure(ds, rows, sweep, ours, vendor, a) -> Product:
    ns, ks = sorted(a["n"].unique()), sorted(a["k"].unique())
    ns, ks = [int(n) for n in ns], [int(k) for k in ks]

    def ranges(p, d):  # min-max over the (N, C, K) grids behind each geometric mean
        if a["configs"].max() <= 1:
            return ""
        lo = d.set_index(["n", "k"])["lo"]
        hi = d.set_index(["n", "k"])["hi"]
        rng = pd.DataFrame([[f"{lo[(n, k)]:.2g}–{hi[(n, k)]:.2g}" if (n, k) in lo.index else "–" for k in ks]
                            for n in ns], columns=[f"k={k}" for k in ks])
        rng.insert(0, "n \\ k", [str(n) for n in ns])
        return f"\nRange (min–max) over the (N, C, K) configurations, {p}:\n\n" + md_table(rng)

    fig, md = speedup_panels(a, ours, vendor, ns, ks, extra=ranges)
    used = rows[rows["series"].isin([ours, vendor])]
    title = f"Speedup of {ours} over {vendor} ({sweep} sweep; {grid_label(a.attrs['grids'])})"
    caption = ds.caption(used["source"].unique(), used["device"].unique())
    style.finish(fig, title, caption)
    name = f"fig6_speedup_{sweep}_{ours}_vs_{vendor}".replace(".", "_").replace(" ", "_").replace("(", "")
    name = name.replace(")", "")
    md_text = (f"# {title}\n\nSpeedup = median time of {vendor} / median time of {ours}; > 1 means our FFT "
               f"is faster.\n" + "".join(md))
    return Product(name, title, fig, md_text, caption)
