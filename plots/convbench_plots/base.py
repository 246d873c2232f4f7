"""What a figure module returns, and small table helpers."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import pandas as pd


class Skip(Exception):
    """The figure has no data in this folder; the message says which sweep or file is missing."""


@dataclass
class Product:
    name: str                    # file stem under figures/
    title: str
    fig: object | None = None    # matplotlib Figure (PNG + SVG), or None for a table-only product
    table: str | None = None     # Markdown written to <name>.md
    caption: str = ""
    notes: list[str] = field(default_factory=list)  # partial data etc., shown in index.md


def fmt(v, digits: int = 3) -> str:
    """Compact number for Markdown tables: 3 significant digits, '–' for missing."""
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "–"
    if isinstance(v, str):
        return v
    if (isinstance(v, numbers.Integral) or float(v).is_integer()) and abs(v) < 1e6:
        return str(int(v))  # counts and sizes read better without exponent
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    # `digits` significant digits without switching to exponent form (1159 MB, not 1.16e+03)
    decimals = max(digits - int(math.floor(math.log10(abs(v)))) - 1, 0)
    s = f"{v:.{decimals}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def md_table(df: pd.DataFrame, digits: int = 3) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v, digits) if not isinstance(v, str) else v for v in row) + " |")
    return "\n".join(lines) + "\n"
