"""Figure 1: Mathieu et al. 2014, Fig. 2 — theoretical operation counts, direct vs FFT, against n.

Input: `convbench model --sweep sweeps/mathieu_fig2.json` output (ci/run.sh writes it as
mathieu_fig2_model.csv). Mathieu's counts (direct: multiply-adds S·f'·f·n'²·k² etc.; FFT: their
2C·n²·log n·[...] + 4S·f'·f·n² with C = 2.5) are solid lines; our executed counts (`model_flops`,
flops = 2 per multiply-add, with the planner's transform size) are dashed beside them.
"""

from __future__ import annotations

import pandas as pd

from . import style
from .base import Product, Skip, md_table

SWEEP = "mathieu_fig2"
METHOD_COLOURS = {"direct": style.ALGO_COLOURS["cpu.direct"], "fft": style.ALGO_COLOURS["cpu.fft"]}


def build(ds) -> list[Product]:
    m = ds.model
    if m.empty:
        raise Skip("no `convbench model` CSV (e.g. mathieu_fig2_model.csv) in this folder")
    m = m[(m["sweep"] == SWEEP)] if (m["sweep"] == SWEEP).any() else m
    m = m[m["pass"].isin(["fprop", "dgrad", "wgrad"])]
    if m.empty:
        raise Skip("model CSV has no fprop/dgrad/wgrad rows")
    sweep = m["sweep"].iloc[0]
    # one configuration per panel family: Mathieu's S, f, f', k held fixed, n varying
    fixed = m[["N", "C", "K", "k", "dims"]].drop_duplicates()
    if len(fixed) > 1:
        first = fixed.iloc[0]
        m = m[(m["N"] == first.N) & (m["C"] == first.C) & (m["K"] == first.K) & (m["k"] == first.k)]
    cfg = m.iloc[0]
    fig, axes = style.new_figure(1, 3, width=13.5, height=4.6)
    rows = []
    for ax, p in zip(axes[0], ["fprop", "dgrad", "wgrad"]):
        d = m[m["pass"] == p].sort_values("n")
        if d.empty:
            style.no_data(ax, f"no {p} rows in the model CSV")
            continue
        direct = d[d["method"] == "direct"].groupby("n").first()
        fft = d[d["method"] == "fft"].groupby("n").first()
        ax.plot(direct.index, direct["mathieu_direct_macs"], color=METHOD_COLOURS["direct"], marker="o",
                label="direct, Mathieu count (multiply-adds)")
        ax.plot(fft.index, fft["mathieu_fft_ops"], color=METHOD_COLOURS["fft"], marker="^",
                label="FFT, Mathieu count (C = %g)" % fft["fft_constant"].iloc[0] if "fft_constant" in fft
                else "FFT, Mathieu count")
        ax.plot(direct.index, direct["model_flops"], color=METHOD_COLOURS["direct"], marker="o", linestyle="--",
                markerfacecolor="none", label="direct, executed (flops)")
        ax.plot(fft.index, fft["model_flops"], color=METHOD_COLOURS["fft"], marker="^", linestyle="--",
                markerfacecolor="none", label="FFT, executed (flops, smooth size)")
        style.pow2_ticks(ax, d["n"])
        ax.set_yscale("log")
        ax.set_xlabel("input size n (n × n)")
        ax.set_ylabel("operations")
        ax.set_title(style.PASS_TITLES[p], fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        for n in sorted(set(direct.index) & set(fft.index)):
            rows.append({"pass": p, "n": int(n), "Mathieu direct (MACs)": direct.loc[n, "mathieu_direct_macs"],
                         "Mathieu FFT (ops)": fft.loc[n, "mathieu_fft_ops"],
                         "direct / FFT": direct.loc[n, "mathieu_direct_macs"] / fft.loc[n, "mathieu_fft_ops"],
                         "executed direct (flops)": direct.loc[n, "model_flops"],
                         "executed FFT (flops)": fft.loc[n, "model_flops"],
                         "FFT memory (MB, Mathieu)": fft.loc[n, "mathieu_fft_mem_mb"]})
    title = (f"Mathieu et al. 2014 Fig. 2 (model): operations vs input size, S={cfg.N}, f={cfg.C}, "
             f"f'={cfg.K}, k={cfg.k}")
    caption = ds.caption(m["source"].unique(), timed=False) + " · counts from `convbench model`, not timings"
    style.finish(fig, title, caption, legend_axes=axes[0])
    table = (f"# {title}\n\nFrom `convbench model` ({sweep}); Mathieu's counts are machine-independent.\n\n"
             + md_table(pd.DataFrame(rows)))
    return [Product("fig1_mathieu_fig2_model", title, fig, table, caption)]
