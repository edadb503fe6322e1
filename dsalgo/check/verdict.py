"""The answer of every checker: which safety properties held, and where they did not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["KINDS", "Verdict", "VIOLATION_COLUMNS", "fair_from", "plain"]

#: What a property says: ``"safety"`` (nothing bad ever happens; one finite prefix shows a
#: violation) or ``"progress"`` (something good eventually happens, judged only under a
#: stated fairness condition: after the last fault heals and enough nodes are up and
#: connected for long enough).
KINDS = ("safety", "progress")

VIOLATION_COLUMNS = ["property", "time", "nodes", "detail"]


def log_position(t, clock) -> str | None:
    """``"line 86"`` or ``"position 86 in the file"`` for a time ``t`` of a history whose
    ``attrs["clock"]`` says it has no clock (``"line"`` or ``"file order"``); ``None`` when
    the times are seconds.

    Examples
    --------
    >>> log_position(86.0, "line"), log_position(3, "file order"), log_position(1.5, None)
    ('line 86', 'position 3 in the file', None)
    """
    if clock not in ("line", "file order"):
        return None
    at = int(t) if float(t).is_integer() else t    # line 1234567, not 1.23457e+06
    return f"line {at}" if clock == "line" else f"position {at} in the file"


class Verdict:
    """The outcome of checking a run or history.

    Truthy when every property checked holds.  ``status`` is ``"ok"``, ``"violated"`` or
    ``"unknown"`` (the checker could not decide, e.g. it ran out of time; an unknown
    verdict is falsy, since nothing was shown to hold).

    Parameters
    ----------
    properties : iterable of str
        The snake_case names of the properties checked.
    violations : DataFrame or iterable of dict, optional
        One row per violation with ``property, time, nodes, detail``.
    status : str, optional
        Force ``"unknown"``; otherwise derived from the violations.
    info : dict, optional
        Extra results a checker reports (counts, measured anomalies, explanations).
    kinds : dict, optional
        Property -> ``"safety"`` or ``"progress"`` (default ``"safety"``).  The views
        :attr:`safety` and :attr:`progress` split the verdict by kind; ``bool(verdict)``
        still means that every property checked holds.

    Examples
    --------
    >>> v = Verdict(["agreement"], [{"property": "agreement", "time": 1.5,
    ...                              "nodes": ("n1", "n2"), "detail": "slot 3: 'a' vs 'b'"}])
    >>> bool(v), v.status
    (False, 'violated')
    >>> print(v)
    1 violation of agreement (1 property checked): agreement at t=1.5s on n1, n2: slot 3: 'a' vs 'b'.
    >>> bool(Verdict(["agreement"]))
    True
    >>> w = Verdict(["agreement", "leader_progress"], [{"property": "leader_progress",
    ...             "time": 3.0, "nodes": (), "detail": "no leader 2s after the heal"}],
    ...             kinds={"leader_progress": "progress"})
    >>> bool(w), bool(w.safety), bool(w.progress), w.kinds["agreement"]
    (False, True, False, 'safety')
    """

    def __init__(self, properties: Iterable[str], violations=None, *, status: str | None = None,
                 info: Mapping | None = None, kinds: Mapping | None = None):
        self.properties = list(properties)
        self.kinds = (dict.fromkeys(self.properties, "safety") if not kinds
                      else _kinds(self.properties, kinds))
        if type(violations) is list and all(type(r) is dict for r in violations):
            # the common case (a checker's rows as plain dicts), without the
            # abstract-class checks
            unknown = {r.get("property") for r in violations}.difference(self.properties)
            if unknown:
                raise ValueError(f"violations name properties that were not checked: "
                                 f"{sorted(unknown)}")
            self._rows, self._df, n = list(violations), None, len(violations)
        else:
            if violations is not None and not isinstance(violations, pd.DataFrame):
                violations = list(violations)
                if not violations:
                    violations = None
                elif all(isinstance(r, Mapping) for r in violations):
                    unknown = {r.get("property") for r in violations} - set(self.properties)
                    if unknown:
                        raise ValueError(f"violations name properties that were not checked: "
                                         f"{sorted(unknown)}")
            if violations is None:
                self._rows, self._df, n = [], None, 0     # the table is built on first use
            elif isinstance(violations, list) and all(isinstance(r, Mapping)
                                                      for r in violations):
                self._rows, self._df, n = violations, None, len(violations)
            else:
                df = (violations.reset_index(drop=True) if isinstance(violations, pd.DataFrame)
                      else pd.DataFrame(violations, columns=VIOLATION_COLUMNS))
                self._rows, self._df, n = None, self._table(df), len(df)
        if status is None:
            status = "violated" if n else "ok"
        if status not in ("ok", "violated", "unknown"):
            raise ValueError(f"status must be 'ok', 'violated' or 'unknown'; got {status!r}")
        self.status = status
        self.info = dict(info or {})

    @classmethod
    def _from_rows(cls, properties: list, rows: list, status: str | None,
                   info: dict) -> Verdict:
        """What ``Verdict(properties, rows, status=status, info=info)`` makes, for a
        checker whose safety ``properties`` and violation ``rows`` (plain dicts naming only
        those properties) are right by construction: without checking them again, and
        keeping the lists and ``info`` given (the caller gives them up)."""
        v = cls.__new__(cls)
        v.properties = properties
        v.kinds = dict.fromkeys(properties, "safety")
        v._rows, v._df = rows, None
        v.status = status if status is not None else "violated" if rows else "ok"
        v.info = info
        return v

    def _table(self, df):
        missing = [c for c in VIOLATION_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"violations must have columns {VIOLATION_COLUMNS}; missing {missing}")
        unknown = set(df["property"]) - set(self.properties)
        if unknown:
            raise ValueError(f"violations name properties that were not checked: {sorted(unknown)}")
        df["time"] = df["time"].astype("float64")
        return df.sort_values("time", kind="stable", na_position="last").reset_index(drop=True)

    @property
    def violations(self) -> pd.DataFrame:
        """One row per violation (``property, time, nodes, detail``), sorted by time."""
        if self._df is None:
            if self._rows:
                df = pd.DataFrame(self._rows, columns=VIOLATION_COLUMNS)
            else:
                df = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in
                                   zip(VIOLATION_COLUMNS,
                                       ["object", "float64", "object", "object"])})
            self._df = self._table(df)
            self._rows = None
        return self._df

    def __bool__(self):
        return self.status == "ok"

    def holds(self, prop: str) -> bool:
        """Whether property ``prop`` held (it was checked and has no violation)."""
        if prop not in self.properties:
            raise ValueError(f"prop {prop!r} was not checked; checked: {self.properties}")
        if self._df is None:
            return self.status != "unknown" and all(r.get("property") != prop
                                                    for r in self._rows)
        return not (self.violations["property"] == prop).any() and self.status != "unknown"

    def __str__(self):
        n_props = len(self.properties)
        plural = "property" if n_props == 1 else "properties"
        if self.status == "unknown":
            why = self.info.get("reason", "the checker could not decide")
            return f"Unknown: {why} ({n_props} {plural}: {', '.join(self.properties)})."
        if self.status == "ok":
            return f"All {n_props} {plural} hold: {', '.join(self.properties)}."
        v = self.violations
        counts = v["property"].value_counts()
        head = ", ".join(f"{k}" if c == 1 else f"{k} ×{c}" for k, c in counts.items())
        first = v.iloc[0]
        nodes = first["nodes"]
        if isinstance(nodes, (list, tuple, set, frozenset)):
            nodes = ", ".join(map(str, nodes))
        t = first["time"]
        # a history read from a log that has no clock is timed in lines, not seconds
        when = "" if pd.isna(t) else f" at {log_position(t, self.info.get('clock')) or f't={t:.6g}s'}"
        where = f" on {nodes}" if nodes not in (None, "") else ""
        word = "violation" if len(v) == 1 else "violations"
        more = f" (and {len(v) - 1} more)" if len(v) > 1 else ""
        return (f"{len(v)} {word} of {head} ({n_props} {plural} checked): "
                f"{first['property']}{when}{where}: {first['detail']}{more}.")

    def __repr__(self):
        return f"<Verdict {self.status}: {len(self.violations)} violations of {self.properties}>"

    def _repr_html_(self):
        head = f"<p><b>{'✔' if self else '✘'}</b> {self!s}</p>"
        if len(self.violations):
            head += self.violations.head(20).to_html(index=False)
        return head

    def merge(self, other: Verdict) -> Verdict:
        """The conjunction of two verdicts (properties and violations combined)."""
        props = self.properties + [p for p in other.properties if p not in self.properties]
        v = pd.concat([self.violations, other.violations], ignore_index=True)
        status = "unknown" if "unknown" in (self.status, other.status) and not len(v) else None
        return Verdict(props, v, status=status, info={**self.info, **other.info},
                       kinds={**self.kinds, **other.kinds})

    def only(self, kind: str) -> Verdict:
        """The verdict on the properties of one kind (``"safety"`` or ``"progress"``)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
        props = [p for p in self.properties if self.kinds[p] == kind]
        v = self.violations
        v = v[v["property"].isin(props)]
        status = "unknown" if self.status == "unknown" and not len(v) else None
        return Verdict(props, v, status=status, info=self.info,
                       kinds={p: kind for p in props})

    @property
    def safety(self) -> Verdict:
        """The verdict on the safety properties alone."""
        return self.only("safety")

    @property
    def progress(self) -> Verdict:
        """The verdict on the progress properties alone (those judged under fairness)."""
        return self.only("progress")


def _kinds(properties, kinds) -> dict:
    kinds = dict(kinds or {})
    extra = set(kinds) - set(properties)
    if extra:
        raise ValueError(f"kinds names properties that were not checked: {sorted(extra)}")
    bad = {p: k for p, k in kinds.items() if k not in KINDS}
    if bad:
        raise ValueError(f"kinds must map properties to one of {KINDS}; got {bad}")
    return {p: kinds.get(p, "safety") for p in properties}


def fair_from(faults, servers, need: int, until: float):
    """When the fairness condition of the progress properties starts to hold, or None.

    The condition: no fault is active any more (every partition has healed, every pause
    and clock fault is over, every crash that ends in a restart has ended) and at least
    ``need`` of ``servers`` are up (a server crashed and never restarted stays down).

    Parameters
    ----------
    faults : DataFrame
        ``run.faults`` (``kind, target, t_start, t_end, detail``).
    servers : collection of str
        The nodes whose quorum matters.
    need : int
        How many of them must be up (a majority, a quorum).
    until : float
        The end of the run.

    Returns
    -------
    float or None
        The instant from which the condition holds to the end of the run (0.0 for a run
        without faults); None when it never does (a partition that never heals, too
        many servers down for good).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["crash", "partition"], "target": ["n1", "n1 | n2,n3"],
    ...                   "t_start": [0.5, 1.0], "t_end": [1.0, 1.6], "detail": ["", ""]})
    >>> fair_from(f, ["n1", "n2", "n3"], 2, until=5.0)
    1.6
    >>> fair_from(f.iloc[:1].assign(t_end=float("nan")), ["n1", "n2", "n3"], 2, until=5.0)
    0.5
    """
    import math
    servers = {str(s) for s in servers}
    t = 0.0
    down = set()
    for kind, target, start, end in zip(faults["kind"].astype(str), faults["target"],
                                        faults["t_start"], faults["t_end"]):
        start, end = float(start), float(end)
        if kind == "crash" and math.isnan(end):
            if str(target) in servers:
                down.add(str(target))
            t = max(t, start)        # the crash itself is the last change it makes
            continue
        if math.isnan(end):
            return None              # a partition or a drift that never ends
        if end <= until:
            t = max(t, end, start)
        else:
            return None
    if len(servers - down) < need:
        return None
    return float(t)


def plain(row) -> dict:
    """A table row as a dict of plain Python values (NaN -> None), for ``Verdict.info``.

    Examples
    --------
    >>> import pandas as pd
    >>> plain(pd.DataFrame([{"t": 1.5, "judged": True, "n": 3, "x": float("nan")}]).iloc[0])
    {'t': 1.5, 'judged': True, 'n': 3, 'x': None}
    """
    out = {}
    for k, v in dict(row).items():
        if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
            v = v.item()
        if isinstance(v, float) and v != v:
            v = None
        out[str(k)] = v
    return out
