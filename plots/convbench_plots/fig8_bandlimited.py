"""Figure 8: band-limited FFT convolution (Dziedzic et al. 2019) — time, workspace and rel_error
against compression (fraction of the half-spectrum discarded), a row per pass, a line per layer
shape, one figure per FFT algorithm. Time and workspace are shown relative to compression 0 of
the same shape and pass (absolute values in the table), with DESIGN.md's target (≤ 0.6× at 50%).
Rows measured with `--stages` get a fourth panel: the time of the GEMMs, the transforms and the
layout kernels against compression, each over the whole time at compression 0 — which part of
the pipeline band-limiting shrinks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb

from . import style
from .base import Product, Skip, md_table
from .data import stage_totals

SHAPE_COLS = ["dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "pad", "stride", "dilation",
              "groups"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<"]
KIND_STYLES = {"GEMM": "-", "transforms": "--", "layout": ":", "other": "-."}


def shape_label(r) -> str:
    sp = "×".join(str(int(v)) for v in [r.in_d, r.in_h, r.in_w][3 - int(r.dims):])
    kk = "×".join(str(int(v)) for v in [r.k_d, r.k_h, r.k_w][3 - int(r.dims):])
    return f"N={int(r.N)} {int(r.C)}→{int(r.K)}ch {sp}, k {kk}"


def shade(colour: str, i: int, n: int) -> tuple:
    """The algorithm's colour, from darker to lighter, one shade per shape."""
    c = np.array(to_rgb(colour))
    t = (i / max(1, n - 1)) * 1.2 - 0.6  # -0.6 (darker) .. 0.6 (lighter)
    return tuple(c * (1 + t) if t < 0 else c + (1 - c) * t)


def build(ds) -> list[Product]:
    r = ds.ok(compression0=False)
    if r.empty or not (r["compression"] > 0).any():
        why = ds.why_empty(sorted(set(ds.results["sweep"])) if not ds.results.empty else ["bandlimited"],
                           mask=lambda x: x["compression"] > 0)
        raise Skip("no ok rows with compression > 0 (sweep bandlimited): "
                   + ("none in this folder" if "not in this folder" in why else why.split(": ", 1)[1]))
    # shapes × algorithms that were measured compressed, with their compression-0 rows
    comp = r[r["compression"] > 0]
    keys = comp[SHAPE_COLS + ["series"]].drop_duplicates()
    r = r.merge(keys, on=SHAPE_COLS + ["series"])
    r["shape"] = [shape_label(x) for x in r.itertuples()]
    out = []
    for series in style.sort_algos(r["series"].unique()):
        d = r[r["series"] == series]
        out.append(one_algo(ds, d, series))
    return out


def stage_panel(ax, p: str, dp: pd.DataFrame, stages: pd.Series, shapes: list, base_colour: str) -> None:
    """Per shape and kind of stage (GEMM, transforms, layout): median ms over the whole time at c = 0."""
    ax.set_title(f"{p}: time by stage", fontsize=10)
    kinds = stage_frame(dp, stages)
    if kinds.empty:
        style.no_data(ax, f"no {p} rows with stage times (--stages)")
        return
    for i, sh in enumerate(shapes):
        g = kinds[kinds["shape"] == sh].groupby("compression").median(numeric_only=True).sort_index()
        if g.empty or 0 not in g.index:
            continue
        whole = g.loc[0].sum()
        for kind in [k for k in KIND_STYLES if k in g.columns]:
            ax.plot(g.index * 100, g[kind] / whole, color=shade(base_colour, i, len(shapes)),
                    linestyle=KIND_STYLES[kind], marker=MARKERS[i % len(MARKERS)], markersize=3.5, linewidth=1.3)
    for kind in [k for k in KIND_STYLES if k in kinds.columns]:
        ax.plot([], [], color="#444444", linestyle=KIND_STYLES[kind], label=kind)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("compression (% of half-spectrum discarded)")
    ax.set_ylabel("stage time / whole time at compression 0", fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper right")


def stage_frame(rows: pd.DataFrame, stages: pd.Series) -> pd.DataFrame:
    """The rows with stage times: ms per kind of stage, their shape and compression."""
    return pd.DataFrame([dict(t, shape=sh, compression=c) for t, sh, c in
                         zip(stages.reindex(rows.index), rows["shape"], rows["compression"]) if isinstance(t, dict)])


def stage_ratios(rows: pd.DataFrame, stages: pd.Series) -> dict:
    """Per kind of stage, median ms at compression 0.5 over compression 0 (empty without stage times)."""
    t = stage_frame(rows, stages)
    if t.empty:
        return {}
    g = t.groupby("compression").median(numeric_only=True)
    if 0 not in g.index or 0.5 not in g.index:
        return {}
    return {f"{kind} ratio": g.loc[0.5, kind] / g.loc[0, kind] for kind in g.columns if g.loc[0, kind] > 0}


def one_algo(ds, d: pd.DataFrame, series: str) -> Product:
    algo = d["algo"].iloc[0]
    base_colour = style.colour(algo)
    shapes = list(dict.fromkeys(d.sort_values(["C", "n"])["shape"]))
    passes = [p for p in style.PASSES if (d["pass"] == p).any()]
    stages = d["detail"].map(stage_totals) if "detail" in d else pd.Series(None, index=d.index, dtype=object)
    with_stages = stages.notna().any()
    fig, axes = style.new_figure(len(passes), 4 if with_stages else 3, width=19 if with_stages else 14.5,
                                 height=3.4 * len(passes) + 1.2)
    table = []
    notes = [f"{series}: no ok rows for pass(es) {', '.join(sorted(set(style.PASSES) - set(passes)))}"] \
        if len(passes) < 4 else []
    for row, p in enumerate(passes):
        dp = d[d["pass"] == p]
        for col, (metric, ylabel) in enumerate([("time_ms", "time / time at compression 0"),
                                                ("workspace_bytes", "workspace / workspace at compression 0"),
                                                ("rel_error", "rel_error vs float64 reference")]):
            ax = axes[row][col]
            ax.set_title(f"{p}: " + ["time", "workspace", "error"][col], fontsize=10)
            if dp.empty:
                style.no_data(ax, f"no ok {p} rows")
                continue
            for i, sh in enumerate(shapes):
                g = dp[dp["shape"] == sh].groupby("compression")[metric].median().sort_index()
                if g.empty:
                    continue
                y = g
                if col < 2:
                    if 0 not in g.index or not g.loc[0] > 0:
                        notes.append(f"{series} {p} {sh}: no compression-0 {metric}, not normalised")
                        continue
                    y = g / g.loc[0]
                ax.plot(y.index * 100, y.values, color=shade(base_colour, i, len(shapes)),
                        marker=MARKERS[i % len(MARKERS)], label=sh, markersize=4.5, linewidth=1.5)
            if col < 2:
                ax.axhline(1.0, color="#999999", linewidth=0.8)
                ax.plot([50], [0.6], marker="*", color="black", markersize=11, linestyle="none",
                        label="target: ≤ 0.6× at 50%")
                ax.set_ylim(bottom=0)
            else:
                ax.set_yscale("log")
            ax.set_xlabel("compression (% of half-spectrum discarded)")
            ax.set_ylabel(ylabel, fontsize=9)
            ax.grid(True, which="both", alpha=0.25)
        if with_stages:
            stage_panel(axes[row][3], p, dp, stages, shapes, base_colour)
        for sh in shapes:
            g = dp[dp["shape"] == sh].groupby("compression")[["time_ms", "workspace_bytes", "rel_error"]].median()
            if 0 in g.index and 0.5 in g.index:
                table.append({"pass": p, "shape": sh, "time c=0 (ms)": g.loc[0, "time_ms"],
                              "time c=0.5 (ms)": g.loc[0.5, "time_ms"],
                              "time ratio": g.loc[0.5, "time_ms"] / g.loc[0, "time_ms"],
                              "workspace c=0 (MiB)": g.loc[0, "workspace_bytes"] / 2**20,
                              "workspace ratio": (g.loc[0.5, "workspace_bytes"] / g.loc[0, "workspace_bytes"]
                                                  if g.loc[0, "workspace_bytes"] > 0 else np.nan),
                              "rel_error c=0.5": g.loc[0.5, "rel_error"],
                              **stage_ratios(dp[dp["shape"] == sh], stages)})
    caption = ds.caption(d["source"].unique(), d["device"].unique())
    title = f"Band-limited {series}: time, workspace and error vs compression"
    style.finish(fig, title, caption, legend_axes=[axes[0][0]])
    md = f"# {title}\n\nMedians; ratios are compression 0.5 over compression 0 (target ≤ 0.6).\n\n"
    md += md_table(pd.DataFrame(table)) if table else "No shape has both compression 0 and 0.5.\n"
    name = "fig8_bandlimited_" + series.replace(".", "_").replace(" ", "_").replace("(", "").replace(")", "")
    return Product(name, title, fig, md, caption, sorted(set(notes)))
