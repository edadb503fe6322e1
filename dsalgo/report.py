"""Turn the notebooks into standalone HTML reports with an index page.

Every ``*.ipynb`` in a folder is executed with papermill (the ``parameters`` cell gets
``quick``), with that folder as the working directory, several notebooks at a time in
separate processes.  Each executed notebook becomes one HTML file with its figures
embedded (base64 images, no side files), and ``index.html`` links them with each
notebook's title, status and run time.  A notebook that fails still gets its HTML page
(with the traceback where it stopped); the others are unaffected.

Each page stands alone offline: LaTeX in Markdown is pre-rendered to MathML (no MathJax
fetch), no script is loaded from the network, every widget is shown as a static picture of
its initial state with a line saying it is interactive in ``make lab``, the parameter cell
appears once (with the values of this run), and the page has a ``<title>`` and links to the
index and to the previous and next notebooks.

Files are written to a temporary name and moved into place, so a report interrupted
part-way never leaves a truncated page behind.

:class:`Conclusion` is how a notebook ends: its closing section is rendered from the
variables of the run, and it refuses a sentence that quotes a number it was not given.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import string
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

from ._validate import check_bool, check_int, check_number

__all__ = ["Conclusion", "build_report", "latex_to_mathml", "notebook_question",
           "notebook_typed_numbers", "typed_numbers",
           "notebook_title", "quoted_numbers", "run_notebook",
           "unsupported_numbers"]

REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# a number quoted in prose: digits not glued to a word (n1, p99 and etcd_002 are names)
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d(?:[\d,]*\d)?(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])",
                     re.IGNORECASE)
# spans where digits are not results: inline code and formulas
_CODE_OR_MATH = re.compile(r"`[^`]*`|\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL)


def quoted_numbers(text: str) -> list[str]:
    """Return the numbers quoted in Markdown prose, outside code spans and formulas.

    Digits that are part of a name (``n1``, ``p99``, ``etcd_002``) are not numbers.

    Parameters
    ----------
    text : str
        Markdown.

    Returns
    -------
    list of str
        The numbers as written, in order.

    Examples
    --------
    >>> quoted_numbers("108 of 108, in 2.5 s (1,712 ops); `n1` led, $f = (n-1)/2$, p99 rose")
    ['108', '108', '2.5', '1,712']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return _NUMBER.findall(_CODE_OR_MATH.sub(" ", text))


def unsupported_numbers(markdown: str, numbers) -> list[str]:
    """Return the numbers quoted in ``markdown`` that are not among ``numbers``.

    ``numbers`` is what the run produced (a :class:`Conclusion` records them in its output's
    metadata); each may be quoted as often as it was produced.

    Examples
    --------
    >>> unsupported_numbers("12 of 12 dropped; 108 of 108 verdicts", ["12", "12"])
    ['108', '108']
    """
    left = list(numbers)
    missing = []
    for number in quoted_numbers(markdown):
        if number in left:
            left.remove(number)
        else:
            missing.append(number)
    return missing


# a cell's own list of numbers that are not results: <!-- inputs: … --> or <!-- given: … -->
_ALLOWED = re.compile(r"<!--\s*((?:inputs|given)\s*:.*?)-->", re.DOTALL | re.IGNORECASE)
_KIND = re.compile(r"\b(inputs|given)\s*:", re.IGNORECASE)
# digits that are not quoted results: "## 2." section numbers, "(2016)" / "et al. 2021)"
# years of a citation, and digits that end a name after a letter ("phase-1", "M/M/1")
_NOT_RESULTS = re.compile(r"(?m)^\s{0,3}#+\s*\d+(?:\.\d+)*\.?(?=\s)"
                          r"|\(\s*(?:19|20)\d\d[a-z]?(?=\W)|(?:19|20)\d\d[a-z]?\s*\)"
                          r"|(?<=[A-Za-z][-/])\d+")


def _value(number: str) -> float:
    return abs(float(number.replace(",", "").replace("−", "-")))


def _matches_code(value: float, unit: str, code_numbers) -> bool:
    # the code holds seconds and fractions where prose says "ms" and "%"
    scale = {"%": 100, "ms": 1000}.get(unit, 1)
    return any(math.isclose(value, c * scale, rel_tol=1e-9, abs_tol=1e-12)
               for c in code_numbers)


def typed_numbers(markdown: str, code_numbers=None) -> list[str]:
    """Return what is wrong with the numbers typed into one Markdown cell.

    A number written in prose reads as a result of the run; results must be rendered from
    the run's variables (``display(Markdown(f"…"))`` or a :class:`Conclusion`), so that
    they cannot drift from what the run produced.  A number that is not a result is
    declared in the cell itself, in an HTML comment the report does not show:

    * ``<!-- inputs: 1.0, 1.5 s, 5 ms -->`` — parameters of the run described in prose;
      each must occur in the notebook's code (``code_numbers``; in the prose ``5 ms``
      matches a ``0.005`` and ``1 %`` a ``0.01``), so prose that outlives a parameter
      change fails;
    * ``<!-- given: 287 ms (Figure 16 of the paper), 3/8 -->`` — citations, definitions
      and worked arithmetic of the text, not checked against anything.

    One comment may hold both lists: ``<!-- inputs: 50 ms; given: 287 ms (the paper) -->``;
    notes in parentheses are not read.
    Numbers in code spans and ``$…$`` formulas, section numbers of headings, citation
    years (``(2016)``, ``et al. 2021)``) and digits ending a name (``phase-1``, ``M/M/1``)
    are not results.  An allowed number that the cell no longer quotes is reported too,
    so the lists stay short and true.

    Parameters
    ----------
    markdown : str
        The cell's Markdown.
    code_numbers : iterable of float, optional
        Numbers written in the notebook's code (see :func:`notebook_typed_numbers`); when
        omitted, ``inputs`` entries are not checked against code.

    Returns
    -------
    list of str
        One message per problem; empty when the cell is fine.

    Examples
    --------
    >>> [m.split(": ")[0] for m in typed_numbers("The failover took 287 ms.")]
    ["'287' is typed in prose (…The failover took 287 ms.…)"]
    >>> typed_numbers("## 2. Latency (Ongaro 2014)\\n\\nMean 5 ms. <!-- inputs: 5 ms -->",
    ...               code_numbers=[0.005])
    []
    >>> typed_numbers("Mean 5 ms. <!-- inputs: 5 -->", code_numbers=[0.002])
    ["'5' is listed in <!-- inputs: --> but the notebook's code has no such number (in seconds or as a fraction where the prose says ms or %): the prose no longer matches the code"]
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str; got {type(markdown).__name__}")
    codes = None if code_numbers is None else [abs(float(c)) for c in code_numbers]
    allowed = {"inputs": {}, "given": {}}
    for body in _ALLOWED.findall(markdown):
        parts = _KIND.split(body)     # ["", "inputs", " 1.0, 5 ms; ", "given", " 3/8"]
        for kind, listed in zip(parts[1::2], parts[2::2]):
            for number in quoted_numbers(re.sub(r"\([^)]*\)", " ", listed)):  # notes
                allowed[kind.lower()][_value(number)] = number
    prose = _ALLOWED.sub(" ", markdown)
    prose = _NOT_RESULTS.sub(lambda m: " " * len(m.group(0)), _CODE_OR_MATH.sub(
        lambda m: " " * len(m.group(0)), prose))
    problems, used = [], {}
    for m in _NUMBER.finditer(prose):
        value = _value(m.group(0))
        if value in allowed["inputs"] or value in allowed["given"]:
            unit = re.match(r"\s*(%|ms\b)?", prose[m.end():]).group(1) or ""
            used.setdefault(value, set()).add(unit)
            continue
        around = " ".join(prose[max(0, m.start() - 25):m.end() + 25].split())
        problems.append(f"{m.group(0)!r} is typed in prose (…{around}…): render a result "
                        f"from the run's variables (display(Markdown(f\"…\"))); if it is a "
                        f"parameter, list it in the cell's <!-- inputs: … --> comment, if a "
                        f"citation, definition or arithmetic of the text in <!-- given: … -->")
    for kind, numbers in allowed.items():
        for value, number in numbers.items():
            if value not in used:
                problems.append(f"{number!r} is listed in <!-- {kind}: --> but the cell does "
                                f"not quote it: remove it from the list")
            elif kind == "inputs" and codes is not None and not all(
                    _matches_code(value, unit, codes) for unit in used[value]):
                problems.append(f"{number!r} is listed in <!-- inputs: --> but the notebook's "
                                f"code has no such number (in seconds or as a fraction where "
                                f"the prose says ms or %): the prose no longer matches the "
                                f"code")
    return problems


def _code_numbers(source: str) -> list[float]:
    """Numeric literals of a code cell, and numbers written inside its string literals."""
    import ast

    text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [_value(n) for n in quoted_numbers(text)]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, (int, float)):
                out.append(abs(float(node.value)))
            elif isinstance(node.value, str):
                out.extend(_value(n) for n in _NUMBER.findall(node.value))
    return out


def _constant_markdown(source: str) -> list[str]:
    """The plain (not f-) strings a code cell passes to ``Markdown(…)``."""
    import ast

    try:
        tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.splitlines()))
    except SyntaxError:
        return []
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and node.args
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Markdown"
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]


def notebook_typed_numbers(path) -> list[tuple[int, str]]:
    """Return the numbers a notebook types into Markdown that read as results.

    Applies :func:`typed_numbers` to every Markdown cell (with the numbers of the
    notebook's code cells for ``<!-- inputs: … -->``) and to every plain string a code cell
    passes to ``Markdown(…)`` (an f-string is rendered from variables and is not checked).

    Parameters
    ----------
    path : str or Path
        A ``.ipynb`` file (outputs are not read).

    Returns
    -------
    list of (int, str)
        ``(cell index, message)`` pairs; empty when every number is rendered or declared.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cells = [{"cell_type": "markdown", "metadata": {},
    ...           "source": "Latency has a 5 ms mean. <!-- inputs: 5 ms -->"},
    ...          {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...           "source": "mean = 0.005\\nMarkdown('It took 41 ms.')"}]
    >>> _ = (d / "n.ipynb").write_text(json.dumps({"cells": cells, "metadata": {},
    ...                                             "nbformat": 4, "nbformat_minor": 5}))
    >>> [(i, m.split(" (")[0]) for i, m in notebook_typed_numbers(d / "n.ipynb")]
    [(1, "'41' is typed in prose")]
    """
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    cells = [(c.get("cell_type"), "".join(c["source"]) if isinstance(c.get("source"), list)
              else c.get("source", "")) for c in nb.get("cells", [])]
    code = [n for kind, src in cells if kind == "code" for n in _code_numbers(src)]
    problems = []
    for i, (kind, src) in enumerate(cells):
        texts = [src] if kind == "markdown" else (_constant_markdown(src) if kind == "code"
                                                  else [])
        for text in texts:
            problems.extend((i, msg) for msg in typed_numbers(text, code))
    return problems


class Conclusion:
    """The closing section of a notebook, rendered from the run's own variables.

    Each finding is a template whose numbers all come from ``{placeholders}`` filled with
    values computed in the run; a template that writes a number itself is refused, so the
    conclusion cannot quote a figure the run did not produce.  A section that did not run
    is recorded with :meth:`skipped` and the conclusion says so instead of quoting results.
    Displayed in a notebook it renders as Markdown, and its output carries the numbers it
    quotes (metadata ``dsalgo_conclusion``), which the test suite checks against the text.

    Parameters
    ----------
    title : str
        The section heading.

    Examples
    --------
    >>> c = Conclusion("What the run showed")
    >>> c.add("**Partition.** {dropped} of {sent} cross-group messages were dropped.",
    ...       dropped=12, sent=12)
    >>> c.skipped("Corpus", "the folder `corpus/` is absent")
    >>> print(c.markdown())
    ## What the run showed
    <BLANKLINE>
    - **Partition.** 12 of 12 cross-group messages were dropped.
    - **Corpus** did not run in this run (the folder `corpus/` is absent): no result to report.
    >>> c.numbers
    ['12', '12']
    >>> c.add("It took 108 seconds.")
    Traceback (most recent call last):
    ...
    ValueError: template quotes '108' itself; pass every number as a {placeholder} computed in the run
    """

    def __init__(self, title: str = "What the run showed"):
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"title must be a non-empty str; got {title!r}")
        self.title = title
        self.items: list[str] = []
        self.numbers: list[str] = []
        self.skipped_sections: list[str] = []

    def add(self, template: str, **values) -> None:
        """Add one finding: ``template.format(**values)``, numbers only from ``values``.

        Parameters
        ----------
        template : str
            Markdown with ``{name}`` or ``{name:format}`` fields; its literal text may hold
            numbers only inside code spans or ``$…$`` formulas.
        **values
            The run's values (numbers, strings, booleans).
        """
        if not isinstance(template, str):
            raise TypeError(f"template must be a str; got {type(template).__name__}")
        literal, pieces = [], []
        for text, field, spec, conv in string.Formatter().parse(template):
            literal.append(text)
            if field is None:
                continue
            if field not in values:
                raise ValueError(f"template field {{{field}}} has no value; got values for "
                                 f"{sorted(values)}")
            value = values[field]
            if conv == "r":
                value = repr(value)
            elif conv == "s":
                value = str(value)
            pieces.append(format(value, spec or ""))
        for number in quoted_numbers(" ".join(literal)):
            raise ValueError(f"template quotes {number!r} itself; pass every number as a "
                             f"{{placeholder}} computed in the run")
        text = template.format(**values)
        for piece in pieces:
            self.numbers.extend(quoted_numbers(piece))
        self.items.append(text)

    def skipped(self, section: str, reason: str) -> None:
        """Record that ``section`` did not run, and why (no results are quoted for it)."""
        for name, value in (("section", section), ("reason", reason)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty str; got {value!r}")
        self.skipped_sections.append(section)
        self.items.append(f"**{section}** did not run in this run ({reason}): "
                          f"no result to report.")

    def markdown(self) -> str:
        """The conclusion as Markdown: the heading and one bullet per finding."""
        body = "\n".join(f"- {item}" for item in self.items) or "- (no findings recorded)"
        return f"## {self.title}\n\n{body}"

    def _repr_mimebundle_(self, include=None, exclude=None):
        meta = {"dsalgo_conclusion": {"numbers": list(self.numbers),
                                      "skipped": list(self.skipped_sections)}}
        return {"text/markdown": self.markdown(), "text/plain": self.markdown()}, meta


def notebook_question(path) -> str | None:
    """Return the text after ``**Question:**`` in a notebook's first Markdown cell, if any.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cell = {"cell_type": "markdown", "metadata": {},
    ...         "source": "# T\\n\\n**Question:** how long\\nis a failover?\\n\\nMore."}
    >>> _ = (d / "q.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {},
    ...                                             "nbformat": 4, "nbformat_minor": 5}))
    >>> notebook_question(d / "q.ipynb")
    'how long is a failover?'
    """
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        match = re.search(r"\*\*Question[:.]?\*\*[:.]?\s*(.+?)(?:\n\s*\n|$)", text, re.DOTALL)
        return " ".join(match.group(1).replace("*", "").split()) if match else None
    return None


_MATH = re.compile(r"(`[^`]*`)|\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)\$", re.DOTALL)


def latex_to_mathml(markdown: str, fragments: list | None = None) -> str:
    """Replace ``$…$`` and ``$$…$$`` formulas in Markdown by MathML (code spans untouched).

    Browsers render MathML natively, so a page needs no MathJax download to show formulas.

    Parameters
    ----------
    markdown : str
    fragments : list, optional
        When given, each formula is replaced by a placeholder word instead and
        ``(mathml, tex)`` is appended here; :func:`_restore_math` puts the MathML into the
        HTML afterwards.  (A Markdown renderer sees MathML tag by tag, and nbconvert's
        image embedding re-parses each tag alone, which empties every ``<math>``.)

    Examples
    --------
    >>> out = latex_to_mathml("a majority $f = n - 1$ and `$x$` stays")
    >>> out.startswith("a majority <math") and "`$x$` stays" in out and "$f" not in out
    True
    >>> found = []
    >>> latex_to_mathml("so $x^2$ holds", found), found[0][1]
    ('so DSALGOMATH0Z holds', 'x^2')
    """
    from latex2mathml.converter import convert

    def repl(m):
        if m.group(1):
            return m.group(1)
        display = m.group(2) is not None
        tex = (m.group(2) if display else m.group(3)).strip()
        try:
            mathml = convert(tex, display="block" if display else "inline")
        except Exception:  # noqa: BLE001 - leave what cannot be converted as written
            return m.group(0)
        if fragments is None:
            return mathml
        fragments.append((mathml, tex))
        return f"DSALGOMATH{len(fragments) - 1}Z"

    return _MATH.sub(repl, markdown)


_PLACEHOLDER = re.compile(r"DSALGOMATH(\d+)Z")


def _restore_math(page: str, fragments) -> str:
    """Put the MathML of :func:`latex_to_mathml`'s placeholders into rendered HTML: in text
    the element, inside a tag (a heading's anchor id) the bare TeX letters."""
    def in_tag(m):
        return _PLACEHOLDER.sub(
            lambda p: re.sub(r"\W+", "-", fragments[int(p.group(1))][1]).strip("-"), m.group(0))

    page = re.sub(r"<[^<>]*DSALGOMATH\d+Z[^<>]*>", in_tag, page)
    return _PLACEHOLDER.sub(lambda p: fragments[int(p.group(1))][0], page)


_PAGE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block extra_css -%}
<style>nav.dsalgo{font-family:sans-serif;margin:1em 2em;padding:.5em 0;
border-bottom:1px solid #ccc}nav.dsalgo a{margin-right:1.5em}
nav.dsalgo.bottom{border-top:1px solid #ccc;border-bottom:none}
.dsalgo-static-widget{border:1px dashed #999;padding:.5em;margin:.3em 0}
.dsalgo-static-widget p.note{font-style:italic;color:#555;margin:.2em 0}
math{font-size:1.05em}</style>
{%- endblock extra_css -%}
{% block body_header %}{{ super() }}{{ resources.dsalgo_nav_top }}{% endblock body_header %}
{% block body_footer %}{{ resources.dsalgo_nav_bottom }}{{ super() }}{% endblock body_footer %}
"""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _standalone(nb, quick: bool) -> list:
    """Make an executed notebook render offline (see the module docstring); in place.
    Returns the formulas, each replaced by a placeholder (see :func:`latex_to_mathml`)."""
    fragments: list = []
    nb.metadata.pop("widgets", None)   # no widget state: no widget manager from a CDN
    injected = [i for i, c in enumerate(nb.cells)
                if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    values = {}
    for i in reversed(injected):
        for line in nb.cells[i].source.splitlines():
            m = re.match(r"\s*(\w+)\s*=\s*(.+?)\s*$", line)
            if m:
                values[m.group(1)] = m.group(2)
        del nb.cells[i]
    target = f"make report{'-quick' if quick else ''}"
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []) and cell.cell_type == "code":
            def this_run(m):
                name, default = m.group(1), m.group(2)
                if name not in values or values[name] == default:
                    return m.group(0)
                return f"{name} = {values[name]}  # this report ({target}); default {default}"
            cell.source = re.sub(r"(?m)^(\w+)\s*=\s*([^#\n]*?)\s*(?:#.*)?$", this_run,
                                 cell.source)
        if cell.cell_type == "markdown":
            cell.source = latex_to_mathml(cell.source, fragments)
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = latex_to_mathml(data["text/markdown"], fragments)
            if WIDGET_MIME in data:
                data.pop(WIDGET_MIME)
                if "text/html" not in data:
                    data["text/html"] = ("<div class='dsalgo-static-widget'><p class='note'>"
                                         "An interactive widget: run this notebook in "
                                         "<code>make lab</code> to use it.</p></div>")
    return fragments


def _nav(neighbours) -> tuple[str, str]:
    if not neighbours:
        return "", ""
    prev, nxt = neighbours
    links = ['<a href="index.html">&#8593; all reports</a>']
    if prev:
        links.append(f'<a href="{html.escape(prev[0])}">&#8592; {html.escape(prev[1])}</a>')
    if nxt:
        links.append(f'<a href="{html.escape(nxt[0])}">{html.escape(nxt[1])} &#8594;</a>')
    inner = " ".join(links)
    return (f'<nav class="dsalgo top">{inner}</nav>',
            f'<nav class="dsalgo bottom">{inner}</nav>')


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


def run_notebook(path, out_dir, *, quick: bool = False, cwd=None, timeout: float = 900.0,
                 neighbours=None) -> dict:
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
    neighbours : tuple, optional
        ``(previous, next)``, each ``(file name, title)`` or None: the page links to them
        and to ``index.html``.  Without it the page has no navigation bar.

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
    from jinja2 import DictLoader
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
        # the kernel inherits this: no debugger warning about frozen modules in the outputs
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        try:
            pm.execute_notebook(str(path), str(executed), parameters={"quick": quick},
                                cwd=str(cwd), kernel_name="python3", language="python",
                                progress_bar=False,
                                kernel_manager_class=_ipc_kernel_manager(Path(tmp)),
                                log_output=False, execution_timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - the notebook failed; its partial output is kept
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        seconds = time.perf_counter() - start
        source = executed if executed.is_file() else path
        nb = nbformat.read(str(source), as_version=4)
        figures = sum(1 for cell in nb.cells for out in cell.get("outputs", [])
                      if any(k.startswith("image/") for k in out.get("data", {})))
        fragments = _standalone(nb, quick)
        top, bottom = _nav(neighbours)
        exporter = HTMLExporter(embed_images=True, template_file="dsalgo_page.html.j2",
                                extra_loaders=[DictLoader({"dsalgo_page.html.j2":
                                                           _PAGE_TEMPLATE})])
        # markdown images are relative to the notebook: embed them too (no side files)
        body, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"path": str(path.parent), "name": f"{title} · dsalgo"},
                           "dsalgo_nav_top": top, "dsalgo_nav_bottom": bottom})
    target = out_dir / f"{path.stem}.html"
    _atomic_write(target, _restore_math(body, fragments))
    return {"notebook": path.name, "title": title, "status": "failed" if error else "ok",
            "figures": figures,
            "seconds": seconds, "html": str(target), "error": error}


def _ipc_kernel_manager(folder: Path):
    """A kernel manager talking to its kernel over Unix sockets in ``folder``: the kernel
    then has no reason to warn that it runs over unencrypted TCP (one warning per page)."""
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class IPCKernelManager(KernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return str(folder / "kernel")

    return IPCKernelManager


def _run_one(args) -> dict:
    path, out_dir, quick, cwd, timeout, neighbours = args
    try:
        result = run_notebook(path, out_dir, quick=quick, cwd=cwd, timeout=timeout,
                              neighbours=neighbours)
        result["question"] = notebook_question(path)
        return result
    except Exception:  # noqa: BLE001 - conversion failed: report it, keep the others
        return {"notebook": Path(path).name, "title": Path(path).stem, "question": None,
                "status": "failed", "figures": 0,
                "seconds": float("nan"), "html": None, "error": traceback.format_exc()}


def _index_html(results: pd.DataFrame, quick: bool) -> str:
    rows = []
    for r in results.itertuples(index=False):
        name = html.escape(r.title)
        link = (f'<a href="{html.escape(Path(r.html).name)}">{name}</a>'
                if isinstance(r.html, str) else name)
        if isinstance(r.question, str):   # `code` in the question as code, the rest as text
            q = re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>",
                       html.escape(r.question))
            link += f"<div class='q'>{q}</div>"
        err = f"<pre>{html.escape(r.error)}</pre>" if isinstance(r.error, str) else ""
        rows.append(f"<tr class='{r.status}'><td>{link}</td><td>{html.escape(r.notebook)}</td>"
                    f"<td>{r.status}</td><td class='t'>{r.seconds:.1f} s</td><td>{r.figures}</td>"
                    f"<td>{err}</td></tr>")
    mode = "quick" if quick else "full"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dsalgo reports</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em .8em;text-align:left}}
tr.failed{{background:#fdd}}div.q{{color:#444;font-size:.9em;margin-top:.2em}}td{{vertical-align:top}}td:first-child{{min-width:24em;max-width:44em}}td.t{{white-space:nowrap}}pre{{white-space:pre-wrap;margin:0}}</style></head>
<body><h1>dsalgo reports</h1>
<p>{len(results)} notebooks, {int((results.status == "ok").sum())} ok; {mode} mode; {stamp}.</p>
<table><tr><th>notebook and the question it answers</th><th>file</th><th>status</th><th>run time</th><th>figures</th>
<th>error</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def build_report(notebooks=None, out="reports", *, quick: bool = False, workers: int = 2,
                 timeout: float = 900.0, on_result=None) -> pd.DataFrame:
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
    on_result : callable, optional
        Called with each notebook's result dict as soon as it finishes (the CLI prints
        its status and time).

    Returns
    -------
    pandas.DataFrame
        One row per notebook in file-name order: ``notebook, title, question, status,
        figures, seconds, html, error``.  The caller decides what a failure means (the CLI exits non-zero).

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
    timeout = check_number("timeout", timeout, low=0.0, low_open=True)
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be callable or None; got {on_result!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.ipynb"))
    pages = [(f"{p.stem}.html", notebook_title(p)) for p in paths]
    jobs = [(p, out, quick, folder, timeout,
             (pages[i - 1] if i else None, pages[i + 1] if i + 1 < len(pages) else None))
            for i, p in enumerate(paths)]
    done = {}
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            done[job[0]] = _run_one(job)
            if on_result is not None:
                on_result(done[job[0]])
    else:
        # spawn, not fork: a forked worker can inherit a lock held by a thread of the parent
        # (a kernel client's, say) and hang for ever
        import multiprocessing

        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_run_one, job): job[0] for job in jobs}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if on_result is not None:
                    on_result(done[futures[future]])
    results = [done[p] for p in paths]
    columns = ["notebook", "title", "question", "status", "figures", "seconds", "html",
               "error"]
    table = pd.DataFrame(results, columns=columns)
    for col in ("question", "html", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    _atomic_write(out / "index.html", _index_html(table, quick))
    return table
