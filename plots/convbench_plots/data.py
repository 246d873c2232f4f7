"""Loading and checking the CSV files of one results folder.

Kinds of file (told apart by name first, so that a damaged file gets the right complaint):
- `*.stats.csv`            training statistics per epoch (issue 7)
- `train_*.csv`            training, one row per minibatch step (issue 7)
- `fft_transform*.csv`     transform-only timings, own FFT vs cuFFT (figure 9; schema in plots/README.md)
- `*_model.csv` or a header with `mathieu_fft_ops`: `convbench model` output
- `*.partial.csv`          an unfinished sweep (ci/run.sh renames it when done): ignored with a note
- any other `*.csv`        convbench results rows (DESIGN.md schema)
Each CSV may have an env sidecar `<file>.env.json` (provenance for the captions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import style


class CsvError(Exception):
    """A CSV that cannot be used; the message is one line naming the file and the problem."""


# DESIGN.md's "at least" columns: the contract between the C++ writer and these plots.
RESULT_COLUMNS = ["sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "pad", "stride",
                  "dilation", "groups", "algo", "pass", "precision", "fft_size", "compression", "status", "reason",
                  "reps", "time_ms", "time_min_ms", "time_max_ms", "time_std_ms", "direct_flops", "model_flops",
                  "effective_gflops", "model_bytes", "workspace_bytes", "peak_mem_bytes", "rel_error",
                  "sm_clock_mhz", "device"]
RESULT_NUMERIC = ["dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "groups", "compression",
                  "reps", "time_ms", "time_min_ms", "time_max_ms", "time_std_ms", "direct_flops", "model_flops",
                  "effective_gflops", "model_bytes", "workspace_bytes", "peak_mem_bytes", "rel_error",
                  "sm_clock_mhz"]
MODEL_COLUMNS = ["sweep", "dims", "N", "C", "K", "n", "k", "pass", "method", "model_flops", "mathieu_direct_macs",
                 "mathieu_fft_ops", "mathieu_fft_mem_mb"]
MODEL_NUMERIC = ["dims", "N", "C", "K", "n", "k", "model_flops", "mathieu_direct_macs", "mathieu_fft_ops",
                 "mathieu_fft_mem_mb"]
TRAIN_STEP_COLUMNS = ["net", "algo", "batch", "input", "kernel", "epoch", "step", "time_ms", "loss", "device"]
TRAIN_STEP_NUMERIC = ["batch", "input", "kernel", "epoch", "step", "time_ms", "loss"]
TRAIN_STATS_COLUMNS = ["net", "algo", "batch", "input", "kernel", "epoch", "count", "min_ms", "max_ms", "mean_ms",
                       "median_ms", "std_ms", "final_loss"]
TRAIN_STATS_NUMERIC = ["batch", "input", "kernel", "epoch", "count", "min_ms", "max_ms", "mean_ms", "median_ms",
                       "std_ms", "final_loss"]
# Figure 9 input (defined here, see plots/README.md): one row per (implementation, transform).
TRANSFORM_COLUMNS = ["algo", "dims", "size", "batch", "time_ms"]
TRANSFORM_NUMERIC = ["dims", "size", "batch", "time_ms"]
# library transforms beside our own (cuda.fbfft, cuda.fft), and cuda.fbfft's split variant
TRANSFORM_ALGOS = ("cufft", "fftw", "cuda.fbfft_split")

STATUSES = {"ok", "skipped", "failed"}
# the columns that identify a results row (as harness/results_csv.cpp's row key)
KEY_COLUMNS = ["sweep", "dims", "N", "C", "K", "in_d", "in_h", "in_w", "k_d", "k_h", "k_w", "pad", "stride",
               "dilation", "groups", "algo", "pass", "precision", "fft_policy", "compression"]
_TEXT = {c: str for c in ["sweep", "pad", "stride", "dilation", "algo", "pass", "precision", "fft_policy",
                          "fft_size", "status", "reason", "validation", "device", "net", "method", "shape",
                          "direction"]}


# What each stage `convbench bench --stages` writes into `detail` belongs to, by its first word.
STAGE_KINDS = {"gemm": "GEMM", "fft": "transforms", "ifft": "transforms", "forward": "transforms",
               "inverse": "transforms", "place": "layout", "transpose": "layout", "crop": "layout", "tiles": "layout"}


def stage_totals(detail) -> dict[str, float] | None:
    """ms per kind (GEMM, transforms, layout, other) from a row's `stages ms: ...` detail, or None.

    cuda.fft marks its kernels one by one; cpu.fft's and cuda.fbfft's transforms include their
    fused placement and transposition, so their layout time is inside "transforms"."""
    if not isinstance(detail, str) or "stages ms: " not in detail:
        return None
    totals: dict[str, float] = {}
    for part in detail.split("stages ms: ", 1)[1].split(";")[0].split(", "):
        name, _, ms = part.rpartition(" ")
        try:
            value = float(ms)
        except ValueError:
            return None
        kind = STAGE_KINDS.get(name.split(" ")[0], "other")
        totals[kind] = totals.get(kind, 0.0) + value
    return totals


@dataclass
class CsvFile:
    path: Path
    kind: str
    df: pd.DataFrame
    env: dict | None = None


@dataclass
class Dataset:
    folder: Path
    machine: str
    files: list[CsvFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings and ignored files, shown by the CLI
    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: pd.DataFrame = field(default_factory=pd.DataFrame)
    train_steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    train_stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    transforms: pd.DataFrame = field(default_factory=pd.DataFrame)

    def env_of(self, source: str) -> dict | None:
        for f in self.files:
            if f.path.name == source:
                return f.env
        return None

    def gpu_peaks(self, source: str) -> tuple[float, float] | None:
        """(FP32 flop/s, DRAM bytes/s) of the GPU that wrote `source`, from its env sidecar's device
        facts; None where the sidecar has none (no GPU, an older convbench, an unknown architecture)."""
        gpu = (self.env_of(source) or {}).get("gpu") or {}
        flops, dram = gpu.get("peak_fp32_gflops"), gpu.get("peak_dram_gb_per_s")
        if not all(isinstance(v, (int, float)) and v > 0 for v in (flops, dram)):
            return None
        return flops * 1e9, dram * 1e9

    def ok(self, sweep=None, compression0: bool = True, precision: str | None = "fp32",
           statuses=("ok",)) -> pd.DataFrame:
        """Timed, validated rows: status ok, fp32 and uncompressed unless asked otherwise
        (statuses=("ok", "failed"): every timed row, those over their tolerance too)."""
        r = self.results
        if r.empty:
            return r
        m = r["status"].isin(list(statuses))
        if sweep is not None:
            m &= r["sweep"].isin([sweep] if isinstance(sweep, str) else list(sweep))
        if compression0:
            m &= r["compression"].fillna(0) == 0
        if precision is not None:
            m &= r["precision"] == precision
        m &= r["time_ms"].notna() & (r["time_ms"] > 0)
        return r[m]

    def why_empty(self, sweeps, mask=None) -> str:
        """Why a figure has no ok rows: the sweeps absent here, or present but skipped/failed."""
        sweeps = [sweeps] if isinstance(sweeps, str) else list(sweeps)
        r = self.results
        present = r[r["sweep"].isin(sweeps)] if not r.empty else r
        if mask is not None and not present.empty:
            present = present[mask(present)]
        if present.empty:
            return "sweep(s) " + ", ".join(sweeps) + " not in this folder"
        counts = present["status"].value_counts().to_dict()
        reasons = present.loc[present["status"] != "ok", "reason"].dropna()
        first = f"; e.g. '{reasons.iloc[0]}'" if len(reasons) else ""
        return (f"{', '.join(sweeps)}: {len(present)} row(s), none usable "
                f"({', '.join(f'{v} {k}' for k, v in counts.items())}{first})")

    def failed_count(self, sweep) -> int:
        r = self.results
        if r.empty:
            return 0
        return int(((r["sweep"] == sweep) & (r["status"] == "failed")).sum())

    def failed_notes(self, sweep) -> list[str]:
        """The figure note for a sweep's failed rows (over tolerance, left out), if any."""
        failed = self.failed_count(sweep)
        return [f"{failed} failed row(s) (over tolerance) not shown"] if failed else []

    def caption(self, sources, devices=(), timed: bool = True) -> str:
        """Provenance line: machine folder, CPU/GPU from the env sidecars and rows, run dates, files."""
        sources = sorted({str(s) for s in sources})
        envs = [e for e in (self.env_of(s) for s in sources) if e]
        hw, dates, shas = [], [], []
        for e in envs:
            if e.get("cpu"):
                threads = e.get("omp_threads") or e.get("threads")
                hw.append(f"{e['cpu']}" + (f", {threads} threads" if threads else ""))
            if gpu := gpu_name(e):
                hw.append(gpu)
            if e.get("date"):
                dates.append(str(e["date"])[:10])
            if e.get("git_sha"):
                shas.append(str(e["git_sha"])[:9])
        for d in devices:
            if isinstance(d, str) and d and not any(d in h for h in hw):
                hw.append(d)
        hw = list(dict.fromkeys(hw))
        when = "run date unknown (no env sidecar)" if not dates else (
            f"run {min(dates)}" if min(dates) == max(dates) else f"runs {min(dates)}..{max(dates)}")
        parts = [f"machine {self.machine}" + (f" ({'; '.join(hw)})" if hw else "")]
        if timed or dates:
            parts.append(when)
        parts.append("data: " + ", ".join(sources))
        if shas:
            parts.append("convbench " + ", ".join(dict.fromkeys(shas)))
        return " · ".join(parts)


def gpu_name(env: dict) -> str | None:
    """The GPU an env sidecar's run used: its device facts' name, else the one its CUDA summary
    lists ("... [0] NVIDIA H200 sm_90"); None on a CPU-only run."""
    name = (env.get("gpu") or {}).get("name")
    if not name and (m := re.search(r"\] (.+?) sm_\d+", str(env.get("cuda", "")))):
        name = m.group(1)
    return name or None


def _kind(path: Path, header: list[str]) -> str:
    name = path.name
    if name.endswith(".stats.csv"):
        return "train_stats"
    if name.startswith("train_"):
        return "train_steps"
    if name.startswith("fft_transform"):
        return "transforms"
    if name.endswith("_model.csv") or "mathieu_fft_ops" in header:
        return "model"
    return "results"


_SCHEMA = {
    "results": (RESULT_COLUMNS, RESULT_NUMERIC, "a convbench results CSV (DESIGN.md schema)"),
    "model": (MODEL_COLUMNS, MODEL_NUMERIC, "`convbench model` output"),
    "train_steps": (TRAIN_STEP_COLUMNS, TRAIN_STEP_NUMERIC, "a per-step training CSV (convbench train)"),
    "train_stats": (TRAIN_STATS_COLUMNS, TRAIN_STATS_NUMERIC, "a training statistics CSV (convbench train)"),
    "transforms": (TRANSFORM_COLUMNS, TRANSFORM_NUMERIC, "a transform timing CSV (plots/README.md)"),
}


def read_csv(path: Path) -> CsvFile:
    """Read and check one CSV; raises CsvError (one line naming the file) when it cannot be used."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise CsvError(f"{where}: no such file")
    if path.stat().st_size == 0:
        raise CsvError(f"{where}: empty file (no header line)")
    try:
        df = pd.read_csv(path, dtype=_TEXT, keep_default_na=True, skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise CsvError(f"{where}: empty file (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise CsvError(f"{where}: not a readable CSV ({str(e).strip().splitlines()[-1]})") from None
    header = [str(c) for c in df.columns]
    kind = _kind(path, header)
    required, numeric, what = _SCHEMA[kind]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvError(f"{where}: missing column(s) {', '.join(missing)} for {what}")
    for col in numeric:
        conv = pd.to_numeric(df[col], errors="coerce")
        bad = conv.isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CsvError(f"{where}: column '{col}' must be numeric, got {df[col].iloc[i]!r} on line {i + 2}")
        df[col] = conv
    if "pass" in df.columns and kind in ("results", "model"):
        bad = sorted(set(df["pass"].dropna()) - set(style.PASSES))
        if bad or df["pass"].isna().any():
            raise CsvError(f"{where}: unknown pass name(s) {bad or ['(empty)']}; expected {', '.join(style.PASSES)}")
    if kind == "results":
        bad = sorted(set(df["status"].dropna()) - STATUSES)
        if bad:
            raise CsvError(f"{where}: unknown status {bad}; expected ok|skipped|failed")
    return CsvFile(path, kind, df)


BUSY_HOST_SHARE = 0.10  # convbench's kBusyHostShare: from here it warned that times may read slow
BUSY_HOST_MIN_CPU_S = 0.05
BUSY_HOST_MARK = "(host_load)"  # in the note's text: how compare finds these notes


def busy_host_note(runs: list) -> str | None:
    """'2 of 3 runs timed while other processes took up to 48% of the CPUs ...', or None, from
    the runs' host_load (others' CPU time on convbench's CPUs, or time the hypervisor stole)."""
    shares = []
    for r in runs:
        load = r.get("host_load") if isinstance(r, dict) else None
        if not isinstance(load, dict):
            continue
        worst = max((float(load.get(f"{k}_share") or 0) for k in ("others", "steal")
                     if float(load.get(f"{k}_cpu_s") or 0) >= BUSY_HOST_MIN_CPU_S), default=0.0)
        if worst >= BUSY_HOST_SHARE:
            shares.append(worst)
    if not shares:
        return None
    return (f"{len(shares)} of {len(runs)} runs timed while other processes (or the hypervisor) took up to "
            f"{max(shares):.0%} of the CPUs {BUSY_HOST_MARK}: their times may read slow")


def _read_env(csv: Path, notes: list[str]) -> dict | None:
    side = csv.with_name(csv.name + ".env.json")
    if not side.is_file():
        return None
    try:
        doc = json.loads(side.read_text())
        runs = doc.get("runs") if isinstance(doc, dict) else None
        if isinstance(runs, list) and runs and isinstance(runs[-1], dict):
            if busy := busy_host_note(runs):
                notes.append(f"{side}: {busy}")
            env = dict(runs[-1])
            env["date"] = max(str(r.get("date", "")) for r in runs if isinstance(r, dict)) or env.get("date")
            return env
        if isinstance(doc, dict):
            return doc
    except (OSError, ValueError) as e:
        notes.append(f"{side}: env sidecar unreadable ({e}); caption lacks provenance")
    return None


def _add_shape_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns the figures share: n and k (last spatial dim), cube (all dims equal), plain
    (no padding, stride 1, dilation 1, one group)."""
    def all_eq(col, value):
        return df[col].astype(str).map(lambda s: all(p.strip() == value for p in s.split("x")))

    df = df.copy()
    df["n"] = df["in_w"]
    df["k"] = df["k_w"]
    d = df["dims"]
    cube_in = ((d < 2) | (df["in_h"] == df["in_w"])) & ((d < 3) | (df["in_d"] == df["in_w"]))
    cube_k = ((d < 2) | (df["k_h"] == df["k_w"])) & ((d < 3) | (df["k_d"] == df["k_w"]))
    df["cube"] = cube_in & cube_k
    df["plain"] = all_eq("pad", "0") & all_eq("stride", "1") & all_eq("dilation", "1") & (df["groups"] == 1)
    # Files written before the column existed ran the smallest 7-smooth size.
    if "fft_policy" not in df.columns:
        df["fft_policy"] = "smooth"
    df["fft_policy"] = df["fft_policy"].fillna("smooth")
    df["series"] = [style.series_key(a, p) for a, p in zip(df["algo"], df["fft_policy"])]
    return df


def load(folder) -> Dataset:
    """Every CSV of a results folder (not recursive), checked; raises CsvError on the first bad one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CsvError(f"{folder}: not a directory")
    ds = Dataset(folder=folder, machine=folder.resolve().name)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in _SCHEMA}
    for path in sorted(folder.glob("*.csv")):
        if path.name.endswith(".partial.csv"):
            ds.notes.append(f"{path}: unfinished sweep (.partial.csv), ignored")
            continue
        f = read_csv(path)
        if f.kind in ("results", "train_steps", "train_stats"):
            extra = ()
        else:
            extra = TRANSFORM_ALGOS
        if "algo" in f.df.columns:
            if f.df["algo"].isna().any():
                raise style.UnknownAlgorithm(f"{path}: empty algorithm name on line "
                                             f"{int(np.flatnonzero(f.df['algo'].isna().to_numpy())[0]) + 2}")
            ds.notes += style.check_algorithms(f.df["algo"].unique(), str(path), extra_known=extra)
        if f.df.empty:
            ds.notes.append(f"{path}: header only, no rows yet")
        f.env = _read_env(path, ds.notes)
        f.df["source"] = path.name
        ds.files.append(f)
        parts[f.kind].append(f.df)

    def cat(kind):
        frames = [p for p in parts[kind] if not p.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    ds.results = cat("results")
    if not ds.results.empty:
        ds.results = _add_shape_columns(ds.results)
        before = len(ds.results)
        keys = [k for k in KEY_COLUMNS if k in ds.results.columns]
        # the same row in two files (a re-run, a merged shard): the later file (by name) wins
        ds.results = ds.results.drop_duplicates(subset=keys, keep="last").reset_index(drop=True)
        if len(ds.results) < before:
            ds.notes.append(f"{before - len(ds.results)} duplicate result row(s) across files; kept the last")
    ds.model = cat("model")
    ds.train_steps = cat("train_steps")
    ds.train_stats = cat("train_stats")
    ds.transforms = cat("transforms")
    return ds
