#!/usr/bin/env python3
"""One line per profiled kernel from Nsight Compute's `--csv --page details` export.

    python3 ci/ncu_summary.py build/gpu-bundle/logs/ncu.cuda.fbfft.csv [more.csv ...]

prints a Markdown table per file: launch ID, kernel, grid and block, duration, the Speed Of Light
throughputs (DRAM, memory, SM), occupancy (achieved, theoretical), registers and shared memory
per block. Metrics the export lacks stay empty. Standard library only (the GPU host has python3,
not necessarily pandas).
"""
import csv
import sys

# (column title, ncu metric name, unit to show); durations are converted to microseconds.
COLUMNS = [
    ("duration us", "Duration", "us"),
    ("DRAM %", "DRAM Throughput", ""),
    ("memory %", "Memory Throughput", ""),
    ("SM %", "Compute (SM) Throughput", ""),
    ("occupancy %", "Achieved Occupancy", ""),
    ("theoretical %", "Theoretical Occupancy", ""),
    ("registers", "Registers Per Thread", ""),
    ("shared KiB", "Dynamic Shared Memory Per Block", "KiB"),
    ("waves/SM", "Waves Per SM", ""),
]
TIME_SCALE = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6}
BYTE_SCALE = {"byte": 1 / 1024, "Kbyte": 1000 / 1024, "KB": 1000 / 1024, "KiB": 1.0, "Mbyte": 1e6 / 1024}
BYTE_SCALE.update({f"{unit}/block": scale for unit, scale in list(BYTE_SCALE.items())})  # LaunchStats' units


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def convert(value, unit, want):
    v = number(value)
    if v is None:
        return value
    if want == "us":
        v *= TIME_SCALE.get(unit, float("nan"))
    elif want == "KiB":
        v *= BYTE_SCALE.get(unit, float("nan"))
    return f"{v:.4g}"


def read_launches(path):
    """{(id, kernel, grid, block): {metric: (value, unit)}} in launch order."""
    with open(path, newline="", errors="replace") as f:
        lines = f.read().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"')), None)
    if start is None:
        raise ValueError(f"{path}: no ncu details table (a header line starting with \"ID\")")
    launches = {}
    for row in csv.DictReader(lines[start:]):
        key = (row.get("ID", ""), row.get("Kernel Name", ""), row.get("Grid Size", ""), row.get("Block Size", ""))
        launches.setdefault(key, {})[row.get("Metric Name", "")] = (row.get("Metric Value", ""),
                                                                     row.get("Metric Unit", ""))
    return launches


def short(name, width=80):
    """The kernel's name and template arguments, without `void` and the parameter list."""
    name = name.removeprefix("void ").split("(")[0]
    return name if len(name) <= width else name[: width - 1] + "…"


def table(path):
    launches = read_launches(path)
    out = [f"### {path}", "", "| ID | kernel | grid | block | " + " | ".join(c[0] for c in COLUMNS) + " |",
           "|" + "---|" * (4 + len(COLUMNS))]
    for (lid, kernel, grid, block), metrics in launches.items():
        cells = []
        for _, metric, want in COLUMNS:
            value, unit = metrics.get(metric, ("", ""))
            cells.append(convert(value, unit, want) if value else "")
        out.append(f"| {lid} | `{short(kernel)}` | {grid} | {block} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    status = 0
    for path in argv[1:]:
        try:
            print(table(path))
        except (OSError, ValueError) as e:
            print(f"ncu_summary: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
