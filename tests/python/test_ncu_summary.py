"""ci/ncu_summary.py: Nsight Compute's details export -> one Markdown row per kernel launch."""

import importlib.util
import subprocess
import sys

from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "ci/ncu_summary.py"
_spec = importlib.util.spec_from_file_location("ncu_summary", SCRIPT)
ncu_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ncu_summary)

HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size",'
          '"Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')


def metric(launch, kernel, grid, name, unit, value):
    return (f'"{launch}","7","convbench","127.0.0.1","{kernel}","1","13","(128, 1, 1)","{grid}","0","9.0",'
            f'"Section","{name}","{unit}","{value}"')


def write_export(tmp_path, lines):
    path = tmp_path / "ncu.csv"
    path.write_text("\n".join(["==PROF== Connected to process 7", HEADER] + lines) + "\n")
    return path


def test_one_row_per_launch_with_units_converted(tmp_path):
    fft = "void convbench::small_fft::small_fft_kernel<32, 1>(convbench::small_fft::BlockGeom, Args)"
    path = write_export(tmp_path, [
        metric(0, fft, "(4096, 1, 1)", "Duration", "usecond", "12.50"),
        metric(0, fft, "(4096, 1, 1)", "DRAM Throughput", "%", "41.3"),
        metric(0, fft, "(4096, 1, 1)", "Dynamic Shared Memory Per Block", "Kbyte", "2.05"),
        metric(0, fft, "(4096, 1, 1)", "Registers Per Thread", "register/thread", "1,024"),
        metric(1, "ampere_cgemm_64x64_nn", "(17, 8, 544)", "Duration", "nsecond", "2,500"),
        metric(1, "ampere_cgemm_64x64_nn", "(17, 8, 544)", "Achieved Occupancy", "%", "23.9"),
        metric(1, "ampere_cgemm_64x64_nn", "(17, 8, 544)", "Dynamic Shared Memory Per Block", "byte/block", "4,096"),
    ])
    rows = [line for line in ncu_summary.table(str(path)).splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 2
    first = [c.strip() for c in rows[0].strip("|").split("|")]
    second = [c.strip() for c in rows[1].strip("|").split("|")]
    titles = ["ID", "kernel", "grid", "block"] + [c[0] for c in ncu_summary.COLUMNS]
    first, second = dict(zip(titles, first)), dict(zip(titles, second))
    assert first["kernel"] == "`convbench::small_fft::small_fft_kernel<32, 1>`"
    assert first["duration us"] == "12.5" and second["duration us"] == "2.5"  # ns -> us, thousands separator
    assert first["DRAM %"] == "41.3" and first["DRAM %"] != second["DRAM %"]
    assert first["shared KiB"] == "2.002"  # 2.05 kB = 2050 bytes
    assert first["registers"] == "1024"
    assert second["occupancy %"] == "23.9" and first["occupancy %"] == ""  # absent metric: empty cell
    assert second["grid"] == "(17, 8, 544)" and second["shared KiB"] == "4"


def test_a_file_without_the_details_table_is_one_clear_error(tmp_path):
    path = tmp_path / "ncu.csv"
    path.write_text("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission\n")
    run = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "no ncu details table" in run.stderr and str(path) in run.stderr


def test_help_and_missing_arguments():
    run = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and "ncu_summary.py" in run.stdout
    assert subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True).returncode == 2
