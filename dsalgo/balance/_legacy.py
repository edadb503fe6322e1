"""The call forms of :func:`~dsalgo.balance.simulate` before the family contract, mapped
onto the new ones with a ``DeprecationWarning``:

- ``simulate("random", 4, 0.7, service)`` — the policy first, then ``servers``,
  ``utilization``, ``service`` — becomes ``simulate(4, policy="random", utilization=0.7,
  service=service)``;
- ``servers=4`` becomes ``n=4``, ``servers=[1, 1, 2]`` becomes ``n=3, speeds=[1, 1, 2]``;
- ``hop=0.01`` becomes ``network=sim.Network(latency=sim.Constant(0.01))``;
- ``until=500.0`` becomes ``duration=500.0``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import sim
from .._validate import check_int, check_number
from .policies import Policy

__all__ = ["legacy_call"]

_POSITIONAL = ("servers", "utilization", "service")


def _deprecated(forms: list[str]) -> None:
    if forms:
        warnings.warn(f"balance.simulate: {'; '.join(forms)}", DeprecationWarning,
                      stacklevel=4)


def _servers(servers) -> list[float]:
    """The speeds that ``servers`` (a count or a list of speeds) stood for."""
    if isinstance(servers, bool):
        raise TypeError(f"servers must be a number of servers or a list of speeds; got {servers!r}")
    if isinstance(servers, (int, np.integer)):
        return [1.0] * check_int("servers", servers, low=1)
    if isinstance(servers, (str, bytes)) or not hasattr(servers, "__iter__"):
        raise TypeError(f"servers must be a number of servers or a list of speeds; got {servers!r}")
    speeds = list(servers)
    if not speeds:
        raise ValueError("servers must be a count >= 1 or a non-empty list of speeds; got an "
                         "empty list")
    return [check_number(f"servers[{i}]", s, low=0.0, low_open=True) for i, s in enumerate(speeds)]


def _once(knobs: dict, name: str, value) -> None:
    if name in knobs:
        raise TypeError(f"balance.simulate got two values for {name!r}")
    knobs[name] = value


def legacy_call(n, args: tuple, network, duration, knobs: dict):
    """``(n, network, duration, knobs)`` with every old form mapped to the new one."""
    knobs, forms = dict(knobs), []
    if isinstance(n, (str, Policy)):
        forms.append("the policy as first positional argument is deprecated; use "
                     "simulate(n, policy=...) with n the number of backends")
        if len(args) > len(_POSITIONAL):
            raise TypeError(f"balance.simulate takes at most 4 positional arguments in its old "
                            f"form (policy, servers, utilization, service); got {1 + len(args)}")
        _once(knobs, "policy", n)
        for name, value in zip(_POSITIONAL, args):
            _once(knobs, name, value)
        n = None
    elif args:
        raise TypeError(f"balance.simulate takes one positional argument, n (the number of "
                        f"backends); pass the rest as keywords; got {1 + len(args)} positional")
    if "servers" in knobs:
        forms.append("servers= is deprecated; use n= (the number of backends) and speeds= "
                     "(their relative speeds)")
        speeds = _servers(knobs.pop("servers"))
        if n is not None and n != 4 and n != len(speeds):
            raise TypeError(f"balance.simulate got n={n!r} and servers for {len(speeds)} "
                            f"backends; give n only")
        n = len(speeds)
        if any(s != 1.0 for s in speeds):
            _once(knobs, "speeds", speeds)
    if "hop" in knobs:
        forms.append("hop= is deprecated; use network=sim.Network(latency=sim.Constant(hop))")
        hop = check_number("hop", knobs.pop("hop"), low=0.0)
        if network is not None:
            raise TypeError("balance.simulate got network= and hop=; give network only")
        network = sim.Network(latency=sim.Constant(hop))
    if "until" in knobs:
        forms.append("until= is deprecated; use duration=")
        until = check_number("until", knobs.pop("until"), low=0.0, low_open=True)
        if duration is not None:
            raise TypeError("balance.simulate got duration= and until=; give duration only")
        duration = until
    _deprecated(forms)
    return (4 if n is None else n), network, duration, knobs
