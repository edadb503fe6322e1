"""Turn the notebooks into standalone HTML reports with an index page.

Every ``*.ipynb`` in a folder is executed with papermill (the ``parameters`` cell gets
``quick``), with that folder as the working directory, several notebooks at a time in
separate processes.  Each executed notebook becomes one HTML file with its figures
embedded (base64 images, no side files), and ``index.html`` links them with each
notebook's title, status and run time.  A notebook that fails still gets its HTML page
(with the traceback where it stopped); the others are unaffected.

Files are written to a temporary name and moved into place, so a report interrupted
part-way never leaves a truncated page behind.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from ._validate import check_bool, check_int, check_number

__all__ = ["build_report", "notebook_title", "run_notebook"]

REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_title(path) -> str:
    """Return the first Markdown heading of a notebook, or its file stem if it has none.

    Parameters
    ----------
    path : str or Path
        A ``.ipynb`` file.

    Returns
    -------
    str

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cell = {"cell_type": "markdown", "metadata": {}, "source": ["# Raft failover\\n", "text"]}
    >>> _ = (d / "raft.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {},
    ...                                               "nbformat": 4, "nbformat_minor": 5}))
    >>> notebook_title(d / "raft.ipynb")
    'Raft failover'
    """
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        try:
            nb = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {exc.lineno}: not a valid notebook (JSON): "
                             f"{exc.msg}") from None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                return line.lstrip().lstrip("#").strip()
    return path.stem


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_notebook(path, out_dir, *, quick: bool = False, cwd=None, timeout: float = 900.0) -> dict:
    """Execute one notebook with papermill and write its standalone HTML page.

    Parameters
    ----------
    path : str or Path
        The notebook to execute; it is not modified.
    out_dir : str or Path
        Where ``<stem>.html`` is written (created if missing).
    quick : bool
        Passed to the notebook's ``parameters`` cell as ``quick``.
    cwd : str or Path, optional
        Working directory of the kernel; the notebook's own folder when omitted.
    timeout : float
        Seconds allowed per cell before the run counts as failed.

    Returns
    -------
    dict
        ``notebook, title, status ("ok" or "failed"), figures (image outputs embedded),
        seconds, html, error``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "quick = False",
    ...           "outputs": [], "execution_count": None},
    ...          {"cell_type": "code", "metadata": {}, "source": "print(quick)", "outputs": [],
    ...           "execution_count": None}]
    >>> nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
    ...       "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5}
    >>> _ = (d / "tiny.ipynb").write_text(json.dumps(nb))
    >>> result = run_notebook(d / "tiny.ipynb", d / "out", quick=True)
    >>> result["status"], pathlib.Path(result["html"]).name
    ('ok', 'tiny.html')
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter
    from nbformat.validator import MissingIDFieldWarning

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing notebook file; got {str(path)!r}")
    quick = check_bool("quick", quick)
    timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cwd = Path(cwd) if cwd is not None else path.parent
    title = notebook_title(path)
    error = None
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dsalgo-report-") as tmp, \
            warnings.catch_warnings():
        # hand-written notebooks often lack cell ids; nbformat fills them in, noisily
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        executed = Path(tmp) / path.name
        try:
            pm.execute_notebook(str(path), str(executed), parameters={"quick": quick},
                                cwd=str(cwd), kernel_name="python3", language="python",
                                progress_bar=False,
                                log_output=False, execution_timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - the notebook failed; its partial output is kept
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        seconds = time.perf_counter() - start
        source = executed if executed.is_file() else path
        nb = nbformat.read(str(source), as_version=4)
        figures = sum(1 for cell in nb.cells for out in cell.get("outputs", [])
                      if any(k.startswith("image/") for k in out.get("data", {})))
        # markdown images are relative to the notebook: embed them too (no side files)
        body, _ = HTMLExporter(embed_images=True).from_notebook_node(
            nb, resources={"metadata": {"path": str(path.parent)}})
    target = out_dir / f"{path.stem}.html"
    _atomic_write(target, body)
    return {"notebook": path.name, "title": title, "status": "failed" if error else "ok",
            "figures": figures,
            "seconds": seconds, "html": str(target), "error": error}


def _run_one(args) -> dict:
    path, out_dir, quick, cwd, timeout = args
    try:
        return run_notebook(path, out_dir, quick=quick, cwd=cwd, timeout=timeout)
    except Exception:  # noqa: BLE001 - conversion failed: report it, keep the others
        return {"notebook": Path(path).name, "title": Path(path).stem, "status": "failed",
                "figures": 0,
                "seconds": float("nan"), "html": None, "error": traceback.format_exc()}


def _index_html(results: pd.DataFrame, quick: bool) -> str:
    rows = []
    for r in results.itertuples(index=False):
        name = html.escape(r.title)
        link = (f'<a href="{html.escape(Path(r.html).name)}">{name}</a>'
                if isinstance(r.html, str) else name)
        err = f"<pre>{html.escape(r.error)}</pre>" if isinstance(r.error, str) else ""
        rows.append(f"<tr class='{r.status}'><td>{link}</td><td>{html.escape(r.notebook)}</td>"
                    f"<td>{r.status}</td><td>{r.seconds:.1f} s</td><td>{r.figures}</td>"
                    f"<td>{err}</td></tr>")
    mode = "quick" if quick else "full"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dsalgo reports</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em .8em;text-align:left}}
tr.failed{{background:#fdd}}pre{{white-space:pre-wrap;margin:0}}</style></head>
<body><h1>dsalgo reports</h1>
<p>{len(results)} notebooks, {int((results.status == "ok").sum())} ok; {mode} mode; {stamp}.</p>
<table><tr><th>title</th><th>notebook</th><th>status</th><th>run time</th><th>figures</th>
<th>error</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def build_report(notebooks=None, out="reports", *, quick: bool = False, workers: int = 2,
                 timeout: float = 900.0) -> pd.DataFrame:
    """Execute every notebook in a folder and write one HTML page each plus ``index.html``.

    Parameters
    ----------
    notebooks : str or Path, optional
        Folder of ``*.ipynb`` files (the repository's ``notebooks/`` when omitted).  It is
        also the kernels' working directory.
    out : str or Path
        Output folder, created if missing.
    quick : bool
        Run the notebooks' quick mode (``quick = True`` in their ``parameters`` cell).
    workers : int
        Notebooks executed at the same time, each in its own process.
    timeout : float
        Seconds allowed per cell.

    Returns
    -------
    pandas.DataFrame
        One row per notebook in file-name order: ``notebook, title, status, figures,
        seconds, html, error``.  The caller decides what a failure means (the CLI exits non-zero).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> md = {"cell_type": "markdown", "metadata": {}, "source": "# One plus one"}
    >>> code = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "quick = False",
    ...         "outputs": [], "execution_count": None}
    >>> nb = {"cells": [md, code], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> _ = (d / "sum.ipynb").write_text(json.dumps(nb))
    >>> table = build_report(d, d / "reports", quick=True, workers=1)
    >>> table[["notebook", "title", "status"]].to_dict("records")
    [{'notebook': 'sum.ipynb', 'title': 'One plus one', 'status': 'ok'}]
    >>> (d / "reports" / "index.html").is_file()
    True
    """
    folder = Path(notebooks) if notebooks is not None else REPO_NOTEBOOKS
    if not folder.is_dir():
        raise ValueError(f"notebooks must be an existing folder; got {str(folder)!r}")
    quick = check_bool("quick", quick)
    workers = check_int("workers", workers, low=1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.ipynb"))
    jobs = [(p, out, quick, folder, timeout) for p in paths]
    if workers == 1 or len(jobs) <= 1:
        results = [_run_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = list(pool.map(_run_one, jobs))
    columns = ["notebook", "title", "status", "figures", "seconds", "html", "error"]
    table = pd.DataFrame(results, columns=columns)
    for col in ("html", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    _atomic_write(out / "index.html", _index_html(table, quick))
    return table
