"""Figure 12: the channel and batch sweeps of DESIGN.md (sweeps channels and batch).

Channels (f, f' from 1 to 512 by powers of two at one N, n, k): the speedup of our FFT over the
vendor over (f, f') with the crossover, one panel per pass, as figure 6 does over (n, k); and time
against f = f', one line per algorithm. Batch (S from 1 to 256, in 1D, 2D and 3D): time against S,
one figure per dimensionality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style
from .base import Product, Skip
from .fig2_mathieu_fig3 import time_panels
from .fig6_heatmap import PAIRS, speedup_panels


def fixed(rows: pd.DataFrame, cols) -> str:
    """'N=32, n=32, k=5' for the columns that hold one value in rows (a list where several)."""
    parts = []
    for c in cols:
        vals = sorted(rows[c].unique())
        parts.append(f"{c}={vals[0]:g}" if len(vals) == 1 else f"{c}∈{{{','.join(f'{v:g}' for v in vals)}}}")
    return ", ".join(parts)


def channel_speedups(rows: pd.DataFrame, ours: str, vendor: str) -> pd.DataFrame | None:
    """Per (pass, C, K): speedup = vendor time / our time (medians), with its log2."""
    d = rows[rows["series"].isin([ours, vendor])]
    piv = d.pivot_table(index=["pass", "C", "K"], columns="series", values="time_ms", aggfunc="median")
    if ours not in piv or vendor not in piv:
        return None
    piv = piv.dropna(subset=[ours, vendor]).reset_index()
    if piv.empty:
        return None
    piv["speedup"] = piv[vendor] / piv[ours]
    piv["log2"] = np.log2(piv["speedup"])
    return piv


def channel_heatmap(ds, rows: pd.DataFrame, ours: str, vendor: str, a: pd.DataFrame) -> Product:
    cs, ks = sorted(int(c) for c in a["C"].unique()), sorted(int(k) for k in a["K"].unique())
    fig, md = speedup_panels(a, ours, vendor, cs, ks, keys=("C", "K"), names=("f", "f'"),
                             labels=("input channels f", "output channels f'"), missing=lambda c, k: "n/a")
    used = rows[rows["series"].isin([ours, vendor])]
    title = f"Channel sweep: speedup of {ours} over {vendor} over (f, f') ({fixed(used, ['N', 'n', 'k'])})"
    caption = ds.caption(used["source"].unique(), used["device"].unique())
    style.finish(fig, title, caption)
    name = f"fig12_channels_{ours}_vs_{vendor}".replace(".", "_").replace(" ", "_").replace("(", "").replace(")", "")
    text = (f"# {title}\n\nSpeedup = median time of {vendor} / median time of {ours}; > 1 means our FFT is "
            f"faster. Rows: input channels f; columns: output channels f'.\n" + "".join(md))
    return Product(name, title, fig, text, caption)


def build(ds) -> list[Product]:
    out, missing = [], []
    rows = ds.ok("channels")
    if rows.empty:
        missing.append("channels")
    else:
        for ours_algo, vendor in PAIRS:
            for ours in style.sort_algos(rows.loc[rows["algo"] == ours_algo, "series"].unique()):
                a = channel_speedups(rows, ours, vendor)
                if a is not None:
                    out.append(channel_heatmap(ds, rows, ours, vendor, a))
        diagonal = rows[rows["C"] == rows["K"]]
        if not diagonal.empty:
            title = f"Channel sweep: time vs f = f' ({fixed(diagonal, ['N', 'n', 'k'])})"
            out.append(time_panels(ds, diagonal, "C", "channels f = f'", title, "fig12_channels_time", "channels"))
    rows = ds.ok("batch")
    if rows.empty:
        missing.append("batch")
    for dims in sorted(rows["dims"].unique()) if not rows.empty else []:
        d = rows[rows["dims"] == dims]
        title = f"Batch sweep, {dims}D: time vs minibatch size S ({fixed(d, ['C', 'K', 'n', 'k'])})"
        out.append(time_panels(ds, d, "N", "minibatch size S", title, f"fig12_batch_{dims}d", "batch"))
    if not out:
        raise Skip(ds.why_empty(["channels", "batch"]))
    if missing:
        out[0].notes.append("sweep(s) not in this folder: " + ", ".join(missing))
    return out
