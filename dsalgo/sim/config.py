"""Kernel configuration as values: one frozen, self-validating dataclass per family.

Every knob of a family is one field of its :class:`Config` subclass, declared with
:func:`knob` — its default, a one-line description and how to validate it — so adding a
knob is one edit: the signature of ``simulate`` (``**knobs``), the documentation
(:meth:`Config.describe`), the validation and ``run.params`` all follow from the field.

Cross-field rules (a heartbeat shorter than the election timeout, say) go in
:meth:`Config.validate`.  :meth:`Config.to_params` gives a JSON-safe dict, which is what
``run.params`` records and what checkers read.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping

from .._validate import check_bool, check_choice, check_int, check_number, check_range

__all__ = ["Config", "checks", "jsonable", "knob", "split_knobs"]


def knob(default, doc: str, check=None):
    """A :class:`Config` field: ``default``, a one-line ``doc`` and a ``check(name, value)``
    that returns the value normalised or raises ``ValueError``/``TypeError``.

    Examples
    --------
    >>> import dataclasses
    >>> @dataclasses.dataclass(frozen=True)
    ... class Toy(Config):
    ...     ttl: float = knob(1.0, "Lock time to live, seconds.", checks.positive)
    >>> Toy(ttl=2).ttl
    2.0
    >>> Toy(ttl=0)
    Traceback (most recent call last):
    ...
    ValueError: ttl must be > 0; got 0.0
    """
    meta = {"doc": doc, "check": check}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def jsonable(value):
    """``value`` as JSON-safe data: tuples become lists, sets sorted lists, other objects
    their ``repr``.

    Examples
    --------
    >>> jsonable({"a": (1, 2), "b": frozenset({"y", "x"}), "c": None})
    {'a': [1, 2], 'b': ['x', 'y'], 'c': None}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return v if math.isfinite(v) else repr(v)
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of the family configurations: frozen, validated once, recorded in ``run.params``.

    A subclass is a frozen dataclass whose fields are declared with :func:`knob`.

    Examples
    --------
    >>> import dataclasses
    >>> @dataclasses.dataclass(frozen=True)
    ... class Toy(Config):
    ...     n_ops: int = knob(3, "Operations per client.", checks.integer(low=0))
    ...     mode: str = knob("closed", "Closed or open loop.", checks.choice("closed", "open"))
    >>> Toy(n_ops=5).to_params()
    {'n_ops': 5, 'mode': 'closed'}
    >>> print(Toy.describe())
    n_ops : int = 3
        Operations per client.
    mode : str = 'closed'
        Closed or open loop.
    """

    def __post_init__(self):
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(f.name, getattr(self, f.name)))
        self.validate()

    def validate(self) -> None:
        """Cross-field rules; raise ``ValueError`` naming the parameter.  None by default."""

    @classmethod
    def knobs(cls) -> dict:
        """Knob name → ``(default, one-line doc)``, in declaration order."""
        out = {}
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
            out[f.name] = (default, f.metadata.get("doc", ""))
        return out

    @classmethod
    def describe(cls) -> str:
        """The knobs as a numpydoc parameter list."""
        lines = []
        for f in dataclasses.fields(cls):
            default, doc = cls.knobs()[f.name]
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            lines += [f"{f.name} : {kind} = {default!r}", f"    {doc}"]
        return "\n".join(lines)

    def to_params(self) -> dict:
        """The knobs as a JSON-safe dict (what ``run.params`` records)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_params(cls, params: Mapping):
        """Rebuild a config from ``run.params`` (keys that are not knobs are ignored; lists
        come back as the tuples the checks make of them)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in names})

    def replace(self, **changes):
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def split_knobs(knobs: Mapping, *configs) -> list[dict]:
    """Split keyword arguments among ``configs`` (Config classes) by field name.

    Raises ``TypeError`` for a keyword no config has, listing what is accepted.

    Examples
    --------
    >>> import dataclasses
    >>> @dataclasses.dataclass(frozen=True)
    ... class A(Config):
    ...     x: int = knob(1, "x.")
    >>> split_knobs({"x": 2}, A)
    [{'x': 2}]
    >>> split_knobs({"y": 2}, A)
    Traceback (most recent call last):
    ...
    TypeError: unknown parameter 'y'; accepted: x
    """
    out = [{} for _ in configs]
    owners = {}
    for i, cfg in enumerate(configs):
        for f in dataclasses.fields(cfg):
            owners.setdefault(f.name, i)
    for k, v in knobs.items():
        if k not in owners:
            raise TypeError(f"unknown parameter {k!r}; accepted: {', '.join(owners)}")
        out[owners[k]][k] = v
    return out


class checks:
    """Validators for :func:`knob`: each is ``check(name, value) -> value``.

    Examples
    --------
    >>> checks.positive("ttl", 2)
    2.0
    >>> checks.optional(checks.positive)("timeout", None) is None
    True
    >>> checks.bugs({"b1": "…"})("bugs", ["b1"])
    frozenset({'b1'})
    """

    @staticmethod
    def positive(name, value):
        return check_number(name, value, low=0.0, low_open=True)

    @staticmethod
    def non_negative(name, value):
        return check_number(name, value, low=0.0)

    @staticmethod
    def probability(name, value):
        return check_number(name, value, low=0.0, high=1.0)

    @staticmethod
    def boolean(name, value):
        return check_bool(name, value)

    @staticmethod
    def integer(low=None, high=None):
        return lambda name, value: check_int(name, value, low=low, high=high)

    @staticmethod
    def number(low=None, high=None, low_open=False):
        return lambda name, value: check_number(name, value, low=low, high=high,
                                                low_open=low_open)

    @staticmethod
    def choice(*options):
        return lambda name, value: check_choice(name, value, options)

    @staticmethod
    def interval(low=0.0, low_open=False):
        """A number or a ``(low, high)`` pair; returns the pair as a tuple."""
        return lambda name, value: check_range(name, value, low=low, low_open=low_open)

    @staticmethod
    def optional(check):
        return lambda name, value: None if value is None else check(name, value)

    @staticmethod
    def bugs(known: Mapping | Iterable):
        """A collection of bug names from ``known``; returns a frozenset."""
        known = list(known)

        def check(name, value):
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise TypeError(f"{name} must be a collection of bug names "
                                f"({', '.join(known) or 'none defined'}); got {value!r}")
            value = frozenset(value)
            for b in sorted(value, key=repr):
                check_choice(f"{name} item", b, known)
            return value
        return check

    @staticmethod
    def string(name, value):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty str; got {value!r}")
        return value

    @staticmethod
    def mapping(name, value):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict; got {value!r}")
        return dict(value)
