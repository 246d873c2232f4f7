"""Figure 14 (a table): variants. A sweep run again with other options into a subfolder,
results/<machine>/<variant>/<sweep>.csv (ci/gpu_build.sh writes filter_fft/ and complex_gemm_4m/),
against this folder's own rows of the same cases: the time ratio per case, per (algorithm, pass)
its median, and the variant's command line from its sidecar. The other figures read only the
folder's own CSVs."""

from __future__ import annotations

import pandas as pd

from . import data
from .base import Product, Skip, md_table
from .compare import match
from .targets import shape_label

IGNORED_DIRS = {"figures", "logs"}


def variant_folders(ds) -> list[tuple[str, data.Dataset]]:
    """(name, rows) of each subfolder with results CSVs; a damaged one raises data.CsvError."""
    out = []
    for sub in sorted(p for p in ds.folder.iterdir() if p.is_dir() and p.name not in IGNORED_DIRS):
        if not any(sub.glob("*.csv")):
            continue
        vds = data.load(sub)
        if not vds.results.empty:
            out.append((sub.name, vds))
    return out


def commands(vds) -> list[str]:
    return sorted({str(f.env["command"]) for f in vds.files if f.env and f.env.get("command")})


def compare(base: pd.DataFrame, variant: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Cases `ok` in both, matched on the row key (compare.match): base and variant times and their
    ratio; and the number of the variant's rows without an `ok` twin here."""
    m, _ = match(base, variant)
    m = m.rename(columns=lambda c: c[:-len("_other")] + "_variant" if c.endswith("_other") else c)
    return m, len(variant) - len(m)


def build(ds) -> list[Product]:
    variants = variant_folders(ds)
    if not variants:
        raise Skip("no variant subfolder (results/<machine>/<variant>/<sweep>.csv, e.g. ci/gpu_build.sh's filter_fft/)")
    if ds.results.empty:
        raise Skip("variant subfolders but no rows of this folder to compare them with")
    title = f"Variants against this folder's rows on {ds.machine}"
    lines = [f"# {title}\n",
             "Each subfolder re-ran some of this folder's cases with other options. Ratio = this folder's "
             "median time over the variant's (> 1: the variant is faster), cases `ok` in both.\n"]
    notes, base_sources, variant_sources = [], set(), []
    for name, vds in variants:
        v = vds.results
        lines.append(f"## {name}/\n")
        cmds = commands(vds)
        lines.append("Command: " + ("; ".join(f"`{c}`" for c in cmds) if cmds else "unknown (no env sidecar)") + "\n")
        m, unmatched = compare(ds.results, v)
        failed = int((v["status"] == "failed").sum())
        if failed:
            notes.append(f"{name}/: {failed} failed row(s)")
        if unmatched:
            lines.append(f"{unmatched} of the variant's {len(v)} rows have no `ok` twin in both (skipped, "
                         "failed, or a case this folder lacks).\n")
        variant_sources += [f"{name}/{src}" for src in sorted(v["source"].unique())]
        if m.empty:
            lines.append("No case to compare.\n")
            continue
        base_sources |= set(m["source_base"])
        summary = (m.groupby(["sweep", "algo", "pass", "precision"], sort=True)["ratio"]
                   .agg(cases="count", median="median", min="min", max="max").reset_index())
        lines.append(md_table(summary))
        per_case = pd.DataFrame({
            "case": [f"{r['sweep']}: {shape_label(r)}" for _, r in m.iterrows()],
            "algo": m["algo"], "pass": m["pass"], "precision": m["precision"], "compression": m["compression"],
            "ms here": m["time_ms_base"], "ms variant": m["time_ms_variant"], "ratio": m["ratio"],
            "rel_error here": m["rel_error_base"], "rel_error variant": m["rel_error_variant"]})
        lines.append("\n" + md_table(per_case.sort_values(["case", "algo", "pass"], kind="stable")))
    caption = ds.caption(sorted(base_sources), timed=False) + " · variants: " + ", ".join(variant_sources)
    return [Product("variants", title, None, "\n".join(lines) + "\n", caption, notes)]
