"""Every notebook executes from top to bottom in quick mode.

Each ``notebooks/*.ipynb`` runs with papermill, ``quick=True`` injected after its
``parameters`` cell, the kernel working in ``notebooks/`` (as in ``make report``) and the
executed copy written to a temporary folder, so the repository's notebooks stay untouched.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _has_parameters_cell(path: Path) -> bool:
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    assert _has_parameters_cell(path), f"{path.name} needs a first cell tagged 'parameters'"
    papermill.execute_notebook(str(path), str(tmp_path / path.name), parameters={"quick": True},
                               cwd=str(path.parent), kernel_name="python3", language="python",
                               progress_bar=False, execution_timeout=600)
