"""The notebooks: each has one source, and each executes from top to bottom in quick mode.

Every ``notebooks/NN_name.ipynb`` is paired with ``notebooks/NN_name.py``, a jupytext
percent-format script that is its source (see ``notebooks/README.md``); the pair must hold
the same cells, and the notebook is committed without outputs.

Each notebook then runs with papermill, ``quick=True`` injected after its ``parameters``
cell, the kernel working in ``notebooks/`` (as in ``make report``) and the executed copy
written to a temporary folder, so the repository's notebooks stay untouched.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SYNC = ("edit notebooks/{stem}.py (the source) and run "
        "`.venv/bin/jupytext --sync notebooks/{stem}.py`, which rewrites the side changed "
        "less recently from the other")


def _cells(nb):
    return [(c.cell_type, c.source, c.get("metadata", {}).get("tags", [])) for c in nb.cells]


def test_every_notebook_is_paired_with_a_script():
    scripts = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert [p.stem for p in NOTEBOOKS] == scripts, (
        "each notebooks/*.ipynb needs a notebooks/*.py of the same name and vice versa; "
        "pair a notebook with `.venv/bin/jupytext --set-formats ipynb,py:percent "
        "notebooks/NAME.ipynb`")
    assert len(NOTEBOOKS) == 9


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_equals_its_script(path):
    jupytext = pytest.importorskip("jupytext")
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    script = jupytext.read(str(path.with_suffix(".py")))
    ours, theirs = _cells(notebook), _cells(script)
    hint = SYNC.format(stem=path.stem)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"{path.name} cell {i} differs from {path.stem}.py: {hint}"
    assert len(ours) == len(theirs), (
        f"{path.name} has {len(ours)} cells and {path.stem}.py {len(theirs)}: {hint}")
    outputs = [i for i, c in enumerate(notebook.cells)
               if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not outputs, (f"{path.name} is committed without outputs; cells {outputs} have "
                         f"some: `.venv/bin/jupyter nbconvert --clear-output --inplace "
                         f"notebooks/{path.name}`")
    tagged = [i for i, c in enumerate(notebook.cells)
              if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert tagged == [1], f"{path.name} needs its second cell (only) tagged 'parameters'"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    papermill.execute_notebook(str(path), str(tmp_path / path.name), parameters={"quick": True},
                               cwd=str(path.parent), kernel_name="python3", language="python",
                               progress_bar=False, execution_timeout=600)
