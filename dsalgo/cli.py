"""The ``dsalgo`` command line: ``simulate``, ``sweep`` and ``report``.

``python -m dsalgo simulate raft --n 5 --duration 10 --out runs/raft`` runs one simulation
and saves its tables (without ``--out`` it prints the run's summary; ``--check`` adds the
family's verdict); ``python -m dsalgo sweep SPEC.toml`` runs a parameter sweep described in
a TOML file; ``python -m dsalgo report`` executes the notebooks into HTML.  The families
are those of :data:`dsalgo.families.FAMILIES`.  Each sub-command's ``--help`` explains its
options.  Errors in the arguments are printed as one line naming what was wrong and the
command exits with status 2; a report with a failing notebook, a sweep with a failing cell
or a run that fails ``--check`` exits with status 1.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import warnings
from pathlib import Path

from .families import FAMILIES

__all__ = ["main", "parse_bugs", "parse_latency", "parse_nemesis", "parse_params",
           "resolve_family"]


def __getattr__(name):
    # ALGORITHMS was the CLI's own list of families; the one registry is dsalgo.families
    if name == "ALGORITHMS":
        warnings.warn("dsalgo.cli.ALGORITHMS is deprecated; use dsalgo.families.FAMILIES",
                      DeprecationWarning, stacklevel=2)
        return {f: FAMILIES.module_name(f) for f in FAMILIES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UsageError(Exception):
    """A bad command-line argument; printed as one line, exit status 2."""


def resolve_family(name: str):
    """Return the module of family ``name`` (from :data:`dsalgo.families.FAMILIES`).

    Parameters
    ----------
    name : str
        A family name: one of ``raft``, ``paxos``, ``redlock``, ``zookeeper``, ``twopc``,
        ``saga``, ``balance``.

    Returns
    -------
    module
        Its ``simulate``, ``check``, ``Config``, ``BUGS`` and ``SCENARIOS``.

    Raises
    ------
    ValueError
        For an unknown name, or when the family's module is not installed.

    Examples
    --------
    >>> resolve_family("raft").__name__
    'dsalgo.raft'
    >>> resolve_family("quicksort")
    Traceback (most recent call last):
    ...
    ValueError: family must be one of 'raft', 'paxos', 'redlock', 'zookeeper', 'twopc', \
'saga', 'balance'; got 'quicksort'
    """
    if not isinstance(name, str) or name not in list(FAMILIES):  # names only: no import
        accepted = ", ".join(repr(a) for a in FAMILIES)
        raise ValueError(f"family must be one of {accepted}; got {name!r}")
    module_name = FAMILIES.module_name(name)
    try:
        module = FAMILIES[name]
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ValueError(f"family {name!r} is not available in this installation: "
                             f"module {module_name} is missing") from None
        raise
    if not callable(getattr(module, "simulate", None)):
        raise ValueError(  # noqa: TRY004 - a missing function, not a wrong argument type
            f"family {name!r}: module {module_name} has no simulate() function")
    return module


def resolve_algorithm(name: str):
    """Deprecated: ``resolve_family(name).simulate``."""
    warnings.warn("dsalgo.cli.resolve_algorithm is deprecated; use "
                  "dsalgo.cli.resolve_family(name).simulate", DeprecationWarning, stacklevel=2)
    return resolve_family(name).simulate


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        if low in ("none", "null"):
            return None
        return text


def parse_params(tokens) -> dict:
    """Turn ``--name value`` / ``--name=value`` tokens into keyword arguments.

    Dashes in names become underscores; values are read as Python literals where they
    parse (``5``, ``0.2``, ``0.15,0.3`` → a tuple, ``true``) and kept as strings otherwise.

    Examples
    --------
    >>> parse_params(["--n", "5", "--election-timeout=0.15,0.3", "--policy", "p2c"])
    {'n': 5, 'election_timeout': (0.15, 0.3), 'policy': 'p2c'}
    """
    params, tokens, i = {}, list(tokens), 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--") or tok == "--":
            raise UsageError(f"expected --name value, got {tok!r}")
        name, eq, value = tok[2:].partition("=")
        if not eq:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise UsageError(f"--{name} needs a value")
            value = tokens[i + 1]
            i += 1
        i += 1
        key = name.replace("-", "_")
        if not key.isidentifier():
            raise UsageError(f"--{name} is not a valid parameter name")
        params[key] = _literal(value)
    return params


_LATENCY_MODELS = {"const": ("Constant", 1), "uniform": ("Uniform", 2), "exp": ("Exponential", 1),
                   "lognormal": ("LogNormal", 2)}


def parse_latency(text: str):
    """A latency model from ``KIND:ARGS`` in milliseconds: ``const:10``, ``uniform:8,12``,
    ``exp:5`` (mean), ``lognormal:2,0.6`` (median, sigma).

    Examples
    --------
    >>> parse_latency("uniform:8,12")
    Uniform(low=0.008, high=0.012)
    >>> parse_latency("gauss:3")
    Traceback (most recent call last):
    ...
    dsalgo.cli.UsageError: --latency must be KIND:MS with KIND one of const, uniform, exp, \
lognormal (e.g. exp:5 or uniform:8,12); got 'gauss:3'
    """
    from . import sim

    kind, _, args = text.partition(":")
    hint = ("--latency must be KIND:MS with KIND one of " + ", ".join(_LATENCY_MODELS)
            + f" (e.g. exp:5 or uniform:8,12); got {text!r}")
    if kind not in _LATENCY_MODELS or not args:
        raise UsageError(hint)
    cls, arity = _LATENCY_MODELS[kind]
    try:
        values = [float(v) for v in args.split(",")]
    except ValueError:
        raise UsageError(hint) from None
    if len(values) != arity:
        raise UsageError(f"--latency {kind} takes {arity} number(s); got {text!r}")
    if kind == "lognormal":
        values = [values[0] / 1000, values[1]]
    else:
        values = [v / 1000 for v in values]
    try:
        return getattr(sim, cls)(*values)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--latency {text!r}: {exc}") from None


def parse_nemesis(text: str):
    """A :class:`dsalgo.sim.Nemesis` from ``crash=0.5,partition=0.3,...`` or a TOML/JSON file
    holding those keys (rates per second; ``mean_duration``, ``max_crashed``, ``start``,
    ``end`` too).

    Examples
    --------
    >>> parse_nemesis("crash=0.5,partition=0.3,max_crashed=1").rates()
    {'crash': 0.5, 'partition': 0.3, 'pause': 0.0, 'clock_jump': 0.0}
    >>> parse_nemesis("crash=lots")
    Traceback (most recent call last):
    ...
    dsalgo.cli.UsageError: --nemesis crash=lots: the value must be a number
    >>> parse_nemesis("crash_point=2,crash_point_after=2").crash_point_after
    2
    """
    import dataclasses
    import json

    from . import sim

    path = Path(text)
    if path.suffix in (".toml", ".json") and path.is_file():
        if path.suffix == ".json":
            spec = json.loads(path.read_text())
        else:
            import tomllib
            spec = tomllib.loads(path.read_text())
        spec = spec.get("nemesis", spec)
    elif path.suffix in (".toml", ".json"):
        raise UsageError(f"--nemesis file {text!r} does not exist")
    else:
        spec = {}
        types = {f.name: str(f.type) for f in dataclasses.fields(sim.Nemesis)}
        for item in filter(None, text.split(",")):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq:
                raise UsageError(f"--nemesis takes KIND=RATE pairs (crash=0.5,partition=0.3) "
                                 f"or a .toml/.json file; got {item!r}")
            kind = types.get(key, "float")
            if kind.startswith("tuple"):
                raise UsageError(f"--nemesis {item}: {key} takes a list; give it in a "
                                 f".toml/.json file")
            whole = kind.startswith("int")         # max_crashed, crash_point_after
            try:
                spec[key] = int(value) if whole else float(value)
            except ValueError:
                what = "a whole number" if whole else "a number"
                raise UsageError(f"--nemesis {item}: the value must be {what}") from None
    fields = [f.name for f in dataclasses.fields(sim.Nemesis)]
    unknown = [k for k in spec if k not in fields]
    if unknown:
        raise UsageError(f"--nemesis has no key {unknown[0]!r}; accepted: {', '.join(fields)}")
    try:
        return sim.Nemesis(**spec)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--nemesis {text!r}: {exc}") from None


def parse_bugs(text: str, module) -> set:
    """``a,b`` → ``{"a", "b"}``, each checked against the family's ``BUGS``."""
    bugs = {b.strip() for b in text.split(",") if b.strip()}
    known = list(getattr(module, "BUGS", ()))
    for bug in sorted(bugs):
        if bug not in known:
            raise UsageError(f"--bugs: {bug!r} is not a bug of this family; accepted: "
                             f"{', '.join(known) or '(none)'}")
    return bugs



def _check_accepts(fn, params: dict, what: str) -> None:
    """Reject an unknown parameter with the accepted ones listed.  A family's ``simulate``
    takes ``**knobs`` and rejects unknown knobs itself (a ``TypeError`` naming them)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    names = [n for n, p in sig.parameters.items()
             if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for key in params:
        if key not in names:
            accepted = ", ".join("--" + n.replace("_", "-") for n in names)
            raise UsageError(f"{what} has no parameter --{key.replace('_', '-')}; "
                             f"accepted: {accepted}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _knob_groups(module) -> list:
    """``(title, Config class)`` for the family's ``Config`` and any other config class it
    exports (a workload's, say), from the registry's contract."""
    from .sim import Config

    groups = []
    main_config = getattr(module, "Config", None)
    if isinstance(main_config, type) and issubclass(main_config, Config):
        groups.append(("knobs (fields of Config)", main_config))
    for attr in sorted(vars(module)):
        value = getattr(module, attr)
        if (attr != "Config" and isinstance(value, type) and issubclass(value, Config)
                and value is not Config and value is not main_config):
            groups.append((f"knobs (fields of {attr})", value))
    return groups


_STANDARD_DOCS = {
    "n": "Number of servers.",
    "seed": "Seed of every random draw: same seed, same tables.",
    "duration": "Simulated seconds to run.",
    "network": "A dsalgo.sim.Network (latency, loss); the family's default when None.",
    "faults": "dsalgo.sim faults to inject (Crash, Partition, Nemesis, ...).",
    "record_messages": "Keep one row per message copy in run.messages.",
    "progress": "Show a progress bar over simulated time.",
}


def _describe_params(module, name: str) -> str:
    """The standard parameters of ``simulate`` with their defaults, then the family's knobs
    (from its ``Config``; from the signature for a module without one)."""
    fn = module.simulate
    params = inspect.signature(fn).parameters
    lines = [f"{name}.simulate parameters (pass as --name value):"]

    def line(pname, default, doc=""):
        text = f"  {_flag(pname)}" + ("" if default is inspect.Parameter.empty
                                      else f" (default {default!r})")
        return text + (f"  {doc}" if doc else "")

    groups = _knob_groups(module)
    docs = {k: doc for _, config in groups for k, (_, doc) in config.knobs().items()}
    docs = {**_STANDARD_DOCS, **docs}
    explicit = [p for p in params.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    lines += [line(p.name, p.default, docs.get(p.name, "")) for p in explicit]
    shown = {p.name for p in explicit}
    for title, config in groups:
        knobs = {k: v for k, v in config.knobs().items() if k not in shown}
        shown |= set(knobs)
        if knobs:
            lines.append(f"{title}:")
            lines += [line(k, default, doc) for k, (default, doc) in knobs.items()]
    return "\n".join(lines)


def _cmd_simulate(args, extra) -> int:
    try:
        module = resolve_family(args.algorithm)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    fn = module.simulate
    if args.list_params:
        print(_describe_params(module, args.algorithm))
        return 0
    params = parse_params(extra)
    for flag, key in (("--bugs", "bugs"), ("--nemesis", "faults"), ("--latency", "network")):
        if key in params:
            raise UsageError(f"give {key} with {flag} (see --help), not --{key}")
    if args.bugs is not None:
        params["bugs"] = parse_bugs(args.bugs, module)
    if args.nemesis is not None:
        params["faults"] = [parse_nemesis(args.nemesis)]
    if args.latency is not None or args.loss is not None:
        from . import sim

        loss = 0.0 if args.loss is None else args.loss
        if not 0.0 <= loss < 1.0:
            raise UsageError(f"--loss must be a probability in [0, 1); got {args.loss}")
        params["network"] = sim.Network(
            latency=parse_latency(args.latency) if args.latency else sim.Exponential(0.005),
            drop_rate=loss)
    _check_accepts(fn, params, f"{args.algorithm}.simulate")
    if args.progress and "progress" in inspect.signature(fn).parameters:
        params.setdefault("progress", True)
    run = fn(**params)
    if args.out is not None:
        path = run.save(args.out)
        print(f"saved {args.algorithm} run to {path}")
    print(run.summary().to_string())
    if args.check:
        verdict = module.check(run)
        print(verdict)
        return 0 if verdict else 1
    return 0


def _cmd_report(args, extra) -> int:
    from .report import build_report

    if extra:
        raise UsageError(f"unrecognised arguments: {' '.join(extra)}")
    # every argument is checked before the first notebook starts
    if args.workers < 1:
        raise UsageError(f"--workers must be an integer >= 1; got {args.workers}")
    if not args.timeout > 0 or args.timeout == float("inf"):
        raise UsageError(f"--timeout must be a number of seconds > 0; got {args.timeout}")
    if args.notebooks is not None and not Path(args.notebooks).is_dir():
        raise UsageError(f"--notebooks must be an existing folder; got {args.notebooks!r}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out must be a folder; {args.out!r} is a file")

    def finished(r):
        print(f"{r['status']:>6}  {r['seconds']:7.1f} s  {r['notebook']}  ({r['title']})",
              flush=True)

    table = build_report(args.notebooks, args.out, quick=args.quick, workers=args.workers,
                         timeout=args.timeout, on_result=finished)
    failed = table[table.status != "ok"]
    print(f"{len(table) - len(failed)}/{len(table)} notebooks ok; index: "
          f"{Path(args.out) / 'index.html'}")
    for r in failed.itertuples(index=False):
        print(f"\nFAILED {r.notebook}:\n{r.error}", file=sys.stderr)
    return 1 if len(failed) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dsalgo",
        description="dsalgo: simulate distributed algorithms, sweep their parameters and "
                    "render the notebooks into reports.",
        epilog="Run 'python -m dsalgo COMMAND --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sim = sub.add_parser(
        "simulate", help="run one simulation, print its summary, optionally save it",
        allow_abbrev=False,   # --n is a parameter of simulate(), not short for --nemesis
        description="Run FAMILY's simulate() once, print the run's summary and, with --out, "
                    "save the Run (messages, events, history, faults as Parquet).  Any other --name value pair is "
                    "passed to simulate() as a keyword argument: dashes become underscores "
                    "and values are read as Python literals (5, 0.2, 0.15,0.3 for a range, "
                    "true/false).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python -m dsalgo simulate raft --list-params\n"
               "  python -m dsalgo simulate raft --n 5 --duration 10 --seed 3 \\\n"
               "      --election-timeout 0.15,0.3 --out runs/raft\n"
               "  python -m dsalgo simulate raft --n 5 --duration 10 --check \\\n"
               "      --nemesis crash=0.5,partition=0.3 --latency exp:5 --loss 0.01\n"
               "  python -m dsalgo simulate redlock --bugs no_fencing --check")
    sim.add_argument("algorithm", metavar="FAMILY", help="one of: " + ", ".join(FAMILIES))
    sim.add_argument("--list-params", action="store_true",
                     help="list FAMILY's parameters and knobs with defaults, then exit")
    sim.add_argument("--out", metavar="DIR",
                     help="folder to save the run in (load it with dsalgo.sim.load_run); "
                          "without it the run's summary is printed and nothing is saved")
    sim.add_argument("--check", action="store_true",
                     help="check the run with FAMILY's checker and print the verdict "
                          "(exit status 1 if a property is violated)")
    sim.add_argument("--progress", action="store_true",
                     help="show a progress bar over simulated time")
    sim.add_argument("--nemesis", metavar="SPEC",
                     help="random faults: KIND=RATE pairs per second, e.g. "
                          "crash=0.5,partition=0.3 (also pause, clock_jump, mean_duration, "
                          "max_crashed, start, end), or a .toml/.json file with those keys")
    sim.add_argument("--latency", metavar="MODEL",
                     help="one-way latency in ms: const:10, uniform:8,12, exp:5 (mean) or "
                          "lognormal:2,0.6 (median, sigma)")
    sim.add_argument("--loss", type=float, metavar="P",
                     help="probability that a message is lost (with --latency or alone)")
    sim.add_argument("--bugs", metavar="A,B",
                     help="planted bugs to switch on, comma-separated (see the family's BUGS)")
    sim.set_defaults(handler=_cmd_simulate)

    sw = sub.add_parser(
        "sweep", help="run a parameter sweep described in a TOML file",
        description="Run the sweep described in SPEC (TOML): the function to call, the grid "
                    "or sampling design, the seeds and where to write results.  See "
                    "data/specs/example.toml for an annotated example.  Completed cells are "
                    "cached, so an interrupted sweep resumes where it stopped.",
        epilog="example: python -m dsalgo sweep data/specs/example.toml --backend processes")
    sw.add_argument("spec", metavar="SPEC.toml", help="the sweep specification")
    sw.add_argument("--backend", choices=["serial", "processes", "dask"],
                    help="where cells run (overrides the spec; default serial)")
    sw.add_argument("--workers", type=int, metavar="N",
                    help="processes backend: number of worker processes (default: all cores)")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="dask backend: address of a running scheduler, e.g. tcp://host:8786 "
                         "(default: a LocalCluster made for this sweep)")
    sw.add_argument("--out", metavar="FILE",
                    help="write the result table here (.parquet or .csv; overrides the spec)")
    sw.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bar")
    sw.set_defaults(handler=_cmd_sweep)

    rep = sub.add_parser(
        "report", help="execute every notebook and write HTML reports with an index",
        description="Execute every notebooks/*.ipynb with papermill (parameter quick), two "
                    "at a time, write one standalone HTML page per notebook with figures "
                    "embedded, and index.html linking them with title, status and run time. "
                    "Exits with status 1 if any notebook failed; the other pages are still "
                    "written.")
    rep.add_argument("--quick", action="store_true", help="run the notebooks' quick mode")
    rep.add_argument("--out", default="reports", metavar="DIR",
                     help="output folder (default: reports)")
    rep.add_argument("--notebooks", default=None, metavar="DIR",
                     help="folder of notebooks (default: the repository's notebooks/)")
    rep.add_argument("--workers", type=int, default=2, metavar="N",
                     help="notebooks executed at once (default: 2)")
    rep.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                     help="time allowed per cell (default: 900)")
    rep.set_defaults(handler=_cmd_report)
    return parser


def _cmd_sweep(args, extra) -> int:
    from .sweep.spec import run_spec

    if extra:
        raise UsageError(f"unrecognised arguments: {' '.join(extra)}")
    table, out = run_spec(args.spec, backend=args.backend, scheduler=args.scheduler,
                          workers=args.workers, out=args.out, progress=args.progress)
    failed = table[table["error"].notna()]
    print(f"{len(table)} rows, {len(failed)} failed cells" + (f"; written to {out}" if out else ""))
    if len(failed):
        shown = failed.drop(columns=["error", "wall_time"], errors="ignore").head(10)
        for (_, row), error in zip(shown.iterrows(), failed["error"].head(10)):
            cell = ", ".join(f"{k}={v!r}" for k, v in row.dropna().items())
            print(f"FAILED cell {cell}:\n{error}", file=sys.stderr)
        if len(failed) > 10:
            print(f"... and {len(failed) - 10} more failed cells", file=sys.stderr)
        return 1
    return 0



def main(argv=None) -> int:
    """Run the command line and return its exit status (0 ok, 1 failures, 2 bad usage).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (``sys.argv[1:]`` when omitted).

    Examples
    --------
    >>> import tempfile
    >>> empty = tempfile.mkdtemp()
    >>> main(["report", "--quick", "--notebooks", empty, "--out", empty + "/reports"])
    0/0 notebooks ok; index: ...index.html
    0
    """
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command != "simulate" and extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    try:
        return args.handler(args, extra)
    except (UsageError, ValueError, TypeError) as exc:
        # bad arguments or a malformed spec: one line naming the problem, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
