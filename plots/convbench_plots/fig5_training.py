"""Figure 5: training-step analysis (seed study; `convbench train`, issue 7) — time per minibatch
step against input size, kernel size and batch size, a line per algorithm, plus the seed's
per-minibatch statistics table (count, min, max, mean, median, std per epoch)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from . import style
from .base import Product, Skip, md_table

VARS = [("input", "input size n (n × n)"), ("kernel", "kernel size k (k × k)"), ("batch", "batch size")]
STAT_COLS = ["net", "algo", "batch", "input", "kernel", "epoch", "count", "min_ms", "max_ms", "mean_ms",
             "median_ms", "std_ms", "final_loss"]


def stats_from_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """The seed's table computed from per-step rows (used when no .stats.csv came with them)."""
    keys = ["source", "net", "algo", "batch", "input", "kernel", "epoch"]
    g = steps.sort_values("step").groupby(keys, sort=False)
    t = g["time_ms"]
    out = pd.DataFrame({"count": t.count(), "min_ms": t.min(), "max_ms": t.max(), "mean_ms": t.mean(),
                        "median_ms": t.median(), "std_ms": t.std(ddof=0), "final_loss": g["loss"].last()})
    return out.reset_index()


def steps_name(stats_name: str) -> str:
    """The per-step file a stats file belongs to: train_x.stats.csv or train_x.csv.stats.csv -> train_x.csv."""
    base = stats_name[: -len(".stats.csv")]
    return base if base.endswith(".csv") else base + ".csv"


def varying(df: pd.DataFrame) -> str | None:
    """Which of input/kernel/batch a training sweep varies (the one with most distinct values)."""
    counts = {v: df[v].nunique() for v, _ in VARS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 1 else None


def build(ds) -> list[Product]:
    steps, stats = ds.train_steps, ds.train_stats
    if steps.empty and stats.empty:
        raise Skip("no training CSVs (train_*.csv, train_*.stats.csv) in this folder")
    # per (file, net, algo, config): median step time from per-step rows; files that only have a
    # stats CSV contribute the median of their per-epoch medians (no quartile band then)
    keys = ["sweep", "net", "algo", "batch", "input", "kernel"]
    points, devices = [], ()
    if not steps.empty:
        s = steps.assign(sweep=steps["source"])
        points.append(s.groupby(keys)["time_ms"].agg(
            median="median", q1=lambda x: x.quantile(0.25), q3=lambda x: x.quantile(0.75)).reset_index())
        devices = steps["device"].unique()
    if not stats.empty:
        s = stats.assign(sweep=stats["source"].map(steps_name))
        s = s[~s["sweep"].isin(set(steps["source"]) if not steps.empty else set())]
        if not s.empty:
            p = s.groupby(keys)["median_ms"].median().rename("median").reset_index()
            p["q1"] = p["q3"] = float("nan")
            points.append(p)
    point = pd.concat(points, ignore_index=True)
    point["source"] = point["sweep"]
    fig, axes = style.new_figure(1, 3, width=15, height=4.6)
    used, notes = set(), []
    for ax, (var, label) in zip(axes[0], VARS):
        ax.set_title(f"step time vs {label.split(' (')[0]}", fontsize=10)
        drawn, values = False, []
        for (sweep, net), g in point.groupby(["sweep", "net"]):
            if varying(g) != var:
                continue
            fixed = ", ".join(f"{v}={int(g[v].iloc[0])}" for v, _ in VARS if v != var and g[v].nunique() == 1)
            for algo in style.sort_algos(g["algo"].unique()):
                a = g[g["algo"] == algo].sort_values(var)
                st = style.algo_style(algo)
                st["label"] = algo
                ax.plot(a[var], a["median"], **st)
                if a["q1"].notna().any():
                    ax.fill_between(a[var], a["q1"], a["q3"], color=st["color"], alpha=0.15, linewidth=0)
            ax.text(0.02, 0.98, f"{net}: {fixed}\n({sweep})", transform=ax.transAxes, va="top", fontsize=7.5,
                    color="#333333")
            used.add(sweep)
            values += list(g["median"])
            drawn = True
        if not drawn:
            style.no_data(ax, f"no training sweep varying {var}")
            continue
        ax.set_xlabel(label)
        ax.set_ylabel("time per minibatch step (ms, median)")
        if style.wide(values, 10):
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.25)
    table_stats = stats if not stats.empty else stats_from_steps(steps)
    if not stats.empty and not steps.empty:
        # per-step files that came without a stats file still get their table
        have = set(stats["source"].map(steps_name))
        extra = steps[~steps["source"].isin(have)]
        if not extra.empty:
            table_stats = pd.concat([stats, stats_from_steps(extra)], ignore_index=True)
    sources = sorted((set(steps["source"]) if not steps.empty else set()) | set(table_stats["source"]))
    caption = ds.caption(sources, devices) + " · band: 25-75% of steps"
    title = "Training-step analysis (seed study): time per minibatch step, a line per algorithm"
    if not used:
        notes.append("no training sweep varies input, kernel or batch: statistics table only")
    style.finish(fig, title, caption, legend_axes=axes[0])
    md = [f"# {title}\n", "Per-minibatch statistics per epoch (ms), as in the seed's table.\n"]
    for src, g in table_stats.groupby("source", sort=True):
        md.append(f"\n## {src}\n\n" + md_table(g[STAT_COLS].sort_values(["net", "algo", "batch", "input",
                                                                             "kernel", "epoch"]), digits=4))
    fig_out = fig if used else None
    if not used:
        plt.close(fig)
    return [Product("fig5_training", title, fig_out, "\n".join(md), caption, notes)]
