import shutil
import sys
from pathlib import Path

import pytest

PLOTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PLOTS))  # the package runs from the source tree (PYTHONPATH=plots in ci/)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def full_ds():
    from convbench_plots import data
    return data.load(FIXTURES / "full")


@pytest.fixture
def folder_with(tmp_path):
    """A results folder holding copies of the named fixture files (with their env sidecars)."""
    def make(*names, src="full"):
        d = tmp_path / "machine-x"
        d.mkdir(exist_ok=True)
        for n in names:
            shutil.copy(FIXTURES / src / n, d / n)
            side = FIXTURES / src / (n + ".env.json")
            if side.exists():
                shutil.copy(side, d / side.name)
        return d
    return make


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
