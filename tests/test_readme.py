"""The README's Python examples run as written (a user copies them first)."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys):
    ns = {"__name__": "readme"}
    exec(compile(code, str(README), "exec"), ns)
    if "no_drift_allowance" in code:   # what the comment under the call says it shows
        from dsalgo import locks
        assert locks.redlock.check(locks.redlock.simulate(**ns["kw"]))
        v = locks.redlock.check(locks.redlock.simulate(bugs={"no_drift_allowance"}, **ns["kw"]))
        assert list(v.violations["property"]) == ["mutual_exclusion"]
        assert "to 5.02513s and c2 from 5.01396s" in str(v)
