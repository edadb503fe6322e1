"""The notebooks: each has one source, and each executes from top to bottom in quick mode.

Every ``notebooks/NN_name.ipynb`` is paired with ``notebooks/NN_name.py``, a jupytext
percent-format script that is its source (see ``notebooks/README.md``); the pair must hold
the same cells, and the notebook is committed without outputs.

Each notebook then runs with papermill, ``quick=True`` injected after its ``parameters``
cell, the kernel working in ``notebooks/`` (as in ``make report``) and the executed copy
written to a temporary folder, so the repository's notebooks stay untouched.
"""

import re
from pathlib import Path

import pytest

from dsalgo.report import Conclusion, notebook_typed_numbers, typed_numbers, unsupported_numbers

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


def conclusion_problems(nb) -> list[str]:
    """What is wrong with an executed notebook's conclusion: it must be the last cell's
    output, rendered by dsalgo.report.Conclusion, quoting only numbers the run produced."""
    last = nb.cells[-1]
    outputs = [o for o in last.get("outputs", []) if "dsalgo_conclusion" in o.get("metadata", {})]
    if last.cell_type != "code" or not outputs:
        return ["the last cell does not display a dsalgo.report.Conclusion"]
    out = outputs[-1]
    text = out["data"]["text/markdown"]
    produced = out["metadata"]["dsalgo_conclusion"]["numbers"]
    missing = unsupported_numbers(text, produced)
    return [f"the conclusion quotes {n} but the run produced no such number" for n in missing]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_conclusion_is_rendered_from_the_run(path):
    """The closing section is code (a Conclusion), and no Markdown cell after the last
    chart quotes results as prose."""
    source = path.with_suffix(".py").read_text()
    cells = re.split(r"(?m)^# %%", source)
    assert "Conclusion(" in cells[-1], (
        f"{path.stem}.py must end with a code cell that builds a dsalgo.report.Conclusion "
        f"from the run's variables and displays it")
    assert not re.search(r"(?m)^# ## What the charts showed", source), (
        f"{path.stem}.py still has a hand-written conclusion (Markdown)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_markdown_types_no_results(path):
    """A number in a Markdown cell is a result of the run unless the cell declares it an
    input (``<!-- inputs: … -->``, checked against the code) or a citation, definition or
    arithmetic of the text (``<!-- given: … -->``); results are rendered from variables."""
    problems = notebook_typed_numbers(path)
    assert not problems, f"{path.name}:\n" + "\n".join(f"  cell {i}: {m}" for i, m in problems)


def test_typed_result_check_catches_a_planted_result(tmp_path):
    import nbformat

    nb = nbformat.read(str(ROOT / "notebooks" / "00_quickstart.ipynb"), as_version=4)
    target = nbformat.write(nb, str(tmp_path / "ok.ipynb")) or tmp_path / "ok.ipynb"
    assert notebook_typed_numbers(target) == []
    md = next(i for i, c in enumerate(nb.cells) if "<!-- inputs:" in c.source)
    cases = {
        # a result typed into prose
        "result": nb.cells[md].source + "\n\nThe partition dropped 37 messages.",
        # an input whose parameter is not in the code (the prose outlived a change)
        "stale input": nb.cells[md].source.replace("250 ms", "270 ms").replace(
            "inputs: 5 ms", "inputs: 270 ms, 5 ms"),
        # an allowed number the text no longer quotes
        "unused": nb.cells[md].source.replace("-->", ", 42 -->", 1),
    }
    for name, source in cases.items():
        nb.cells[md].source = source
        nbformat.write(nb, str(tmp_path / "bad.ipynb"))
        problems = notebook_typed_numbers(tmp_path / "bad.ipynb")
        assert [i for i, _ in problems] == [md], name
    # a plain string shown as Markdown from code is prose too; an f-string is not
    code = nbformat.v4.new_code_cell('display(Markdown("It took 41 ms."))\n'
                                     'display(Markdown(f"It took {t} ms."))')
    nb.cells[md].source = cases["result"].replace("\n\nThe partition dropped 37 messages.", "")
    nb.cells.append(code)
    nbformat.write(nb, str(tmp_path / "code.ipynb"))
    assert [(i, m.split(" (")[0]) for i, m in notebook_typed_numbers(tmp_path / "code.ipynb")] \
        == [(len(nb.cells) - 1, "'41' is typed in prose")]


@pytest.mark.parametrize("text, problems", [
    ("The failover took 287 ms.", ["'287'"]),
    ("The failover took 287 ms. <!-- given: 287 ms (Figure 16 of the paper) -->", []),
    ("## 3. Flexible Paxos (Howard et al. 2016)\n\nphase-1 and M/M/1, $n = 10$, `x = 3`", []),
    ("Between 1.0 and 1.5 s. <!-- inputs: 1.0, 1.5; given: 7 -->", ["'7'"]),
    ("Between 1.0 and 1.5 s. <!-- inputs: 1.0 --> <!-- given: 1.5 -->", []),
    ("A 5 ms mean, 1 % lost. <!-- inputs: 5 ms, 1 % -->", []),
    ("A 6 ms mean. <!-- inputs: 6 ms -->", ["'6'"]),
    ("A 1 ms mean. <!-- inputs: 1 -->", ["'1'"]),    # ms: 0.001 is not in the code
    ("Over 1.5 % of them. <!-- inputs: 1.5 -->", ["'1.5'"]),
])
def test_typed_numbers_rules(text, problems):
    found = [m.split(" ")[0] for m in typed_numbers(text, code_numbers=[0.005, 0.01, 1.0, 1.5])]
    assert found == problems


def _executed(text, numbers):
    import nbformat

    cell = nbformat.v4.new_code_cell("c")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": text},
        metadata={"dsalgo_conclusion": {"numbers": numbers, "skipped": []}})]
    return nbformat.v4.new_notebook(cells=[cell])


def test_a_conclusion_quoting_a_number_the_run_did_not_produce_fails():
    c = Conclusion()
    c.add("{ok} of {n} verdicts matched.", ok=17, n=17)
    bundle, meta = c._repr_mimebundle_()
    good = _executed(bundle["text/markdown"], meta["dsalgo_conclusion"]["numbers"])
    assert conclusion_problems(good) == []
    doctored = _executed(bundle["text/markdown"].replace("17 of 17", "108 of 108"),
                         meta["dsalgo_conclusion"]["numbers"])
    assert conclusion_problems(doctored) == [
        "the conclusion quotes 108 but the run produced no such number"] * 2
    with pytest.raises(ValueError, match="template quotes '108' itself"):
        c.add("All 108 files passed.")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    import nbformat

    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters={"quick": True},
                               cwd=str(path.parent), kernel_name="python3", language="python",
                               progress_bar=False, execution_timeout=600)
    nb = nbformat.read(str(out), as_version=4)
    assert conclusion_problems(nb) == []
    warned = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
              if o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    assert not warned, f"{path.name} prints warnings: {warned[:3]}"
