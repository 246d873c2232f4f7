"""Figure 9: our small-size FFT (fbfft-style, cuda.fbfft) vs cuFFT — transform time against size.

Input: `fft_transform*.csv` with columns algo (cuda.fbfft, cufft, ...), dims, size (per dim),
batch, time_ms and optional direction (r2c, c2r, ...) and device (plots/README.md). A panel per
(dims, direction, batch): time vs size on top, speedup over cuFFT below with DESIGN.md's target
(≥ 1.5× at sizes ≤ 32)."""

from __future__ import annotations

import pandas as pd

from . import style
from .base import Product, Skip, md_table

REFERENCE = "cufft"


def build(ds) -> list[Product]:
    t = ds.transforms
    if t.empty:
        raise Skip("no transform timing CSV (fft_transform*.csv; own FFT vs cuFFT, issue 6) in this folder")
    t = t.copy()
    if "direction" not in t.columns:
        t["direction"] = "r2c"
    t["direction"] = t["direction"].fillna("r2c")
    keys = list(t.groupby(["dims", "direction", "batch"]).groups)[:6]
    has_ref = (t["algo"] == REFERENCE).any()
    fig, axes = style.new_figure(2 if has_ref else 1, len(keys), width=4.3 * len(keys) + 2.3,
                                 height=8.2 if has_ref else 4.6)
    table = []
    for col, (dims, direction, batch) in enumerate(keys):
        d = t[(t["dims"] == dims) & (t["direction"] == direction) & (t["batch"] == batch)]
        ax = axes[0][col]
        med = d.groupby(["algo", "size"])["time_ms"].median()
        for algo in style.sort_algos(d["algo"].unique()):
            s = med.loc[algo].sort_index()
            ax.plot(s.index, s.values, **style.algo_style(algo))
            table += [{"dims": int(dims), "direction": direction, "batch": int(batch), "size": int(n),
                       "algo": algo, "time_ms": v} for n, v in s.items()]
        style.pow2_ticks(ax, d["size"])
        ax.set_yscale("log")
        ax.set_xlabel(f"transform size per dim ({int(dims)}D)")
        ax.set_ylabel("time per batched transform (ms)")
        ax.set_title(f"{int(dims)}D {direction}, batch {int(batch)}", fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        if has_ref:
            ax2 = axes[1][col]
            if REFERENCE not in med.index.get_level_values(0):
                style.no_data(ax2, f"no {REFERENCE} rows in this panel")
                continue
            ref = med.loc[REFERENCE]
            for algo in style.sort_algos(set(d["algo"]) - {REFERENCE}):
                sp = (ref / med.loc[algo]).dropna().sort_index()
                ax2.plot(sp.index, sp.values, **style.algo_style(algo))
            ax2.axhline(1.0, color="#999999", linewidth=0.8)
            ax2.axhline(1.5, color="black", linestyle=":", linewidth=1, label="target 1.5× (sizes ≤ 32)")
            style.pow2_ticks(ax2, d["size"])
            ax2.set_xlabel(f"transform size per dim ({int(dims)}D)")
            ax2.set_ylabel(f"speedup over {REFERENCE} (×)")
            ax2.grid(True, which="both", alpha=0.25)
    notes = [] if len(t.groupby(["dims", "direction", "batch"])) <= 6 else ["more than 6 panels: first 6 shown"]
    devices = t["device"].unique() if "device" in t.columns else ()
    caption = ds.caption(t["source"].unique(), devices)
    title = "Own small-size FFT vs cuFFT: batched transform time against size"
    style.finish(fig, title, caption, legend_axes=[a for row in axes for a in row])
    tab = pd.DataFrame(table).pivot_table(index=["dims", "direction", "batch", "size"], columns="algo",
                                          values="time_ms").reset_index()
    md = f"# {title}\n\nMedian ms per batched transform.\n\n" + md_table(tab)
    return [Product("fig9_fft_vs_cufft", title, fig, md, caption, notes)]
