"""The one registry of algorithm families.

:data:`FAMILIES` maps a family's name to its module.  Every family has the same surface
(see :func:`check_contract`)::

    run = family.simulate(n, *, seed=0, duration=…, network=None, faults=(), bugs=(),
                          record_messages=True, progress=False, **knobs)
    family.check(run) -> Verdict       # every property, from the tables alone
    family.BUGS                        # {name: one-line description of the rule it breaks}
    family.SCENARIOS                   # {name: function returning a Run that shows a bug}
    family.Config                      # frozen dataclass: one field per knob

The command line, the soak, the benchmarks and the cross-family tests read this registry,
so adding a family is one entry here.  Modules are imported on first use.

Examples
--------
>>> from dsalgo.families import FAMILIES
>>> list(FAMILIES)
['raft', 'paxos', 'redlock', 'zookeeper', 'twopc', 'saga', 'balance']
>>> FAMILIES["raft"].__name__
'dsalgo.raft'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

__all__ = ["FAMILIES", "STANDARD_PARAMETERS", "check_contract", "family"]

_MODULES = {
    "raft": "dsalgo.raft",
    "paxos": "dsalgo.paxos",
    "redlock": "dsalgo.locks.redlock",
    "zookeeper": "dsalgo.locks.zookeeper",
    "twopc": "dsalgo.txn.twopc",
    "saga": "dsalgo.txn.saga",
    "balance": "dsalgo.balance",
}

#: The keyword parameters every family's ``simulate`` takes, besides ``n`` and its knobs.
STANDARD_PARAMETERS = ("seed", "duration", "network", "faults", "bugs", "record_messages",
                       "progress")


class _Registry(Mapping):
    """A read-only mapping name → module that imports each module on first use."""

    def __init__(self, modules: dict):
        self._modules = dict(modules)

    def __getitem__(self, name):
        if name not in self._modules:
            accepted = ", ".join(repr(a) for a in self._modules)
            raise KeyError(f"family must be one of {accepted}; got {name!r}")
        return importlib.import_module(self._modules[name])

    def __iter__(self):
        return iter(self._modules)

    def __len__(self):
        return len(self._modules)

    def __contains__(self, name):  # without importing anything
        return name in self._modules

    def module_name(self, name: str) -> str:
        """The dotted module name of family ``name`` (without importing it)."""
        return self._modules[name]

    def __repr__(self):
        return f"FAMILIES({', '.join(self._modules)})"


FAMILIES = _Registry(_MODULES)


def family(name: str):
    """The module of family ``name``, or a ``ValueError`` listing the families.

    Examples
    --------
    >>> family("raft").BUGS["commit_prior_term"][:40]
    'A leader counts replicas to commit an en'
    >>> family("quicksort")
    Traceback (most recent call last):
    ...
    ValueError: family must be one of 'raft', 'paxos', 'redlock', 'zookeeper', 'twopc', 'saga', 'balance'; got 'quicksort'
    """
    if not isinstance(name, str) or name not in _MODULES:
        accepted = ", ".join(repr(a) for a in _MODULES)
        raise ValueError(f"family must be one of {accepted}; got {name!r}")
    return FAMILIES[name]


def check_contract(module) -> list[str]:
    """What ``module`` lacks of the family contract (an empty list: nothing).

    Examples
    --------
    >>> check_contract(family("raft"))
    []
    """
    import dataclasses
    import inspect

    from .sim import Config
    problems = []
    for name in ("simulate", "check", "BUGS", "SCENARIOS", "Config"):
        if not hasattr(module, name):
            problems.append(f"no {name}")
    if problems:
        return problems
    params = inspect.signature(module.simulate).parameters
    names = list(params)
    if not names or names[0] != "n":
        problems.append(f"simulate's first parameter is {names[:1]}, not n")
    for p in STANDARD_PARAMETERS:
        if p not in params or params[p].kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"simulate has no keyword-only {p}")
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        problems.append("simulate takes no **knobs")
    if not (isinstance(module.Config, type) and issubclass(module.Config, Config)
            and dataclasses.is_dataclass(module.Config)):
        problems.append("Config is not a dsalgo.sim.Config dataclass")
    if not isinstance(module.BUGS, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in module.BUGS.items()):
        problems.append("BUGS is not a dict of name -> one-line description")
    if not isinstance(module.SCENARIOS, Mapping) or not all(
            callable(f) for f in module.SCENARIOS.values()):
        problems.append("SCENARIOS is not a dict of name -> callable")
    return problems
