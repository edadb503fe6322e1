"""Sweep specifications in TOML, as run by ``python -m dsalgo sweep SPEC.toml``.

A spec names the function, the parameters and the seeds; see ``data/specs/example.toml``::

    [sweep]
    function = "dsalgo.raft:failover_trials"   # module:function (or module.function)
    seeds = 4                                  # an int n means range(n), or a list
    backend = "processes"                      # serial | processes | dask (optional)
    cache = "../sweeps/raft_failover"          # optional; relative to the spec file
    out = "../sweeps/raft_failover.parquet"    # optional; .parquet or .csv

    [design]                                   # optional; the default is a full grid
    kind = "latin_hypercube"                   # grid | random | latin_hypercube
    samples = 20
    seed = 0

    [params]        # grid: a list is an axis, a scalar is fixed;
    n = [3, 5, 7]   # random / latin_hypercube: a list is choices, {low, high, log} a range

    [fixed]         # passed unchanged (lists become tuples), e.g. a timeout range
    election_timeout = [0.15, 0.3]

A module next to the spec file can hold the function: the spec's folder is searched first.
Errors name the file and the line.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from pathlib import Path

from .backends import BACKENDS
from .core import sweep
from .design import Range, full_grid, latin_hypercube, random_design

__all__ = ["load_spec", "run_spec"]

SECTIONS = {
    "sweep": {"function", "seeds", "backend", "cache", "out", "workers", "scheduler"},
    "design": {"kind", "samples", "seed"},
    "params": None, "fixed": None,
}
DESIGNS = {"grid": None, "random": random_design, "latin_hypercube": latin_hypercube}


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise RuntimeError("reading a sweep spec needs Python 3.11+ (tomllib) or, on "
                               "Python 3.10, the tomli package: pip install tomli") from None
    return tomllib


def _line(text: str, section: str, key: str | None = None) -> int:
    """Line number of ``key`` in ``[section]`` (or of the section header), 1-based."""
    current, header = None, 1
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            current = m.group(1).strip()
            if current == section:
                header = i
            continue
        if current == section and key is not None and re.match(
                rf'^"?{re.escape(key)}"?\s*=', line):
            return i
    return header


class _Spec:
    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")

    def error(self, section, key, message) -> ValueError:
        return ValueError(f"{self.path}: line {_line(self.text, section, key)}: {message}")


def _function(spec: _Spec, name):
    if not isinstance(name, str) or not re.fullmatch(r"[\w.]+[:.]\w+", name):
        raise spec.error("sweep", "function",
                         f"function must be 'module:function'; got {name!r}")
    module_name, _, attr = name.rpartition(":") if ":" in name else name.rpartition(".")
    folder = str(spec.path.parent.resolve())
    sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise spec.error("sweep", "function", f"cannot import module {module_name!r} "
                                              f"({exc})") from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise spec.error("sweep", "function", f"module {module_name!r} has no function "
                                              f"{attr!r}")
    return fn


def _seeds(spec: _Spec, seeds):
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        return range(seeds)
    if isinstance(seeds, list) and seeds and all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        return seeds
    raise spec.error("sweep", "seeds", f"seeds must be a positive int (range(n)) or a list "
                                       f"of ints; got {seeds!r}")


def _points(spec: _Spec, data: dict):
    design = data.get("design", {})
    kind = design.get("kind", "grid")
    if kind not in DESIGNS:
        raise spec.error("design", "kind", f"kind must be one of {', '.join(DESIGNS)}; "
                                           f"got {kind!r}")
    params = data.get("params", {})
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in data.get("fixed", {}).items()}
    both = sorted(set(params) & set(fixed))
    if both:
        raise spec.error("fixed", both[0], f"{both[0]!r} is in both [params] and [fixed]")
    if kind == "grid":
        return full_grid({**params, **fixed})
    space = {}
    for name, value in params.items():
        if isinstance(value, dict):
            extra = set(value) - {"low", "high", "log", "integer"}
            if extra or not {"low", "high"} <= set(value):
                raise spec.error("params", name, f"a range needs low and high (and optionally "
                                                 f"log, integer); got keys {sorted(value)}")
            try:
                space[name] = Range(**value)
            except (TypeError, ValueError) as exc:
                raise spec.error("params", name, str(exc)) from None
        else:
            space[name] = value
    if "samples" not in design:
        raise spec.error("design", None, f"a {kind} design needs samples = N")
    try:
        points = DESIGNS[kind]({**space, **{k: [v] for k, v in fixed.items()}},
                               design["samples"], seed=design.get("seed", 0))
    except (TypeError, ValueError) as exc:
        raise spec.error("design", "samples", str(exc)) from None
    return points


def load_spec(path) -> dict:
    """Read and check a sweep spec; return the arguments of :func:`dsalgo.sweep.sweep`.

    Returns
    -------
    dict
        ``fn, grid, seeds, backend, cache, out, workers, scheduler`` (paths resolved
        against the spec's folder).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text('[sweep]\\nfunction = "math:hypot"\\nseeds = 2\\n[params]\\nx = [3, 6]\\n')
    >>> spec = load_spec(p)
    >>> spec["fn"].__name__, spec["grid"], list(spec["seeds"])
    ('hypot', [{'x': 3}, {'x': 6}], [0, 1])
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spec must be an existing TOML file; got {str(path)!r}")
    spec = _Spec(path)
    try:
        data = _toml().loads(spec.text)
    except _toml().TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    for section, value in data.items():
        if section not in SECTIONS:
            raise spec.error(section, None, f"unknown section [{section}]; expected "
                                            f"{', '.join(f'[{s}]' for s in SECTIONS)}")
        if not isinstance(value, dict):
            raise spec.error(section, None, f"{section} must be a [{section}] table")
        allowed = SECTIONS[section]
        for key in value:
            if allowed is not None and key not in allowed:
                raise spec.error(section, key, f"unknown key {key!r} in [{section}]; "
                                               f"expected one of {', '.join(sorted(allowed))}")
    run = data.get("sweep", {})
    if "function" not in run:
        raise spec.error("sweep", None, "[sweep] needs function = 'module:function'")
    if not data.get("params") and not data.get("fixed"):
        raise spec.error("params", None, "the spec needs a [params] table of parameters")
    if run.get("backend", "serial") not in BACKENDS:
        raise spec.error("sweep", "backend", f"backend must be one of {', '.join(BACKENDS)}; "
                                             f"got {run['backend']!r}")
    workers = run.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)
                                or workers < 1):
        raise spec.error("sweep", "workers", f"workers must be an int >= 1; got {workers!r}")
    folder = path.parent
    return {
        "fn": _function(spec, run["function"]), "grid": _points(spec, data),
        "seeds": _seeds(spec, run.get("seeds", 10)), "backend": run.get("backend"),
        "cache": Path(os.path.normpath(folder / run["cache"])) if "cache" in run else None,
        "out": Path(os.path.normpath(folder / run["out"])) if "out" in run else None,
        "workers": run.get("workers"), "scheduler": run.get("scheduler"),
    }


def _write(table, out: Path) -> None:
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"out must end in .parquet or .csv; got {str(out)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if out.suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_spec(path, *, backend=None, scheduler=None, workers=None, out=None, progress=True):
    """Run the sweep a spec describes; command-line options override the spec.

    Parameters
    ----------
    path : str or Path
        The spec file.
    backend, scheduler, workers, out : optional
        Override the spec's ``[sweep]`` values; a ``scheduler`` address implies ``dask``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    (pandas.DataFrame, Path or None)
        The result table and where it was written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "exp_cell.py").write_text("def cell(x, seed):\\n    return {'y': x * seed}\\n")
    >>> _ = (d / "s.toml").write_text('[sweep]\\nfunction = "exp_cell:cell"\\nseeds = [3]\\n'
    ...                               '[params]\\nx = [4, 5]\\n')
    >>> table, out = run_spec(d / "s.toml", out=d / "r.csv", progress=False)
    >>> table[["x", "seed", "y"]].values.tolist(), out.name
    ([[4, 3, 12], [5, 3, 15]], 'r.csv')
    """
    args = load_spec(path)
    backend = backend or args["backend"]
    scheduler = scheduler or args["scheduler"]
    out = Path(out) if out is not None else args["out"]
    if out is not None and out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"out must end in .parquet or .csv; got {str(out)!r}")
    client = None
    if scheduler is not None:
        if backend not in (None, "dask"):
            raise ValueError(f"--scheduler needs the dask backend; got backend={backend!r}")
        from dask.distributed import Client
        backend, client = "dask", Client(scheduler)
    backend = backend or "serial"
    try:
        table = sweep(args["fn"], args["grid"], seeds=args["seeds"], backend=backend,
                      client=client, cache=args["cache"], progress=progress,
                      workers=workers or args["workers"])
    finally:
        if client is not None:
            client.close()
    if out is not None:
        _write(table, out)
    return table, out
