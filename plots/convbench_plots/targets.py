"""DESIGN.md's performance targets checked against this folder's CSVs (table only, targets.md).

Each target lists its cases (layer, pass, size ...) with the measured ratio, the bound and whether
it holds, then a verdict: met in every case, not met (how many cases fall short), or not measured
(which sweep would measure it). Ratios come from the medians of one folder, fp32; nothing is
extrapolated: a case lacking one of its two sides is not a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .base import Product, Skip, fmt, md_table
from .data import stage_totals
from .fig8_bandlimited import SHAPE_COLS
from .style import PASSES as PASS_ORDER
GPU_FFTS = ["cuda.fft", "cuda.fbfft"]
GPU_SWEEPS = ["mathieu_layers", "mathieu_fig3a", "mathieu_fig3b", "mathieu_fig3c", "convnet_benchmarks", "gpu_target"]


@dataclass
class Target:
    title: str                       # DESIGN.md's wording
    bound: str                       # e.g. "≥ 2×"
    cases: list[dict] = field(default_factory=list)  # {"case": str, "measured": float, "met": bool}
    missing: str = ""                # what would measure it, when there are no cases

    def verdict(self) -> str:
        if not self.cases:
            return f"not measured: {self.missing}"
        short = sum(not c["met"] for c in self.cases)
        if short == 0:
            return f"**met** in all {len(self.cases)} case(s)"
        return f"**not met** in {short} of {len(self.cases)} case(s)"


def shape_label(r) -> str:
    dims = int(r["dims"])
    sp = "×".join(str(int(r[c])) for c in ["in_d", "in_h", "in_w"][3 - dims:])
    kk = "×".join(str(int(r[c])) for c in ["k_d", "k_h", "k_w"][3 - dims:])
    extra = "".join(f", {c}={r[c]}" for c, plain in (("pad", "0"), ("stride", "1"), ("dilation", "1"))
                    if str(r[c]) != plain)
    return f"N={int(r['N'])} {int(r['C'])}→{int(r['K'])} in {sp} k {kk}{extra}"


def medians(rows: pd.DataFrame) -> pd.DataFrame:
    """Median time and workspace per (sweep, shape, series, pass, compression)."""
    keys = ["sweep"] + SHAPE_COLS + ["series", "pass", "compression"]
    return rows.groupby(keys, dropna=False).agg(time_ms=("time_ms", "median"),
                                                workspace=("workspace_bytes", "median")).reset_index()


def in_order(df: pd.DataFrame) -> pd.DataFrame:
    """Rows by sweep, shape, then pass in fprop, dgrad, wgrad, step order."""
    order = df["pass"].map({p: i for i, p in enumerate(PASS_ORDER)})
    return df.assign(_order=order).sort_values(["sweep"] + SHAPE_COLS + ["_order"]).drop(columns="_order")


def wide(m: pd.DataFrame, columns) -> pd.DataFrame:
    """One row per (sweep, shape, pass), a time column per series (or per `columns` key)."""
    return in_order(m.pivot_table(index=["sweep"] + SHAPE_COLS + ["pass"], columns=columns,
                                  values="time_ms").reset_index())


def add_speedups(t: Target, rows: pd.DataFrame, ours: str, other: str, met, suffix=lambda r: "",
                 note=lambda r: "") -> None:
    """A case per (sweep, shape, pass) where both series ran: ratio = other's time / ours; `note`
    adds to the case's times."""
    w = wide(medians(rows), "series")
    if ours not in w or other not in w:
        return
    for _, r in w.dropna(subset=[ours, other]).iterrows():
        ratio = r[other] / r[ours]
        t.cases.append({"case": f"{r['sweep']}: {shape_label(r)}{suffix(r)}", "measured": ratio, "met": met(ratio),
                        "detail": f"{fmt(r[ours])} ms vs {fmt(r[other])} ms{note(r)}"})


def implementations(detail) -> str:
    """'jit:avx512_core' from a cpu.onednn row's detail ('fprop jit:avx512_core; dgrad ...; 3 reorders
    (x, w, y)'): the distinct implementations of its passes, in order; '' where the row names none
    (runs before the column carried them)."""
    names = []
    for part in detail.split("; ") if isinstance(detail, str) else []:
        words = part.split()
        if len(words) == 2 and words[0] in PASS_ORDER and words[1] not in names:
            names.append(words[1])
    return ", ".join(names)


def case_key(r) -> tuple:
    """(sweep, *shape, pass) of a row, raw or of wide()."""
    return tuple(r[c] for c in ["sweep"] + SHAPE_COLS + ["pass"])


def case_notes(rows: pd.DataFrame, series: str, describe) -> dict:
    """case_key -> describe(detail) of `series`' rows, where that says something."""
    notes = {}
    for _, r in rows[rows["series"] == series].iterrows():
        if text := describe(r["detail"] if "detail" in r else None):
            notes.setdefault(case_key(r), text)
    return notes


def over_tolerance(rows: pd.DataFrame) -> dict:
    """(sweep, *shape) -> ' (cudnn.best over its fp32 tolerance: dgrad 0.0018 > 1.03e-04, <cuDNN algo>)'
    for the shapes where some of `rows` failed their accuracy check."""
    notes = {}
    failed = rows[rows["status"] == "failed"]
    for key, g in in_order(failed).groupby(["sweep"] + SHAPE_COLS, dropna=False, sort=False):
        parts = []
        for _, r in g.drop_duplicates("pass").iterrows():
            words = r["detail"].split(";")[0].split() if isinstance(r["detail"], str) else []
            algo = words[1] if len(words) > 1 else ""  # "dgrad BWD_DATA_ALGO_... FMA_MATH ..."
            parts.append(f"{r['pass']} {fmt(r['rel_error'])} > {fmt(r['tolerance'])}{', ' + algo if algo else ''}")
        notes[key] = f" (cudnn.best over its fp32 tolerance: {'; '.join(parts)})"
    return notes


def step_vs_cudnn_best(ds) -> list[Target]:
    """FFT step >= 2x the sum of cudnn.best's three passes, Mathieu layers and convnet L1-L4 (k >= 5)."""
    out = []
    # cudnn.best's rows count when timed but over their tolerance (cudnnFind may pick a less
    # accurate algorithm, e.g. Winograd at k = 5): its time is real, the case says so.
    rows = ds.ok(["mathieu_layers", "convnet_benchmarks"], statuses=("ok", "failed"))
    rows = rows[(rows["k"] >= 5) & ((rows["status"] == "ok") | (rows["series"] == "cudnn.best"))] \
        if not rows.empty else rows
    for fft in GPU_FFTS:
        t = Target(f"{fft} training step ≥ 2× the sum of cudnn.best's fprop, dgrad and wgrad on the Mathieu "
                   "layers with k ≥ 5 and convnet-benchmarks L1–L4 (GPU, fp32)", "≥ 2×",
                   missing="sweeps mathieu_layers / convnet_benchmarks with cudnn.best (three passes) and "
                           f"{fft} (step) on a GPU")
        if not rows.empty:
            m = medians(rows)
            best = m[(m["series"] == "cudnn.best") & m["pass"].isin(PASS_ORDER[:3])]
            ours = m[(m["series"] == fft) & (m["pass"] == "step")]
            if not best.empty and not ours.empty:
                total = best.groupby(["sweep"] + SHAPE_COLS).agg(sum_ms=("time_ms", "sum"),
                                                                 passes=("pass", "nunique")).reset_index()
                j = ours.merge(total[total["passes"] == 3], on=["sweep"] + SHAPE_COLS)
                over = over_tolerance(rows[(rows["series"] == "cudnn.best") & rows["pass"].isin(PASS_ORDER[:3])])
                for _, r in j.iterrows():
                    ratio = r["sum_ms"] / r["time_ms"]
                    note = over.get((r["sweep"],) + tuple(r[c] for c in SHAPE_COLS), "")
                    t.cases.append({"case": f"{r['sweep']}: {shape_label(r)}{note}", "measured": ratio,
                                    "met": ratio >= 2, "detail": f"{fmt(r['time_ms'])} ms vs {fmt(r['sum_ms'])} ms"})
        out.append(t)
    return out


def never_slower_than_cudnn_fft(ds) -> list[Target]:
    """Our FFTs never slower than cudnn.fft / cudnn.fft_tiling where both run (every GPU sweep)."""
    out = []
    rows = ds.ok(GPU_SWEEPS)
    for fft in GPU_FFTS:
        t = Target(f"{fft} never slower than cudnn.fft / cudnn.fft_tiling where both run (GPU, fp32; every "
                   "pass of the GPU sweeps)", "≥ 1×",
                   missing=f"GPU sweeps ({', '.join(GPU_SWEEPS)}) with {fft} and cudnn.fft or cudnn.fft_tiling")
        if not rows.empty:
            for vendor in ["cudnn.fft", "cudnn.fft_tiling"]:
                add_speedups(t, rows, fft, vendor, lambda x: x >= 1, lambda r, v=vendor: f" {r['pass']} vs {v}")
        out.append(t)
    return out


def fprop_from_k5(ds) -> list[Target]:
    """FFT beats cudnn.best in fprop from k = 5 at n = 32, f = f' = 256, S = 128."""
    rows = ds.ok()
    out = []
    for fft in GPU_FFTS:
        t = Target(f"{fft} beats cudnn.best in fprop from k = 5 at n = 32, f = f' = 256, S = 128 (GPU, fp32)",
                   "> 1×", missing=f"sweep gpu_target with {fft} and cudnn.best on a GPU")
        if not rows.empty:
            d = rows[(rows["dims"] == 2) & (rows["N"] == 128) & (rows["n"] == 32) & (rows["C"] == 256)
                     & (rows["K"] == 256) & (rows["k"] >= 5) & (rows["pass"] == "fprop")]
            if not d.empty:
                add_speedups(t, d, fft, "cudnn.best", lambda x: x > 1)
        out.append(t)
    return out


def stage_shares(detail) -> str:
    """'GEMM 50%, transforms 30%, layout 20%' from a row's `stages ms: ...` detail, or ''."""
    totals = stage_totals(detail)
    whole = sum(totals.values()) if totals else 0
    if whole <= 0:
        return ""
    return ", ".join(f"{k} {v / whole:.0%}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1]))


def roofline_floor(ds) -> list[Target]:
    """FFT pipeline within 1.5x of its roofline floor, on the layers of the step target (every pass).

    Floor = max(model_flops / FP32 peak, model_bytes / DRAM peak): the row's executed FFT counts
    (transforms, per-bin GEMMs; bytes: inputs and outputs once, spectra written and read once) at
    the peaks the env sidecar derives from the device's attributes (SMs, peak clocks, bus width)."""
    sweeps = ["mathieu_layers", "convnet_benchmarks"]
    rows = ds.ok(sweeps)
    out = []
    for fft in GPU_FFTS:
        t = Target(f"{fft} pipeline within 1.5× of its roofline floor, max(model flops / FP32 peak, model bytes / "
                   "DRAM peak), on the Mathieu layers and convnet-benchmarks L1–L5 (GPU, fp32; every pass)",
                   "≤ 1.5×",
                   missing=f"sweeps mathieu_layers / convnet_benchmarks with {fft} on a GPU")
        ours = rows[rows["series"] == fft] if not rows.empty else rows
        if not ours.empty:
            peaks = {src: ds.gpu_peaks(src) for src in ours["source"].unique()}
            unknown = sorted(src for src, pk in peaks.items() if pk is None)
            ours = ours[ours["source"].map(lambda src: peaks[src] is not None)]
            ours = ours.dropna(subset=["model_flops", "model_bytes"])
            if ours.empty:
                t.missing = (f"{', '.join(unknown)}: no GPU peaks in the env sidecar (written by an older "
                             "convbench; rerun the sweep)" if unknown else
                             f"{fft} rows without model_flops / model_bytes")
            else:
                flops_s = ours["source"].map(lambda src: peaks[src][0])
                bytes_s = ours["source"].map(lambda src: peaks[src][1])
                compute_ms, memory_ms = ours["model_flops"] / flops_s * 1e3, ours["model_bytes"] / bytes_s * 1e3
                shares = ours["detail"].map(stage_shares) if "detail" in ours else pd.Series("", index=ours.index)
                ours = ours.assign(floor_ms=pd.concat([compute_ms, memory_ms], axis=1).max(axis=1),
                                   bound=(memory_ms >= compute_ms).map({True: "DRAM", False: "FP32"}),
                                   shares=shares.where(shares != "", None))
                keys = ["sweep"] + SHAPE_COLS + ["pass"]
                m = in_order(ours.groupby(keys, dropna=False).agg(
                    time_ms=("time_ms", "median"), floor_ms=("floor_ms", "median"),
                    bound=("bound", "first"), shares=("shares", "first")).reset_index())
                for _, r in m.iterrows():
                    ratio = r["time_ms"] / r["floor_ms"]
                    where = f"; time: {r['shares']}" if isinstance(r["shares"], str) else ""
                    t.cases.append({"case": f"{r['sweep']}: {shape_label(r)} {r['pass']}", "measured": ratio,
                                    "met": ratio <= 1.5,
                                    "detail": f"{fmt(r['time_ms'])} ms vs floor {fmt(r['floor_ms'])} ms "
                                              f"({r['bound']}-bound{where})"})
        out.append(t)
    return out


def own_fft_vs_cufft(ds) -> list[Target]:
    """Own small FFT >= 1.5x cuFFT, batched 2D R2C, sizes <= 32."""
    t = Target("own small FFT (cuda.fbfft's transforms) ≥ 1.5× cuFFT for batched 2D R2C at sizes ≤ 32 (GPU)",
               "≥ 1.5×", missing="`convbench fft` on a GPU (fft_transform*.csv)")
    tr = ds.transforms
    if not tr.empty:
        d = tr.copy()
        d["direction"] = d["direction"].fillna("r2c") if "direction" in d else "r2c"
        d = d[(d["dims"] == 2) & (d["direction"] == "r2c") & (d["size"] <= 32)]
        med = d.pivot_table(index=["size", "batch"], columns="algo", values="time_ms", aggfunc="median")
        if "cufft" in med and "cuda.fbfft" in med:
            for (size, batch), r in med.dropna(subset=["cufft", "cuda.fbfft"]).iterrows():
                ratio = r["cufft"] / r["cuda.fbfft"]
                t.cases.append({"case": f"{int(size)}×{int(size)}, batch {int(batch)}", "measured": ratio,
                                "met": ratio >= 1.5, "detail": f"{fmt(r['cuda.fbfft'])} ms vs {fmt(r['cufft'])} ms"})
    return [t]


def band_limited(ds) -> list[Target]:
    """At 50% compression <= 0.6x the time and the workspace of compression 0."""
    rows = ds.ok("bandlimited", compression0=False)
    out = []
    algos = {"cpu.fft", "cuda.fft", "cuda.fbfft"} | (set(rows["series"]) if not rows.empty else set())
    for series in sorted(algos):
        time_t = Target(f"{series} band-limited: time at 50% compression ≤ 0.6× compression 0", "≤ 0.6×",
                        missing="sweep bandlimited")
        space_t = Target(f"{series} band-limited: workspace at 50% compression ≤ 0.6× compression 0", "≤ 0.6×",
                         missing="sweep bandlimited")
        if not rows.empty:
            m = medians(rows[rows["series"] == series])
            if m.empty:
                out += [time_t, space_t]
                continue
            base = m[m["compression"] == 0]
            half = m[(m["compression"] - 0.5).abs() < 1e-9]
            j = in_order(half.merge(base, on=["sweep"] + SHAPE_COLS + ["series", "pass"], suffixes=("", "_0")))
            for _, r in j.iterrows():
                case = f"{shape_label(r)} {r['pass']}"
                tr, wr = r["time_ms"] / r["time_ms_0"], r["workspace"] / r["workspace_0"]
                time_t.cases.append({"case": case, "measured": tr, "met": tr <= 0.6,
                                     "detail": f"{fmt(r['time_ms'])} ms vs {fmt(r['time_ms_0'])} ms"})
                if pd.notna(wr):
                    space_t.cases.append({"case": case, "measured": wr, "met": wr <= 0.6,
                                          "detail": f"{fmt(r['workspace'] / 2**20)} vs {fmt(r['workspace_0'] / 2**20)} MiB"})
        out += [time_t, space_t]
    return out


def cpu_target(ds) -> list[Target]:
    """cpu.fft >= 2x cpu.onednn at k >= 9, n = 64, f = f' = 64 (2D, every pass)."""
    t = Target("cpu.fft ≥ 2× cpu.onednn at k ≥ 9, n = 64, f = f' = 64 (CPU)", "≥ 2×",
               missing="sweep cpu_target (bash ci/cpu_sweeps.sh cpu_target)")
    rows = ds.ok()
    if not rows.empty:
        d = rows[(rows["dims"] == 2) & (rows["n"] == 64) & (rows["C"] == 64) & (rows["K"] == 64) & (rows["k"] >= 9)
                 & rows["plain"]]
        if not d.empty:
            impl = case_notes(d, "cpu.onednn", implementations)  # what oneDNN ran, where its rows say
            add_speedups(t, d, "cpu.fft", "cpu.onednn", lambda x: x >= 2, lambda r: f" {r['pass']}",
                         lambda r: f" (oneDNN {impl[case_key(r)]})" if case_key(r) in impl else "")
    return [t]


CHECKS = [step_vs_cudnn_best, never_slower_than_cudnn_fft, fprop_from_k5, roofline_floor, own_fft_vs_cufft,
          band_limited, cpu_target]


def build(ds) -> list[Product]:
    targets = [t for check in CHECKS for t in check(ds)]
    if not any(t.cases for t in targets):
        raise Skip("no target measured: needs cpu_target, bandlimited, the GPU sweeps or `convbench fft`")
    title = f"DESIGN.md performance targets on {ds.machine}"
    lines = [f"# {title}\n",
             "Measured ratio per case from this folder's medians (fp32), the bound, and whether it holds. "
             "Speedups are the other side's time over ours (> 1: ours faster); band-limited ratios are "
             "compression 0.5 over 0 (< 1: smaller); roofline ratios are our time over the floor (≥ 1).\n",
             "| target | verdict |", "| --- | --- |"]
    lines += [f"| {t.title} | {t.verdict()} |" for t in targets]
    for t in targets:
        lines.append(f"\n## {t.title}\n\nBound {t.bound}: {t.verdict()}.\n")
        if t.cases:
            tab = pd.DataFrame([{"case": c["case"], "times": c["detail"], "ratio": c["measured"],
                                 "met": "yes" if c["met"] else "**no**"} for c in t.cases])
            lines.append(md_table(tab))
    r = ds.results
    caption = ds.caption(r["source"].unique() if not r.empty else [], timed=False)
    return [Product("targets", title, None, "\n".join(lines) + "\n", caption)]
