import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def shared_corpus():
    """The shared corpus folder; skipped where ../shared is absent (never in CI)."""
    path = SHARED / "corpus"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail("../shared/corpus is missing in CI; the corpus tests must run there")
        pytest.skip("../shared/corpus is absent")
    return path
