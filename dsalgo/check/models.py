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

**Semantics.**  Two sets of rules are in use for the outcomes of real histories, and they
disagree on the same lines; :data:`SEMANTICS` names them and
:func:`dsalgo.check.linearizable` takes ``semantics=``:

- ``"porcupine"`` (Porcupine's etcd model, the rules of the etcd logs): a failed ``cas``
  took no effect *and observed that the compare failed*; a ``get`` that returned nil saw
  an absent value (the register is nil);
- ``"knossos"`` (Knossos and Jepsen's EDN histories): a failed operation never happened
  (it is dropped whatever it is); a ``get`` that returned nil is a read whose value is
  unknown (it is dropped too; inside a ``txn``, a nil read is unconstrained).

Where they differ, in two lines: with the register at 0, ``cas [0 1] :fail`` is
impossible under ``"porcupine"`` (the compare could not fail) and harmless under
``"knossos"``; a ``get`` returning nil after ``put 1`` is a violation under
``"porcupine"`` and says nothing under ``"knossos"``.  The models apply the rules through
:attr:`Model.semantics`, which the checker sets on a copy (:meth:`Model.with_semantics`).

To add a model, subclass :class:`Model`, set ``name`` and ``operations`` and implement
``init`` and ``step``.
"""

from __future__ import annotations

import copy
import math
from copyreg import dispatch_table

from .._validate import check_choice

__all__ = ["ALIASES", "KV", "MODELS", "SEMANTICS", "CASRegister", "Model", "MultiRegister",
           "Register", "get_model"]

#: The named rules for outcomes (see the module essay), with one line each.
SEMANTICS = {
    "porcupine": "etcd rules: a failed cas observed that the compare failed; a nil read saw "
                 "an absent value",
    "knossos": "Knossos rules: a failed operation did not happen; a nil read is unknown",
}

_ATOMIC = frozenset((int, str, bool, type(None)))

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
    t = type(value)
    if t in _ATOMIC:
        return value
    if t is list or t is tuple:
        return tuple([v if type(v) in _ATOMIC else freeze(v) for v in value])
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
    #: The rules this instance follows (a key of :data:`SEMANTICS`), or None: the
    #: checker's ``semantics=`` or the history's decide.
    semantics: str | None = None

    def with_semantics(self, semantics: str):
        """A copy of this model that follows ``semantics`` (``"porcupine"``/``"knossos"``).

        Examples
        --------
        >>> m = CASRegister().with_semantics("knossos")
        >>> m.semantics, m.keep("cas", "fail")
        ('knossos', False)
        """
        semantics = check_choice("semantics", semantics, SEMANTICS)
        if semantics == self.semantics:
            return self
        cls = type(self)
        if cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__ \
                and cls.__getstate__ is object.__getstate__ and cls not in dispatch_table \
                and not hasattr(cls, "__slots__") and not hasattr(cls, "__copy__") \
                and not hasattr(cls, "__setstate__"):
            # a plain instance: what copy.copy would do, without its dispatch
            other = cls.__new__(cls)
            other.__dict__.update(self.__dict__)
        else:
            other = copy.copy(self)
        other.semantics = semantics
        return other

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
        sem = "" if self.semantics is None else f", semantics={self.semantics!r}"
        return f"{type(self).__name__}(initial={self.initial!r}{sem})"


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
        return super().keep(f, status) or (f == "cas" and status == "fail"
                                            and self.semantics != "knossos")

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


_MICRO = {"read": "r", "r": "r", "get": "r", "write": "w", "w": "w", "put": "w"}


class MultiRegister(Model):
    """Several registers read and written together in transactions (Knossos's
    ``multi-register``).

    An operation is ``f="txn"`` whose value is a list of micro-operations ``[f, k, v]``
    (``f`` is ``read``/``r`` or ``write``/``w``); ``result`` is the same list as it
    completed, with the values the reads returned.  The reader keeps both.  A txn applies
    its micro-operations in order; it is possible when every read saw the current value of
    its register.  A nil read is unknown under ``"knossos"`` rules (the default of EDN
    histories) and saw an absent register under ``"porcupine"``; an ``info`` txn (result
    unknown) may apply its writes, its reads say nothing.

    Parameters
    ----------
    initial : mapping, optional
        Register values before any write (absent registers are nil).

    Examples
    --------
    >>> m = MultiRegister(initial={"x": 0})
    >>> ok, s = m.step(m.init(), "txn", [["w", "x", 1]], [["w", "x", 1]], "ok")
    >>> ok, m.describe(s)
    (True, '{x: 1}')
    >>> m.step(s, "txn", [["r", "x", None]], [["r", "x", 2]], "ok")[0]
    False
    """

    name = "multi-register"
    operations = ("txn",)
    read_only = ()

    def __init__(self, initial=None):
        if initial is not None and not isinstance(initial, dict):
            raise TypeError(f"initial must be a mapping of register to value or None; got "
                            f"{initial!r}")
        self.initial = tuple(sorted(((freeze(k), freeze(v)) for k, v in
                                     (initial or {}).items()), key=repr))

    def init(self):
        return self.initial

    def step(self, state, f, value, result, status):
        regs = dict(state)
        micro = result if status == "ok" and result is not None else value
        if not isinstance(micro, (tuple, list)):
            return False, state
        unknown_nil = self.semantics == "knossos"
        for m in micro:
            if not (isinstance(m, (tuple, list)) and len(m) == 3 and m[0] in _MICRO):
                raise ValueError(f"a txn micro-operation must be [f, register, value] with "
                                 f"f read/r or write/w; got {m!r}")
            kind, k, v = _MICRO[m[0]], m[1], m[2]
            if kind == "w":
                regs[k] = v
            elif status == "ok" and not (v is None and unknown_nil) and regs.get(k) != v:
                return False, state
        return True, tuple(sorted(regs.items(), key=repr))

    def changes_state(self, f, status):
        return status != "fail"

    def describe(self, state):
        return "{" + ", ".join(f"{k}: {v!r}" for k, v in state) + "}"

    def __repr__(self):
        return f"{type(self).__name__}(initial={dict(self.initial)!r})"


#: Models by name, for ``linearizable(history, model="…")``.
MODELS = {"register": Register, "cas-register": CASRegister, "kv": KV,
          "multi-register": MultiRegister}


def get_model(model) -> Model:
    """A :class:`Model` from a name in :data:`MODELS` or a model instance.

    Examples
    --------
    >>> get_model("kv")
    KV(initial=None)
    >>> get_model("queue")
    Traceback (most recent call last):
    ...
    ValueError: model must be one of 'register', 'cas-register', 'kv', 'multi-register'; got 'queue'
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
