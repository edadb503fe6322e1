"""environment.yml (conda users) lists exactly what pyproject.toml does, with the same pins."""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: PyPI names that conda-forge spells differently (conda-forge's "redis" is the server)
CONDA_NAMES = {"redis": "redis-py"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _split(req: str):
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", req)
    name, extras, spec = m.group(1).lower(), m.group(2), m.group(3).replace(" ", "")
    return name, (extras or ""), spec


def pyproject_requirements() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    out = {}
    for r in reqs:
        name, extras, spec = _split(r)
        out[CONDA_NAMES.get(name, name)] = spec
        if name == "dask" and "distributed" in extras:  # conda ships the extra as a package
            out["distributed"] = spec
    return out


def conda_requirements() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert dep.get("pip") == ["-e ."], "the only pip entry installs dsalgo itself"
            continue
        name, _, spec = _split(dep)
        if name not in ("python", "pip"):
            out[name] = spec
    return out


def test_environment_yml_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_python_floor_is_the_same():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]
    assert env["channels"] == ["conda-forge"]


def test_ci_runs_make_lint_then_make_test():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in lines  # a failing step fails CI
    assert lines.index("make lint") < lines.index("make test")


def test_pytest_collects_the_docstring_examples_of_the_package():
    pytest_ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pytest_ini["ini_options"]
    assert "--doctest-modules" in options["addopts"].split()
    assert options["testpaths"] == ["tests", "dsalgo"]  # not notebooks/ nor benchmarks/


def test_ruff_rules_are_chosen_explicitly():
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert {"E", "F", "I", "B", "UP"} <= set(lint["select"])
    makefile = (ROOT / "Makefile").read_text()
    assert "ruff check dsalgo tests benchmarks" in makefile
