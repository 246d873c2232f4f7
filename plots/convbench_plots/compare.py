"""python -m convbench_plots.compare BASE OTHER [--out FILE]: the cases two results folders share,
row against row (one machine before and after a change, a re-run, or two machines).

Rows are matched on their key (sweep, shape, algorithm, pass, precision, FFT policy, compression),
as the folder's own figures match them. Per sweep, algorithm, pass and precision: the cases `ok` on
both sides and the median, min and max of BASE's time over OTHER's (> 1: OTHER faster); then per
algorithm over every sweep. Rows that only one side has, or that are not `ok` on one side, are
counted, never dropped silently. Both folders' hardware and commits head the page: where the
hardware differs, the ratios compare the machines, not the code. Writes Markdown to stdout or FILE.
Exit status: 0 written; 2 a folder is missing, holds a CSV that cannot be used, or shares no `ok`
case with the other (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from . import data, style
from .base import md_table
from .hosts import hardware, provenance


class NothingToCompare(Exception):
    pass


def match(base: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The cases `ok` and timed on both sides, with `ratio` = base time / other time; and the
    counts of the rest: rows only in base, only in other, and in both but not `ok` on a side."""
    keys = [k for k in data.KEY_COLUMNS if k in base.columns and k in other.columns]
    m = base.merge(other, on=keys, how="outer", suffixes=("_base", "_other"), indicator=True)
    both = m[m["_merge"] == "both"]
    timed = ((both["status_base"] == "ok") & (both["status_other"] == "ok")
             & (both["time_ms_base"] > 0) & (both["time_ms_other"] > 0))
    ok = both[timed].copy()
    ok["ratio"] = ok["time_ms_base"] / ok["time_ms_other"]
    counts = {"only in base": int((m["_merge"] == "left_only").sum()),
              "only in other": int((m["_merge"] == "right_only").sum()),
              "in both, not ok on a side": int((~timed).sum())}
    return ok, counts


def summary(ok: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return (ok.groupby(by, sort=True)["ratio"].agg(cases="count", median="median", min="min", max="max")
            .reset_index())


def report(base_dir: Path, other_dir: Path) -> str:
    base, other = data.load(base_dir), data.load(other_dir)
    if base.results.empty or other.results.empty:
        empty = base_dir if base.results.empty else other_dir
        raise NothingToCompare(f"{empty}: no benchmark result rows")
    ok, counts = match(base.results, other.results)
    if ok.empty:
        raise NothingToCompare(f"{base_dir} and {other_dir} share no case that is ok on both sides")
    hw_base, hw_other = hardware(base), hardware(other)
    lines = [f"# {other_dir} against {base_dir}\n",
             "Ratio: BASE's time over OTHER's for the same case (> 1: OTHER faster), cases `ok` on both "
             "sides; per group the median, min and max.\n",
             "| | folder | hardware | runs (env sidecars) |", "| --- | --- | --- | --- |",
             f"| BASE | {base_dir} | {hw_base} | {provenance(base)} |",
             f"| OTHER | {other_dir} | {hw_other} | {provenance(other)} |", ""]
    if hw_base != hw_other:
        lines.append("The hardware differs: these ratios compare the machines (and whatever else changed), "
                     "not the code alone.\n")
    busy = [f"- {label}: {n}" for label, ds in (("BASE", base), ("OTHER", other)) for n in ds.notes
            if data.BUSY_HOST_MARK in n]
    if busy:
        lines += ["Runs timed on a busy host: their rows may read slow, and ratios against them measure the "
                  "load as much as the code.\n", *busy, ""]
    lines.append(f"{len(ok)} case(s) compared; " + ", ".join(f"{v} row(s) {k}" for k, v in counts.items())
                 + ".\n")
    lines += ["## By algorithm, over every sweep\n", md_table(summary(ok, ["algo"])),
              "## By sweep, algorithm, pass and precision\n",
              md_table(summary(ok, ["sweep", "algo", "pass", "precision"]))]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m convbench_plots.compare",
                                 description="The cases two results folders share, row against row: "
                                             "BASE's time over OTHER's per sweep, algorithm, pass and precision")
    ap.add_argument("base", type=Path, help="results folder to compare against (e.g. the run before a change)")
    ap.add_argument("other", type=Path, help="results folder compared with it")
    ap.add_argument("--out", type=Path, help="write the Markdown here instead of to stdout")
    args = ap.parse_args(argv)
    try:
        text = report(args.base, args.other)
    except (data.CsvError, style.UnknownAlgorithm, NothingToCompare) as e:
        print(f"convbench_plots.compare: {e}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text)
        print(f"compare: {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
