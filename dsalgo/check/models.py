"""Sequential specifications for the linearizability checker.

A linearizability checker asks one question of an object: *could this operation, applied
to this state, have returned what it returned, and what is the state afterwards?*  That
question is the object's sequential specification, and Herlihy & Wing (1990) take it as
given.  Here it is a small object with two methods, in the shape Porcupine
(``porcupine/model.go``: ``Init``, ``Step``) and Knossos (``knossos.model``: ``step``) use:

- :meth:`Model.init` returns the initial state (hashable: the checker caches
  ``(linearized set, state)`` pairs);
- :meth:`Model.step` takes a state and one operation and returns ``(ok, new_state)``.

An operation reaches :meth:`Model.step` as ``(f, value, result, status)``: ``status`` is
``"ok"`` (it took effect and ``result`` is what came back), ``"fail"`` (it definitely took
no effect; a failed ``cas`` still tells us that the compare failed) or ``"info"`` (the
outcome is unknown: ``result`` is meaningless and the model must accept any outcome).
Operations that can neither change nor observe the state (an ``info`` read, a failed
``put``) are dropped before the search by :meth:`Model.keep`.

The names follow the project's key-value convention (``get``/``put``/``cas``, ``cas``
value ``[old, new]``); the Jepsen names ``read``/``write`` are accepted as aliases.  Key-
value models set :attr:`Model.partition_by` to ``"key"``: each key is an independent
register, so the checker may check each key on its own (Horn & Kroening 2015,
P-compositionality).  Simplifications: models are deterministic (one successor state per
operation), and values are compared with ``==`` after lists are frozen into tuples.

To add a model, subclass :class:`Model`, set ``name`` and ``operations`` and implement
``init`` and ``step``.
"""

from __future__ import annotations

import math

from .._validate import check_choice

__all__ = ["ALIASES", "KV", "MODELS", "CASRegister", "Model", "Register", "get_model"]

#: Jepsen/Knossos operation names and the project's equivalents.
ALIASES = {"read": "get", "write": "put"}


def freeze(value):
    """A hashable version of ``value``: lists become tuples, sets frozensets and mappings
    frozensets of ``(key, value)`` pairs (recursively); NaN becomes None.

    The checker caches states, so they must be hashable; freezing keeps ``==`` as it was
    (two dicts are equal exactly when their frozen item sets are).

    Examples
    --------
    >>> freeze([1, [2, 3]])
    (1, (2, 3))
    >>> freeze(float("nan")) is None
    True
    >>> freeze({"a": [1]}) == freeze({"a": (1,)}), hash(freeze({1, 2})) == hash(frozenset({1, 2}))
    (True, True)
    """
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return frozenset((freeze(k), freeze(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars/arrays
        return freeze(value.tolist())
    return value


def _register_step(state, f, value, result, status):
    """The step of every built-in model, in one function: the search calls it for each
    candidate, and one call is cheaper than a chain of ``super()`` calls.  The checker has
    already rejected operations a model does not list in ``operations``."""
    if f == "get":
        return result == state, state
    if f == "put":
        return True, value               # status ok or info: both take effect here
    if f == "cas":
        old, new = value
        if status == "ok":
            return (True, new) if state == old else (False, state)
        if status == "fail":
            return state != old, state
        return True, new if state == old else state
    return True, value if state is None else state + value       # append


class Model:
    """Base class of sequential specifications (see the module essay).

    Attributes
    ----------
    name : str
        Short name used in verdicts.
    operations : tuple of str
        The ``f`` names the model understands (after :data:`ALIASES`).
    read_only : tuple of str
        Operations that never change the state; an ``info`` one is dropped.
    partition_by : str or None
        A history column whose values are independent objects (``"key"``), or None.

    Examples
    --------
    >>> class Counter(Model):
    ...     name, operations, read_only = "counter", ("add", "get"), ("get",)
    ...     def init(self):
    ...         return 0
    ...     def step(self, state, f, value, result, status):
    ...         if f == "add":
    ...             return True, state + value
    ...         return status == "info" or result == state, state
    >>> Counter().step(0, "add", 2, None, "ok")
    (True, 2)
    """

    name = "model"
    operations: tuple = ()
    read_only: tuple = ("get",)
    partition_by: str | None = None

    def init(self):
        """The initial state (hashable)."""
        raise NotImplementedError

    def step(self, state, f, value, result, status):
        """Apply one operation: ``(ok, new_state)``; ``ok`` False if it cannot happen here."""
        raise NotImplementedError

    def keep(self, f, status) -> bool:
        """Whether an operation with this ``f`` and ``status`` constrains the history.

        By default only successful operations and ``info`` operations that may have
        changed the state are kept; failed operations had no effect and are dropped.
        """
        if status == "ok":
            return True
        return status == "info" and f not in self.read_only

    def changes_state(self, f, status) -> bool:
        """Whether the operation may change the state (False: it only observes it).

        The checker linearizes consistent observers greedily, so this must be False only
        for operations that leave *every* state unchanged: reads and failed operations.
        """
        return not (f in self.read_only or status == "fail")

    def describe(self, state) -> str:
        """A short human description of a state, for explanations."""
        return repr(state)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Register(Model):
    """A read/write register: ``get`` returns the last value ``put`` (``initial`` before any).

    Parameters
    ----------
    initial : object, optional
        The value before any write (``None``: a ``get`` of an absent value returns None).

    Examples
    --------
    >>> r = Register()
    >>> ok, s = r.step(r.init(), "put", 3, None, "ok")
    >>> r.step(s, "get", None, 3, "ok"), r.step(s, "get", None, 4, "ok")
    ((True, 3), (False, 3))
    """

    name = "register"
    operations = ("get", "put")

    def __init__(self, initial=None):
        self.initial = freeze(initial)

    def init(self):
        return self.initial

    step = staticmethod(_register_step)

    def __repr__(self):
        return f"{type(self).__name__}(initial={self.initial!r})"


class CASRegister(Register):
    """A register with compare-and-set, as in Jepsen's etcd and Porcupine's etcd model.

    ``cas`` takes ``[old, new]``: when the state equals ``old`` it becomes ``new`` and the
    operation completes ``ok``; otherwise nothing changes and it completes ``fail`` (so a
    failed ``cas`` is kept: it says the state was not ``old``).  An ``info`` cas may do
    either.

    Examples
    --------
    >>> m = CASRegister(initial=0)
    >>> m.step(0, "cas", (0, 5), None, "ok"), m.step(0, "cas", (1, 5), None, "fail")
    ((True, 5), (True, 0))
    >>> m.step(0, "cas", (1, 5), None, "ok")
    (False, 0)
    """

    name = "cas-register"
    operations = ("get", "put", "cas")

    def keep(self, f, status):
        return super().keep(f, status) or (f == "cas" and status == "fail")

    step = staticmethod(_register_step)


class KV(CASRegister):
    """A key-value store: one independent :class:`CASRegister` per key, plus ``append``.

    ``append`` concatenates its value to the current one (an absent value counts as
    empty).  Because keys are independent, ``partition_by = "key"`` and the checker checks
    each key on its own.

    Parameters
    ----------
    initial : object, optional
        The value of every key before any write.  Porcupine's ``kv`` test data uses ``""``.

    Examples
    --------
    >>> m = KV(initial="")
    >>> m.step("x 1 y", "append", "x 2 y", None, "ok")
    (True, 'x 1 yx 2 y')
    """

    name = "kv"
    operations = ("get", "put", "cas", "append")
    partition_by = "key"

    step = staticmethod(_register_step)


#: Models by name, for ``linearizable(history, model="…")``.
MODELS = {"register": Register, "cas-register": CASRegister, "kv": KV}


def get_model(model) -> Model:
    """A :class:`Model` from a name in :data:`MODELS` or a model instance.

    Examples
    --------
    >>> get_model("kv")
    KV(initial=None)
    >>> get_model("queue")
    Traceback (most recent call last):
    ...
    ValueError: model must be one of 'register', 'cas-register', 'kv'; got 'queue'
    """
    if isinstance(model, Model):
        return model
    if isinstance(model, type) and issubclass(model, Model):
        return model()
    if not isinstance(model, str):
        raise TypeError(f"model must be a model name ({', '.join(map(repr, MODELS))}) or a "
                        f"dsalgo.check.models.Model; got {model!r} of type "
                        f"{type(model).__name__}")
    return MODELS[check_choice("model", model, MODELS)]()
