"""Shared look: one fixed colour/marker/line style per algorithm name, pass names, axis helpers.

Every figure takes its algorithm styles from here so that cpu.fft is the same blue everywhere.
"""

from __future__ import annotations

import hashlib
import math
import re

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PASSES = ["fprop", "dgrad", "wgrad", "step"]
PASS_TITLES = {
    "fprop": "fprop (forward; Mathieu's updateOutput)",
    "dgrad": "dgrad (grad input; updateGradInput)",
    "wgrad": "wgrad (grad weights; accGradParameters)",
    "step": "step (fprop + dgrad + wgrad)",
}

# Fixed colours (Okabe-Ito / ColorBrewer picks). CPU and CUDA versions of a method share a hue
# family; line style tells the backend apart (cpu solid, cuda dashed, cudnn dash-dot).
ALGO_COLOURS = {
    "cpu.direct": "#8c564b",
    "cpu.im2col": "#e69f00",
    "cpu.fft": "#0072b2",
    "cpu.fft_tiled": "#006d4f",
    "cpu.onednn": "#d55e00",
    "cuda.direct": "#c08a6b",
    "cuda.im2col": "#b8860b",
    "cuda.fft": "#56b4e9",
    "cuda.fft_tiled": "#009e73",
    "cuda.fbfft": "#7b3294",
    "cuda.fbfft_tiled": "#c2a5cf",
    "cudnn.best": "#000000",
    "cudnn.implicit_gemm": "#cc79a7",
    "cudnn.implicit_precomp_gemm": "#e7298a",
    "cudnn.gemm": "#7f7f7f",
    "cudnn.direct": "#66a61e",
    "cudnn.fft": "#4d4d4d",
    "cudnn.fft_tiling": "#8da0cb",
    "cudnn.winograd": "#a6d854",
    "cudnn.winograd_nonfused": "#bf9b30",
    # transform-only implementations (figure 9)
    "cufft": "#4d4d4d",
    "fftw": "#b15928",
    "cuda.fbfft_split": "#e7298a",  # cuda.fbfft's kernels with 32 and 64 split in two levels
}
KNOWN_BACKENDS = ("cpu", "cuda", "cudnn")
# cuDNN's backward algorithms carry their own cuDNN names (DESIGN.md), so any cudnn.<name> is
# legitimate; those without a fixed colour get a stable one from this family.
_CUDNN_EXTRA = ["#f781bf", "#a65628", "#999933", "#882255", "#44aa99", "#aa4499", "#6699cc", "#dd7788"]
# Well-formed names we do not know (a new algorithm added to the C++ list) get a stable colour
# from here and a warning; see check_algorithms().
_FALLBACK = ["#332288", "#117733", "#999933", "#661100", "#6699cc", "#aa4466", "#44aa99", "#882255"]

_METHOD_MARKERS = {"direct": "o", "im2col": "s", "fft": "^", "onednn": "D", "fft_tiled": "v", "fbfft": "P", "fbfft_tiled": "p",
                   "best": "*"}
_BACKEND_LINES = {"cpu": "-", "cuda": "--", "cudnn": "-."}
_NAME_RE = re.compile(r"^(cpu|cuda|cudnn)\.[a-z0-9_]+$")
_WELL_FORMED_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")


class UnknownAlgorithm(ValueError):
    pass


def _stable_pick(name: str, palette: list[str]) -> str:
    h = int(hashlib.sha1(name.encode()).hexdigest(), 16)  # stable across runs (unlike hash())
    return palette[h % len(palette)]


def is_known(name: str) -> bool:
    return name in ALGO_COLOURS or name.startswith("cudnn.") and bool(_NAME_RE.match(name))


def check_algorithms(names, where: str, extra_known=()) -> list[str]:
    """Policy for algorithm names found in a CSV (tested in plots/tests):
    - known names (DESIGN.md's list, any cudnn.<algo>, `extra_known`) are fine;
    - a well-formed `<backend>.<method>` name we have no colour for (a newly added algorithm)
      is plotted in a stable fallback colour and returns a warning line;
    - anything else (no backend prefix, spaces, capitals, an empty name) is a bad CSV: raises
      UnknownAlgorithm naming the file, the names and the known ones.
    """
    bad, warnings = [], []
    for name in sorted({str(n) for n in names}):
        if is_known(name) or name in extra_known:
            continue
        if _WELL_FORMED_RE.match(name):
            warnings.append(f"{where}: unknown algorithm '{name}' (not in convbench_plots.style); "
                            f"plotted in a fallback colour")
        else:
            bad.append(name)
    if bad:
        known = ", ".join(k for k in ALGO_COLOURS if "." in k)
        raise UnknownAlgorithm(f"{where}: unknown algorithm name(s) {', '.join(repr(b) for b in bad)}; "
                               f"expected <backend>.<method> with backend cpu|cuda|cudnn (known: {known})")
    return warnings


def colour(name: str) -> str:
    if name in ALGO_COLOURS:
        return ALGO_COLOURS[name]
    if name.startswith("cudnn."):
        return _stable_pick(name, _CUDNN_EXTRA)
    return _stable_pick(name, _FALLBACK)


def algo_style(name: str, policy: str | None = None) -> dict:
    """Keyword arguments for ax.plot: colour, marker, line style and label of one algorithm.
    A non-default FFT size policy (smooth: the smallest 7-smooth size, or pow2) is a separate
    series: same colour, dotted, labelled. The default is the planner's cheapest size."""
    backend, _, method = name.partition(".")
    marker = "X" if backend == "cudnn" and method != "best" else _METHOD_MARKERS.get(method, "o")
    style = {"color": colour(name), "marker": marker, "linestyle": _BACKEND_LINES.get(backend, "-"),
             "label": name, "markersize": 5, "linewidth": 1.6}
    if policy and policy not in ("cheapest", "nan", "") and "fft" in method:
        style["label"] = f"{name} ({policy})"
        style["linestyle"] = ":"
    return style


def series_key(algo: str, policy) -> str:
    """Label of a series: the algorithm, plus the FFT size policy when it is not the default."""
    p = "" if policy is None or (isinstance(policy, float) and math.isnan(policy)) else str(policy)
    return algo_style(algo, p)["label"]


_ORDER = {n: i for i, n in enumerate(ALGO_COLOURS)}


def _algo_rank(label: str):
    return (_ORDER.get(label.split(" ")[0], len(_ORDER)), label)


def sort_algos(names) -> list[str]:
    """Stable order for legends: the fixed list first (DESIGN.md order), then the rest by name."""
    return sorted(set(names), key=_algo_rank)


def wide(values, ratio: float = 30.0) -> bool:
    """True when positive values span more than `ratio` (then a log axis reads better)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], dtype=float)
    return v.size > 1 and v.max() / v.min() > ratio


def no_data(ax, message: str) -> None:
    """Mark a panel as empty so it is never mistaken for a result."""
    ax.set_facecolor("#f4f4f4")
    ax.text(0.5, 0.5, "no data\n" + message, ha="center", va="center", transform=ax.transAxes,
            fontsize=9, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def new_figure(nrows: int, ncols: int, width: float | None = None, height: float | None = None, **kw):
    width = max(9.0, width or 4.2 * ncols + 2.2)  # room for the title beside the legend
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height or 3.4 * nrows + 1.3),
                             layout="constrained", squeeze=False, **kw)
    return fig, axes


def finish(fig, title: str, caption: str, legend_axes=None, legend_cols: int = 1) -> None:
    """Title on top, one shared legend outside the panels (right), provenance caption at the bottom."""
    fig.suptitle(title, fontsize=12, fontweight="bold")
    for ax in fig.axes:
        tidy_log_axis(ax)
    if legend_axes is not None:
        handles, labels, seen = [], [], set()
        for ax in legend_axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in seen and not lab.startswith("_"):
                    seen.add(lab)
                    handles.append(h)
                    labels.append(lab)
        # algorithm entries in the fixed order (same order in every figure); other entries stay put
        slots = [i for i, lab in enumerate(labels) if lab.split(" ")[0] in ALGO_COLOURS or "." in lab.split(" ")[0]]
        ordered = sorted(slots, key=lambda i: _algo_rank(labels[i]))
        pairs = list(zip(handles, labels))
        for dst, src in zip(slots, ordered):
            handles[dst], labels[dst] = pairs[src]
        if handles:
            # centred on the right so it can neither cover data nor collide with the title
            fig.legend(handles, labels, loc="outside right center", fontsize=8, ncols=legend_cols, frameon=False)
    # supxlabel is laid out by the constrained engine, so the caption never overlaps the panels
    fig.supxlabel(caption, fontsize=7.5, color="#444444")


def _plain(v, _pos=None) -> str:
    """0.01, 20, 500 as they are; very large or small values as 10⁶ or 2×10⁹ (never 1e+06)."""
    if v <= 0 or not math.isfinite(v):
        return ""
    if 1e-3 <= v < 1e4:
        return f"{v:g}"
    e = math.floor(math.log10(v) + 1e-9)
    m = v / 10**e
    return f"$10^{{{e}}}$" if abs(m - 1) < 1e-6 else f"${m:g}\\times10^{{{e}}}$"


def tidy_log_axis(ax) -> None:
    """Log-10 axes: plain numbers (0.01, 20, 1e+03) rather than 10^x / 6x10^1; when the range is
    under ~1.5 decades, label the 2x and 5x minor ticks too so the axis is never bare."""
    for axis, lim in ((ax.yaxis, ax.get_ylim()), (ax.xaxis, ax.get_xlim())):
        if axis.get_scale() != "log" or getattr(axis.get_transform(), "base", 10) != 10:
            continue
        lo, hi = sorted(lim)
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain))
        if lo > 0 and hi / lo < 30:
            axis.set_minor_locator(matplotlib.ticker.LogLocator(base=10, subs=(2.0, 5.0)))
            axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(_plain))
        else:
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def pow2_ticks(ax, values, axis: str = "x") -> None:
    """Log2 axis with the actual sizes as tick labels (8, 16, 32, 64 rather than 2^3 ...)."""
    vals = sorted({int(v) for v in values})
    if axis == "x":
        ax.set_xscale("log", base=2)
        ax.set_xticks(vals, [str(v) for v in vals])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    else:
        ax.set_yscale("log", base=2)
        ax.set_yticks(vals, [str(v) for v in vals])
        ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
