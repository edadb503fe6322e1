"""A report page renders the same offline: checked in a real headless browser.

Debian's ``chromium`` opens a report built from a small notebook with a formula, a widget
and a conclusion, with the network off (its own network namespace when ``unshare`` is
allowed, and in any case a proxy that does not exist and no name resolution), and takes a
screenshot.  The rendered page must show no raw ``$…$``, the formula as MathML, the widget
as its static picture, and no empty output.  Outside CI the test is skipped when chromium
is absent (``make browser-deps`` installs it); in CI (``CI`` set) it must run.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

pytest.importorskip("papermill")
pytest.importorskip("latex2mathml")

from dsalgo.report import build_report

KERNEL = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: run `make browser-deps`")
        pytest.skip("chromium is not installed (make browser-deps)")
    return CHROMIUM


def _offline(cmd):
    """Run ``cmd`` without network: in a new network namespace when allowed."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *cmd]
    return cmd


def _chromium(tmp_path, *args):
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = _offline([_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                    "--virtual-time-budget=5000", *args])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _cell(kind, source, tags=()):
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    cells = [
        _cell("markdown", "# Offline page\n\n**Question:** does it render offline?\n\n"
                          "A majority tolerates $f = \\lfloor (n-1)/2 \\rfloor$ crashes, and\n\n"
                          "$$\\sum_{k=0}^{f} \\binom{n}{k} p^k (1-p)^{n-k}$$\n\nis the availability.\n\n"
                          "## Why $n \\ge 2f+1$\n\nA heading with a formula."),
        _cell("code", "quick = False", tags=["parameters"]),
        _cell("code", "from dsalgo.widgets import quorum_explorer\nquorum_explorer(n=5)"),
        _cell("code", "from dsalgo.report import Conclusion\nc = Conclusion()\n"
                      "c.add('With $n = 5$ nodes, {f} crashes are tolerated.', f=(5 - 1) // 2)\nc"),
    ]
    (folder / "offline.ipynb").write_text(json.dumps({"cells": cells, "metadata": KERNEL,
                                                       "nbformat": 4, "nbformat_minor": 5}))
    out = folder / "reports"
    table = build_report(folder, out, quick=True, workers=1)
    assert table.status.tolist() == ["ok"], table.error.tolist()
    return out / "offline.html"


def test_report_page_loads_nothing_from_the_network(page):
    text = page.read_text()
    assert not re.search(r"<script[^>]+src=\"https?:", text)
    assert not re.search(r"<link[^>]+href=\"https?:", text)
    assert "mathjax" not in text.lower()
    assert "application/vnd.jupyter.widget-view+json" not in text


def test_report_page_renders_offline_in_chromium(page, tmp_path):
    _browser()
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    body = re.sub(r"(?is)<(script|style|code|pre)\b.*?</\1>", " ", html)
    visible = re.sub(r"(?s)<[^>]+>", " ", body)
    raw = re.findall(r"\$[^$\n]{1,80}\$", visible)
    assert not raw, f"raw LaTeX left on the page: {raw[:3]}"
    assert html.count("<math") >= 3        # two formulas in the text, one in the conclusion
    # whole elements, not tags emptied one by one (as a per-tag HTML re-parse leaves them)
    assert not re.search(r"<math[^>]*>\s*</math>", html), "empty <math> elements"
    assert "<munderover>" in html and "<msup>" in html and "<mfrac" in html
    heading = re.search(r"(?s)<h2[^>]*>.*?</h2>", html).group(0)
    assert "DSALGOMATH" not in html and "<math" in heading      # the formula, rendered
    assert not re.search(r'(id|href)="[^"]*<', heading)          # and plain text in its anchor
    assert "interactive widget" not in html          # no placeholder: a real picture
    assert "make lab" in html and "data:image/png;base64," in html   # the static widget
    empty = re.findall(r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>\s*</div>', html)
    assert not empty, f"{len(empty)} empty outputs"
    assert "2 crashes are tolerated" in visible
    assert "<title>Offline page · dsalgo</title>" in html

    shot = tmp_path / "page.png"
    result = _chromium(tmp_path, "--hide-scrollbars", "--window-size=1000,1600",
                       f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"))
    dark = (pixels < 128).mean()
    assert 0.005 < dark < 0.5, f"the screenshot looks blank or broken ({dark:.3%} dark pixels)"
