"""Shared fixtures for the command-line tests: where the convbench binary is, its CPU
algorithms, and a per-run random seed (fresh each run unless CONVBENCH_TEST_SEED is set)."""

import os
import random
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def find_binary():
    """Path of the convbench binary, or None. CONVBENCH_BIN may be relative to the current
    directory or to the repository root."""
    name = os.environ.get("CONVBENCH_BIN", "build/release/convbench")
    for candidate in (Path(name), REPO_ROOT / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    return None


def binary_hint():
    return (f"convbench binary not found (CONVBENCH_BIN={os.environ.get('CONVBENCH_BIN', '<unset>')}, "
            "default build/release/convbench); build it or set CONVBENCH_BIN")


_cpu_algos = None


def cpu_algorithms():
    """Names from `convbench list` that start with 'cpu.' (empty when there is no binary)."""
    global _cpu_algos
    if _cpu_algos is None:
        binary = find_binary()
        _cpu_algos = []
        if binary is not None:
            out = subprocess.run([str(binary), "list"], capture_output=True, text=True, timeout=60, check=True).stdout
            _cpu_algos = [line.split()[0] for line in out.splitlines() if line.startswith("cpu.")]
    return _cpu_algos


def pytest_generate_tests(metafunc):
    # Algorithms are known only at collection time; without a binary one placeholder keeps the
    # tests collected so that they report the skip reason.
    if "cpu_algo" in metafunc.fixturenames:
        algos = cpu_algorithms() or ["<no-binary>"]
        metafunc.parametrize("cpu_algo", algos)


@pytest.fixture(scope="session")
def convbench_bin():
    binary = find_binary()
    if binary is None:
        pytest.skip(binary_hint())
    return binary


_BASE_SEED = int(os.environ.get("CONVBENCH_TEST_SEED", random.SystemRandom().randrange(2**32)))


@pytest.fixture(scope="session")
def base_seed():
    return _BASE_SEED


def pytest_report_header(config):
    return f"convbench: CONVBENCH_TEST_SEED={_BASE_SEED} (set it to replay this run), binary={find_binary()}"
