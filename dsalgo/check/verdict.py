"""The answer of every checker: which safety properties held, and where they did not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["Verdict", "VIOLATION_COLUMNS"]

VIOLATION_COLUMNS = ["property", "time", "nodes", "detail"]


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
    """

    def __init__(self, properties: Iterable[str], violations=None, *, status: str | None = None,
                 info: Mapping | None = None):
        self.properties = list(properties)
        if violations is None:
            df = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in
                               zip(VIOLATION_COLUMNS, ["object", "float64", "object", "object"])})
        elif isinstance(violations, pd.DataFrame):
            df = violations.reset_index(drop=True)
        else:
            rows = list(violations)
            df = pd.DataFrame(rows, columns=VIOLATION_COLUMNS) if rows else None
            if df is None:
                return self.__init__(properties, None, status=status, info=info)
        missing = [c for c in VIOLATION_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"violations must have columns {VIOLATION_COLUMNS}; missing {missing}")
        unknown = set(df["property"]) - set(self.properties)
        if unknown:
            raise ValueError(f"violations name properties that were not checked: {sorted(unknown)}")
        df["time"] = df["time"].astype("float64")
        self.violations = df.sort_values("time", kind="stable", na_position="last").reset_index(drop=True)
        if status is None:
            status = "violated" if len(df) else "ok"
        if status not in ("ok", "violated", "unknown"):
            raise ValueError(f"status must be 'ok', 'violated' or 'unknown'; got {status!r}")
        self.status = status
        self.info = dict(info or {})

    def __bool__(self):
        return self.status == "ok"

    def holds(self, prop: str) -> bool:
        """Whether property ``prop`` held (it was checked and has no violation)."""
        if prop not in self.properties:
            raise ValueError(f"prop {prop!r} was not checked; checked: {self.properties}")
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
        when = "" if pd.isna(first["time"]) else f" at t={first['time']:.6g}s"
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
        return Verdict(props, v, status=status, info={**self.info, **other.info})
