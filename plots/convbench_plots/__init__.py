"""convbench_plots: convbench CSV -> the figures and tables of DESIGN.md (1-9).

Reads only the CSV schema (results rows, `convbench model` output, training CSVs, transform
timings) and the env sidecars; never benchmark console output.
Run: `python -m convbench_plots results/<machine>`.
"""

__version__ = "0.1.0"
