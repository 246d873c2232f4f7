"""Figure 7: model vs measured — (a) measured time against the model's flop count per algorithm,
(b) a roofline: achieved model-flop rate against arithmetic intensity (model flops / model bytes).

The ceilings are *measured*, from this folder's own rows: compute = the best model-flop rate any
row reached, memory = the best model-bytes rate any row reached (per backend; there is no separate
peak microbenchmark). A point on the roof runs as fast as the best observed case permits. On a GPU
whose env sidecar records the device's peaks (FP32 from SMs x lanes x peak clock, DRAM from the
memory clock and bus), the device's own roof is drawn beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style
from .base import Product, Skip, md_table

BACKENDS = {"cpu": "CPU", "gpu": "GPU"}


def build(ds) -> list[Product]:
    r = ds.ok()
    if r.empty:
        raise Skip("no ok results rows")
    r = r[(r["model_flops"] > 0) & (r["model_bytes"] > 0)].copy()
    if r.empty:
        raise Skip("no ok rows with model_flops and model_bytes")
    r["backend"] = np.where(r["algo"].str.startswith("cpu."), "cpu", "gpu")
    r["gflops"] = r["model_flops"] / r["time_ms"] / 1e6
    r["gbytes"] = r["model_bytes"] / r["time_ms"] / 1e6
    r["intensity"] = r["model_flops"] / r["model_bytes"]
    backends = [b for b in BACKENDS if (r["backend"] == b).any()]
    fig, axes = style.new_figure(len(backends), 2, width=14, height=5.0 * len(backends) + 0.8)
    table = []
    for row, b in enumerate(backends):
        d = r[r["backend"] == b]
        peak, bw = d["gflops"].max(), d["gbytes"].max()
        ax_t, ax_r = axes[row]
        for s in style.sort_algos(d["series"].unique()):
            g = d[d["series"] == s]
            st = style.algo_style(g["algo"].iloc[0], g["fft_policy"].iloc[0])
            kw = dict(color=st["color"], marker=st["marker"], s=16, alpha=0.7, label=st["label"], linewidths=0)
            ax_t.scatter(g["model_flops"], g["time_ms"], **kw)
            ax_r.scatter(g["intensity"], g["gflops"], **kw)
            roof = np.minimum(peak, bw * g["intensity"])
            table.append({"backend": BACKENDS[b], "series": s, "rows": len(g),
                          "median GFLOP/s": g["gflops"].median(), "best GFLOP/s": g["gflops"].max(),
                          "median intensity (flop/B)": g["intensity"].median(),
                          "median fraction of roof": (g["gflops"] / roof).median()})
        # (a) guide: time if every flop ran at the measured compute ceiling
        f = np.geomspace(d["model_flops"].min(), d["model_flops"].max(), 50)
        ax_t.plot(f, f / peak / 1e6, color="#444444", linestyle="--", linewidth=1,
                  label=f"floor at measured peak ({peak:.3g} GFLOP/s)")
        ax_t.set_xscale("log")
        ax_t.set_yscale("log")
        ax_t.set_xlabel("model flops per call (flop; direct = 2·MACs, FFT = transforms + GEMMs)")
        ax_t.set_ylabel("measured time (ms, median)")
        ax_t.set_title(f"{BACKENDS[b]}: time vs model flops ({len(d)} rows, all sweeps and passes)", fontsize=10)
        ax_t.grid(True, which="both", alpha=0.2)
        # (b) the roofline with measured ceilings
        x = np.geomspace(d["intensity"].min() / 2, d["intensity"].max() * 2, 200)
        ax_r.plot(x, np.minimum(peak, bw * x), color="black", linewidth=1.8,
                  label=f"measured roof: {peak:.3g} GFLOP/s, {bw:.3g} GB/s")
        device = [pk for pk in map(ds.gpu_peaks, d["source"].unique()) if pk] if b == "gpu" else []
        if device:
            dev_flops, dev_bytes = (v / 1e9 for v in max(device))
            ax_r.plot(x, np.minimum(dev_flops, dev_bytes * x), color="#888888", linestyle=":", linewidth=1.8,
                      label=f"device peak roof: {dev_flops:.3g} GFLOP/s FP32, {dev_bytes:.3g} GB/s DRAM")
        ax_r.set_xscale("log")
        ax_r.set_yscale("log")
        ax_r.set_xlabel("arithmetic intensity (model flops / model bytes, flop/B)")
        ax_r.set_ylabel("achieved rate (model GFLOP/s)")
        ax_r.set_title(f"{BACKENDS[b]}: roofline, ceilings = best observed rates", fontsize=10)
        ax_r.grid(True, which="both", alpha=0.2)
    caption = ds.caption(r["source"].unique(), r["device"].unique()) + " · fp32, compression 0, status ok"
    title = "Model vs measured: time against model flops, and a roofline with measured ceilings"
    style.finish(fig, title, caption, legend_axes=[a for row in axes for a in row])
    md = (f"# {title}\n\nCeilings are the best model-flop and model-byte rates observed in this folder's rows "
          f"(per backend).\n\n" + md_table(pd.DataFrame(table)))
    return [Product("fig7_model_vs_measured", title, fig, md, caption)]
