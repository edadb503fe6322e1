"""Reports: every notebook becomes a standalone HTML page, listed in index.html."""

import json
from pathlib import Path

import pytest

from dsalgo.cli import main
from dsalgo.report import build_report, notebook_title, run_notebook

pytest.importorskip("papermill")

KERNEL = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}


def _notebook(path: Path, *sources, heading=None):
    cells = []
    if heading:
        cells.append({"cell_type": "markdown", "metadata": {}, "source": heading})
    cells.append({"cell_type": "code", "metadata": {"tags": ["parameters"]},
                  "source": "quick = False", "outputs": [], "execution_count": None})
    for src in sources:
        cells.append({"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
                      "execution_count": None})
    path.write_text(json.dumps({"cells": cells, "metadata": KERNEL, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


PLOT = "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"


@pytest.fixture
def folder(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "a_plot.ipynb", PLOT,
              "import pathlib\nassert pathlib.Path.cwd().name == 'notebooks'\n"
              "assert quick is True", heading="# A chart\n\nSome text. ![diagram](diagram.png)")
    import matplotlib.pyplot as plt

    plt.imsave(nbs / "diagram.png", [[0.0, 1.0], [1.0, 0.0]])
    _notebook(nbs / "b_broken.ipynb", "raise RuntimeError('boom in notebook')",
              heading="Intro line\n\n## Broken one")
    return nbs


def test_report_writes_pages_and_index_and_keeps_going_after_a_failure(folder, tmp_path):
    out = tmp_path / "reports"
    table = build_report(folder, out, quick=True, workers=2)
    assert table.notebook.tolist() == ["a_plot.ipynb", "b_broken.ipynb"]
    assert table.status.tolist() == ["ok", "failed"]
    assert table.title.tolist() == ["A chart", "Broken one"]
    assert table.figures.tolist() == [1, 0]
    assert table.error[0] is None and "boom in notebook" in table.error[1]
    page = (out / "a_plot.html").read_text()
    assert page.count("data:image/png;base64,") >= 2  # figure and diagram embedded
    assert 'src="diagram.png"' not in page
    assert "boom in notebook" in (out / "b_broken.html").read_text()
    index = (out / "index.html").read_text()
    assert 'href="a_plot.html">A chart<' in index and 'href="b_broken.html">Broken one<' in index
    assert sorted(p.name for p in out.iterdir()) == ["a_plot.html", "b_broken.html", "index.html"]


def test_cli_report_exits_nonzero_when_a_notebook_fails(folder, tmp_path, capsys):
    (folder / "a_plot.ipynb").unlink()  # one failing notebook is enough here
    status = main(["report", "--quick", "--notebooks", str(folder), "--out",
                   str(tmp_path / "r")])
    assert status == 1
    captured = capsys.readouterr()
    assert "0/1 notebooks ok" in captured.out and "boom in notebook" in captured.err
    assert (tmp_path / "r" / "b_broken.html").is_file()


def test_quick_flag_reaches_the_notebook(tmp_path):
    nb = _notebook(tmp_path / "q.ipynb", "assert quick is False")
    assert run_notebook(nb, tmp_path / "out", quick=False)["status"] == "ok"
    assert run_notebook(nb, tmp_path / "out", quick=True)["status"] == "failed"


def test_title_falls_back_to_file_stem(tmp_path):
    assert notebook_title(_notebook(tmp_path / "plain_name.ipynb")) == "plain_name"


def test_malformed_notebook_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [\n  oops\n]}')
    with pytest.raises(ValueError, match=r"bad\.ipynb: line 2"):
        notebook_title(bad)


def test_missing_folder_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="notebooks must be an existing folder"):
        build_report(tmp_path / "nope", tmp_path / "out")


def test_bad_workers_is_rejected(folder, tmp_path):
    with pytest.raises(ValueError, match="workers must be an integer >= 1; got 0"):
        build_report(folder, tmp_path / "out", workers=0)


def test_missing_notebook_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing notebook file"):
        run_notebook(tmp_path / "none.ipynb", tmp_path)


def test_index_shows_code_in_a_question_as_code_and_escapes_the_rest():
    import pandas as pd

    from dsalgo import report

    table = pd.DataFrame([{"notebook": "q.ipynb", "title": "Q", "html": "q.html",
                           "question": "does `live.etcd` on `127.0.0.1` keep a < b?",
                           "status": "ok", "seconds": 1.0, "figures": 0, "error": None}])
    page = report._index_html(table, quick=True)
    assert "<code>live.etcd</code> on <code>127.0.0.1</code> keep a &lt; b?" in page
    assert "`" not in page.split("<table>", 1)[1]
