"""Aggregate sweep results across seeds: means with confidence intervals.

The input is any tidy table (a :func:`dsalgo.sweep.sweep` result, or one built by hand);
the output is tidy too — one row per group and metric — so it feeds straight into
:func:`dsalgo.plot.sweep_lines` or a seaborn call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validate import check_number

__all__ = ["proportions", "summarize", "wilson"]

_SKIP = ("seed", "wall_time")


def _names(name, value, df) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    for col in names:
        if not isinstance(col, str):
            raise TypeError(f"{name} must be a column name or a list of them; got {col!r}")
        if col not in df.columns:
            raise ValueError(f"{name} names column {col!r}, which is not in the table; "
                             f"columns: {', '.join(map(str, df.columns))}")
    return names


def summarize(df: pd.DataFrame, by, metrics=None, *, ci: float = 0.95) -> pd.DataFrame:
    """Mean, spread and a Student-t confidence interval of each metric, per group.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy results, e.g. from :func:`dsalgo.sweep.sweep` (one row per point and seed).
    by : str or list of str
        Columns that define a group (usually the swept parameters).
    metrics : str or list of str, optional
        Columns to summarise; by default every numeric column except ``by``, ``seed`` and
        ``wall_time``.
    ci : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per group and metric: the ``by`` columns, ``metric``, ``n_values``
        (non-missing values: failed cells are not counted), ``mean``, ``std``, ``sem``, ``ci_low``,
        ``ci_high``.  With a single value the spread and interval are NaN.  Groups appear
        in their order of first appearance; metrics in the order given.

    Examples
    --------
    >>> df = pd.DataFrame({"n": [3, 3, 3, 5, 5, 5], "seed": [0, 1, 2] * 2,
    ...                    "latency": [1.0, 2.0, 3.0, 2.0, 2.0, 2.0]})
    >>> summarize(df, by="n").round(3)
       n   metric  n_values  mean  std    sem  ci_low  ci_high
    0  3  latency         3   2.0  1.0  0.577  -0.484    4.484
    1  5  latency         3   2.0  0.0  0.000   2.000    2.000
    """
    from scipy import stats

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    by = _names("by", by, df)
    if metrics is None:
        metrics = [c for c in df.select_dtypes(include=["number", "bool"]).columns
                   if c not in by and c not in _SKIP]
        if not metrics:
            raise ValueError("the table has no numeric column to summarize besides "
                             f"{by + list(_SKIP)}; pass metrics=[...]")
    else:
        metrics = _names("metrics", metrics, df)
        overlap = [m for m in metrics if m in by]
        if overlap:
            raise ValueError(f"metrics and by must not share columns; got {overlap!r} in both")
    ci = check_number("ci", ci, low=0.0, high=1.0, low_open=True, high_open=True)
    for m in metrics:
        if not (pd.api.types.is_numeric_dtype(df[m]) or pd.api.types.is_bool_dtype(df[m])):
            raise TypeError(f"metric {m!r} must be a numeric column; it has dtype {df[m].dtype}")

    parts = []
    for m in metrics:
        values = df[m].astype(float)
        g = values.groupby([df[c] for c in by], sort=False, dropna=False, observed=True)
        part = pd.DataFrame({"n_values": g.count(), "mean": g.mean(), "std": g.std(ddof=1)})
        part.insert(0, "metric", m)
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    # order: group by group (first appearance), metrics within each group as given
    first = df[by].drop_duplicates().itertuples(index=False, name=None)
    order = {key: i for i, key in enumerate(first)}
    keys = list(zip(*(out[c] for c in by)))
    out["_g"] = [order.get(k, len(order)) for k in keys]
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
    out = out.sort_values(["_g", "_m"], kind="stable").drop(columns=["_g", "_m"])
    n = out["n_values"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sem"] = out["std"].to_numpy() / np.sqrt(n)
        t = np.where(n > 1, stats.t.ppf(0.5 + ci / 2, np.maximum(n - 1, 1)), np.nan)
    half = t * out["sem"].to_numpy()
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out.reset_index(drop=True)


def wilson(successes, trials, *, ci: float = 0.95):
    """Wilson score interval of a proportion: ``(low, high)`` for ``successes`` of ``trials``.

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0 or
    ``trials`` successes, which is where failure rates from a few seeds usually sit.

    Parameters
    ----------
    successes, trials : int or array-like
        Counts; ``0 <= successes <= trials`` and ``trials >= 1``.
    ci : float
        Confidence level, in (0, 1).

    Returns
    -------
    tuple of float or numpy arrays

    Examples
    --------
    >>> [round(x, 3) for x in wilson(0, 12)]
    [0.0, 0.242]
    >>> [round(x, 3) for x in wilson(6, 12)]
    [0.254, 0.746]
    """
    from scipy import stats

    ci = check_number("ci", ci, low=0.0, high=1.0, low_open=True, high_open=True)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1; got successes="
                         f"{successes!r}, trials={trials!r}")
    z = stats.norm.ppf(0.5 + ci / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def proportions(df: pd.DataFrame, by, column: str, *, ci: float = 0.95) -> pd.DataFrame:
    """Per group, the fraction of rows where boolean ``column`` is true, with a Wilson interval.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy results, one row per run (e.g. one per seed).
    by : str or list of str
        Grouping columns.
    column : str
        A boolean column (or 0/1).
    ci : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``runs``, ``count``, ``rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 1, 1, 2, 2, 2], "bad": [0, 0, 1, 1, 1, 1]})
    >>> proportions(df, "x", "bad").round(3)
       x  runs  count   rate  ci_low  ci_high
    0  1     3      1  0.333   0.061    0.792
    1  2     3      3  1.000   0.439    1.000
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    by = _names("by", by, df)
    if column not in df.columns:
        raise ValueError(f"column must be one of {list(df.columns)}; got {column!r}")
    g = df[column].astype(bool).groupby([df[c] for c in by], sort=False, observed=True)
    out = pd.DataFrame({"runs": g.size(), "count": g.sum().astype(int)}).reset_index()
    out["rate"] = out["count"] / out["runs"]
    out["ci_low"], out["ci_high"] = wilson(out["count"].to_numpy(), out["runs"].to_numpy(),
                                           ci=ci)
    return out
