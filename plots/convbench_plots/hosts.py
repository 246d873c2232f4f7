"""python -m convbench_plots.hosts RESULTS_ROOT: DESIGN.md's performance targets side by side for
every machine folder under RESULTS_ROOT, written to RESULTS_ROOT/hosts.md.

One column per folder, one row per target measured in at least one of them. Each cell is what that
folder's own figures/targets.md says (targets.py on the folder's CSVs: verdict, cases met, range
of the measured ratios), so hosts are compared by their own ratios, never by times across
folders. Exit status: 0 written; 2 a folder holds a CSV that cannot be used (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import data, targets
from .base import fmt


def hardware(ds: data.Dataset) -> str:
    """'AMD EPYC ... (avx512f avx2 fma), 2 threads' or the GPU's name, from the env sidecars."""
    for f in ds.files:
        if gpu := data.gpu_name(f.env or {}):
            return gpu
    for f in ds.files:
        env = f.env or {}
        if env.get("cpu"):
            simd = f" ({env['cpu_simd']})" if env.get("cpu_simd") else ""
            threads = env.get("omp_threads")
            return f"{env['cpu']}{simd}" + (f", {threads} threads" if threads else "")
    return "–"


def provenance(ds: data.Dataset) -> str:
    """'2026-12-02..2026-12-05, convbench 094db06, 0ae0a14' from the env sidecars."""
    dates = sorted({str(f.env["date"])[:10] for f in ds.files if f.env and f.env.get("date")})
    shas = list(dict.fromkeys(str(f.env["git_sha"])[:7] for f in ds.files if f.env and f.env.get("git_sha")))
    when = "–" if not dates else dates[0] if dates[0] == dates[-1] else f"{dates[0]}..{dates[-1]}"
    if len(shas) > 3:
        shas = shas[:3] + [f"… ({len(shas)} commits)"]
    return when + (f", convbench {', '.join(shas)}" if shas else "")


def cell(t: targets.Target) -> str:
    """'met 20/20 (2.20–5.96×)', '**short** in 11 of 16 (0.55–0.84×)', or '–' (not measured)."""
    if not t.cases:
        return "–"
    values = [c["measured"] for c in t.cases]
    span = fmt(min(values)) if min(values) == max(values) else f"{fmt(min(values))}–{fmt(max(values))}"
    short = sum(not c["met"] for c in t.cases)
    verdict = f"met {len(t.cases)}/{len(t.cases)}" if short == 0 else f"**short** in {short} of {len(t.cases)}"
    return f"{verdict} ({span}×)"


def machine_folders(root: Path) -> list[Path]:
    """The folders directly under root that hold CSVs (figures/ and variant subfolders are not machines)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.csv")))


def summarize(root: Path) -> str:
    rows = []
    for folder in machine_folders(root):
        ds = data.load(folder)
        rows.append((ds, [t for check in targets.CHECKS for t in check(ds)]))
    if not rows:
        raise data.CsvError(f"{root}: no machine folder with CSVs under it")
    titles = list(dict.fromkeys(t.title for _, ts in rows for t in ts if t.cases))
    lines = ["# DESIGN.md's targets on every machine\n",
             f"Written by `python -m convbench_plots.hosts {root.name}` from each folder's own CSVs: a cell is "
             "that folder's verdict in its `figures/targets.md` (cases met, and the range of the measured "
             "ratios: speedups are the other side's time over ours, band-limited ratios compression 0.5 over "
             "0), `–` where the folder has no case of it. Ratios come from one folder at a time; compare "
             "hosts by them, not by times across folders.\n",
             "| | machine | hardware | runs (env sidecars) |", "| --- | --- | --- | --- |"]
    lines += [f"| M{i + 1} | {ds.machine} | {hardware(ds)} | {provenance(ds)} |" for i, (ds, _) in enumerate(rows)]
    lines.append("")
    if not titles:
        lines.append("No target is measured in any folder.")
        return "\n".join(lines) + "\n"
    lines += ["| target | bound | " + " | ".join(f"M{i + 1}" for i in range(len(rows))) + " |",
              "| --- | --- |" + " --- |" * len(rows)]
    for title in titles:
        found = [{t.title: t for t in ts}.get(title) for _, ts in rows]
        bound = next(t.bound for t in found if t is not None)
        lines.append(f"| {title} | {bound} | " + " | ".join(cell(t) if t else "–" for t in found) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m convbench_plots.hosts",
                                 description="DESIGN.md's targets side by side for every machine folder "
                                             "under RESULTS_ROOT, into RESULTS_ROOT/hosts.md")
    ap.add_argument("root", type=Path, help="the folder holding one results folder per machine (results/)")
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        print(f"convbench_plots.hosts: {args.root}: not a folder", file=sys.stderr)
        return 2
    try:
        text = summarize(args.root)
    except data.CsvError as e:
        print(f"convbench_plots.hosts: {e}", file=sys.stderr)
        return 2
    out = args.root / "hosts.md"
    out.write_text(text)
    print(f"hosts: {len(machine_folders(args.root))} machine folder(s) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
