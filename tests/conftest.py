import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
# the docstring examples of dsalgo.plot (doctests, outside this folder's fixtures) leave
# their figures open, a few each; the tests here close theirs after each test
matplotlib.rcParams["figure.max_open_warning"] = 0

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test made (a plotting function returns its figure open)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def shared_corpus():
    """The shared corpus folder; skipped where ../shared is absent (never in CI)."""
    path = SHARED / "corpus"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail("../shared/corpus is missing in CI; the corpus tests must run there")
        pytest.skip("../shared/corpus is absent")
    return path


# ---------------------------------------------------------------- helpers shared by test modules
#: the four tables of a dsalgo.sim.Run
TABLES = ("messages", "events", "history", "faults")


def assert_same_tables(a, b, tables=TABLES):
    """Assert two runs have identical tables (dtypes included), naming the table that differs.

    Import it in a test module with ``from conftest import assert_same_tables``.
    """
    import pandas as pd

    for table in tables:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), obj=table)
