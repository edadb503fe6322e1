"""Metrics of a serving-cluster run: tidy tables out of ``run.history``.

Every function takes a :class:`~dsalgo.sim.Run` from :func:`~dsalgo.balance.simulate` or its
``history`` DataFrame (columns ``t_invoke``, ``t_enqueue``, ``t_start``, ``t_complete``,
``backend``, ``status``).  ``warmup`` (seconds) drops requests that arrived before it, so
the empty start of a run does not bias steady-state figures.

Queue lengths are reconstructed from the history: a request is at its backend from
``t_enqueue`` until its service ends (``t_end``; in histories without that column, ``hop``
seconds before the answer reaches the client — ``hop`` is read from ``run.params``; give it
when passing a bare DataFrame).  Lost
requests (status ``info``) have no known departure and are left out of queue lengths.
Time averages run from ``warmup`` to the last arrival: after that the load falls off as the
run drains, which is not steady state.

``batch_means`` gives the confidence interval that a steady-state mean needs: successive
response times are correlated (one busy period delays many requests), so the naive
``s / sqrt(n)`` interval is too narrow; means of long consecutive batches are nearly
independent (Law & Kelton, *Simulation Modeling and Analysis*, §9.5.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .. import sim
from .._validate import check_choice, check_int, check_number

__all__ = [
    "batch_means",
    "imbalance",
    "latency_percentiles",
    "queue_length_distribution",
    "queue_tail",
    "response_times",
    "server_loads",
    "wait_probability",
    "waits",
]

_NEEDED = ("t_invoke", "t_enqueue", "t_start", "t_complete", "backend", "status")


def _history(data, hop=None):
    varies = False
    if isinstance(data, sim.Run):
        h = data.history
        if hop is None:
            hop = data.params.get("hop", 0.0)
            varies = hop is None  # the network's delays are not one constant
    elif isinstance(data, pd.DataFrame):
        h = data
    else:
        raise TypeError(f"data must be a Run from balance.simulate or its history DataFrame; "
                        f"got {type(data).__name__}")
    missing = [c for c in _NEEDED if c not in h.columns]
    if missing:
        raise ValueError(f"data must have the columns of balance.simulate's history; missing "
                         f"{', '.join(missing)}")
    if varies:
        return h, None
    hop = 0.0 if hop is None else check_number("hop", hop, low=0.0)
    return h, hop


def _after(h, warmup):
    warmup = check_number("warmup", warmup, low=0.0)
    return h[h["t_invoke"].to_numpy() >= warmup], warmup


def response_times(data, *, warmup: float = 0.0) -> pd.Series:
    """Response time (``t_complete - t_invoke``, seconds) of each answered request.

    Parameters
    ----------
    data : Run or DataFrame
    warmup : float
        Ignore requests that arrived before this time, seconds.

    Returns
    -------
    pandas.Series
        Indexed by ``op_id``, in arrival order.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(2, policy="random", utilization=0.5, requests=500, seed=3)
    >>> rt = response_times(run, warmup=10.0)
    >>> bool((rt > 0).all()), rt.name
    (True, 'latency')
    """
    h, _ = _history(data)
    h, _ = _after(h, warmup)
    h = h[h["status"] == "ok"]
    out = pd.Series(h["t_complete"].to_numpy() - h["t_invoke"].to_numpy(),
                    index=h["op_id"].to_numpy() if "op_id" in h else h.index, name="latency")
    out.index.name = "op_id"
    return out


def latency_percentiles(data, q=(0.5, 0.99, 0.999), *, warmup: float = 0.0,
                        by: str | None = None) -> pd.DataFrame:
    """Latency quantiles (p50, p99, p99.9 by default), seconds.

    Parameters
    ----------
    data : Run or DataFrame
    q : sequence of float
        Quantiles in [0, 1].
    warmup : float
        Seconds of start-up to ignore.
    by : str, optional
        A history column to group by (e.g. ``"backend"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``[by,] quantile, latency, requests`` (long form, one row per quantile).

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(4, policy="jsq", utilization=0.6, requests=2000, seed=4)
    >>> p = latency_percentiles(run, q=[0.5, 0.99])
    >>> p["quantile"].tolist(), bool(p["latency"].is_monotonic_increasing)
    ([0.5, 0.99], True)
    """
    h, _ = _history(data)
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if qs.size == 0 or np.isnan(qs).any() or (qs < 0).any() or (qs > 1).any():
        raise ValueError(f"q must be quantiles in [0, 1]; got {q!r}")
    if by is not None and by not in h.columns:
        raise ValueError(f"by must be a column of the history ({', '.join(map(str, h.columns))}); "
                         f"got {by!r}")
    h, _ = _after(h, warmup)
    h = h[h["status"] == "ok"]
    lat = h["t_complete"].to_numpy() - h["t_invoke"].to_numpy()
    groups = [(None, lat)] if by is None else [
        (k, lat[(h[by] == k).to_numpy()]) for k in pd.unique(h[by].dropna())]
    rows = []
    for k, v in groups:
        vals = np.quantile(v, qs) if len(v) else np.full(qs.shape, np.nan)
        for qq, val in zip(qs, vals):
            row = {} if by is None else {by: k}
            row.update(quantile=float(qq), latency=float(val), requests=len(v))
            rows.append(row)
    return pd.DataFrame(rows, columns=([] if by is None else [by])
                        + ["quantile", "latency", "requests"])


def waits(data, *, warmup: float = 0.0, hop: float | None = None) -> pd.Series:
    """Time each started request spent queued before service, seconds.

    The wait is ``t_start - t_invoke - 2 hop`` (the two hops to reach the backend), which
    is where a central queue's requests wait too.  When the run's network delays vary
    (``run.params["hop"]`` is ``None``) it is the time queued at the backend,
    ``t_start - t_enqueue``.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(2, policy="central_queue", utilization=0.5, requests=500)
    >>> bool((waits(run) >= 0).all())
    True
    """
    h, hop = _history(data, hop)
    h, _ = _after(h, warmup)
    h = h[h["t_start"].notna()]
    if hop is None:
        w = h["t_start"].to_numpy() - h["t_enqueue"].to_numpy()
    else:
        w = h["t_start"].to_numpy() - h["t_invoke"].to_numpy() - 2 * hop
    w = np.where(np.abs(w) < 1e-9, 0.0, w)  # (t + hop) + hop vs t + 2 hop rounding
    return pd.Series(w, index=h["op_id"].to_numpy() if "op_id" in h else h.index, name="wait")


def wait_probability(data, *, warmup: float = 0.0, hop: float | None = None) -> float:
    """Fraction of started requests that had to wait (Erlang C for a central queue).

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(2, policy="central_queue", utilization=0.5, requests=500)
    >>> 0.0 < wait_probability(run) < 1.0
    True
    """
    w = waits(data, warmup=warmup, hop=hop)
    if not len(w):
        raise ValueError("no request started service after warmup; lower warmup")
    return float((w > 0).mean())


def _intervals(h, hop):
    ok = h[(h["status"] == "ok") & h["backend"].notna()]
    end = ok["t_end"].to_numpy() if "t_end" in ok.columns else ok["t_complete"].to_numpy() - hop
    return ok["backend"].astype(str).to_numpy(), ok["t_enqueue"].to_numpy(), end


def _window(h, warmup, end):
    if end is None:
        end = float(h["t_invoke"].max()) if len(h) else 0.0
    else:
        end = check_number("end", end, low=0.0)
    if not end > warmup:
        raise ValueError(f"the averaging window [warmup, end] must be non-empty; got "
                         f"warmup={warmup!r}, end={end!r} (end defaults to the last arrival)")
    return end


def _backends(data, h):
    if isinstance(data, sim.Run):
        if "n" in data.params:
            return sim.server_ids(int(data.params["n"]))
        return [b for b in data.nodes if b.startswith("n")]  # saved before "n" was recorded
    if isinstance(h["backend"].dtype, pd.CategoricalDtype):
        return [str(c) for c in h["backend"].cat.categories]
    return sorted(str(b) for b in h["backend"].dropna().unique())


def queue_length_distribution(data, *, warmup: float = 0.0, end: float | None = None,
                              hop: float | None = None) -> pd.DataFrame:
    """Time-weighted distribution of each backend's queue length (waiting + in service).

    Parameters
    ----------
    data : Run or DataFrame
    warmup, end : float
        Averaging window, seconds (``end`` defaults to the last arrival).
    hop : float, optional
        Network hop of the run (read from ``run.params`` for a Run).

    Returns
    -------
    pandas.DataFrame
        Columns ``backend, queue_length, fraction``; fractions of each backend sum to 1.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(2, policy="random", utilization=0.5, requests=2000, seed=5)
    >>> dist = queue_length_distribution(run, warmup=50.0)
    >>> dist.groupby("backend", observed=True)["fraction"].sum().round(9).tolist()
    [1.0, 1.0]
    """
    h, hop = _history(data, hop)
    warmup = check_number("warmup", warmup, low=0.0)
    end = _window(h, warmup, end)
    backends = _backends(data, h)
    who, t_in, t_out = _intervals(h, hop)
    rows = []
    for b in backends:
        mask = who == b
        times = np.concatenate([t_in[mask], t_out[mask]])
        delta = np.concatenate([np.ones(mask.sum(), int), -np.ones(mask.sum(), int)])
        order = np.argsort(times, kind="stable")
        times, level = times[order], np.cumsum(delta[order])
        starts = np.concatenate([[0.0], times])
        stops = np.concatenate([times, [np.inf]])
        levels = np.concatenate([[0], level])
        dur = np.clip(stops, warmup, end) - np.clip(starts, warmup, end)
        frac = np.bincount(levels, weights=dur) / (end - warmup)
        for k in np.flatnonzero(frac > 0):
            rows.append((b, int(k), float(frac[k])))
    out = pd.DataFrame(rows, columns=["backend", "queue_length", "fraction"])
    out["backend"] = pd.Categorical(out["backend"], categories=backends)
    return out


def queue_tail(data, *, warmup: float = 0.0, end: float | None = None,
               hop: float | None = None) -> pd.DataFrame:
    """Fraction of queues holding at least ``i`` requests, time- and backend-averaged.

    The quantity the supermarket model predicts (``s_i``, see
    :func:`~dsalgo.balance.theory.supermarket_tail`); ``i = 1`` is the mean utilisation.

    Returns
    -------
    pandas.DataFrame
        Columns ``i, fraction`` for ``i = 0 … longest queue seen``.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(20, policy="power_of_d", utilization=0.7, requests=4000)
    >>> tail = queue_tail(run, warmup=20.0)
    >>> float(tail["fraction"].iloc[0]), bool(tail["fraction"].is_monotonic_decreasing)
    (1.0, True)
    """
    dist = queue_length_distribution(data, warmup=warmup, end=end, hop=hop)
    n_backends = len(dist["backend"].cat.categories)
    per_level = dist.groupby("queue_length")["fraction"].sum() / n_backends
    top = int(per_level.index.max())
    pmf = per_level.reindex(range(top + 1), fill_value=0.0).to_numpy()
    tail = np.cumsum(pmf[::-1])[::-1]
    tail = np.minimum(tail / tail[0], 1.0)
    return pd.DataFrame({"i": np.arange(top + 1), "fraction": tail})


def server_loads(data, *, warmup: float = 0.0, end: float | None = None,
                 hop: float | None = None) -> pd.DataFrame:
    """Per-backend load: requests served, share, utilisation, mean queue length, and the
    load each backend was offered.

    Returns
    -------
    pandas.DataFrame
        Columns ``backend, requests, share, utilization, mean_queue_length,
        offered_load``; ``utilization`` is the fraction of the window the backend was
        busy.  ``offered_load`` is the work sent to the backend in the window per second
        of it: the service times of the requests that reached it (``t_end − t_start``,
        at its speed) summed over the arrivals in ``[warmup, end]``, divided by
        ``end − warmup``.  A backend that keeps up is busy that share of the time; at 1 or
        more it cannot keep up and its queue grows for as long as arrivals last, so its
        response-time percentiles measure the run's length, not a steady state.  (The
        service times drawn, not the request count, so that a load-aware policy, which
        sends more requests to a backend that happened to draw short ones, is judged by
        the work it sent.)  Requests never served do not count.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(3, policy="round_robin", utilization=0.5, requests=900)
    >>> server_loads(run)["requests"].tolist()
    [300, 300, 300]
    """
    h, hop = _history(data, hop)
    dist = queue_length_distribution(h, warmup=warmup, end=end, hop=hop)
    backends = _backends(data, h)
    dist["backend"] = pd.Categorical(dist["backend"].astype(str), categories=backends)
    hw, _ = _after(h, warmup)
    served = hw.loc[hw["status"] == "ok", "backend"].astype(str).value_counts()
    counts = np.array([int(served.get(b, 0)) for b in backends])
    g = dist.assign(w=dist["queue_length"] * dist["fraction"],
                    busy=np.where(dist["queue_length"] > 0, dist["fraction"], 0.0))
    agg = g.groupby("backend", observed=False)[["w", "busy"]].sum().reindex(backends)
    total = counts.sum()
    return pd.DataFrame({
        "backend": pd.Categorical(backends, categories=backends),
        "requests": counts,
        "share": counts / total if total else np.zeros(len(backends)),
        "utilization": agg["busy"].to_numpy(),
        "mean_queue_length": agg["w"].to_numpy(),
        "offered_load": _offered(hw, backends, warmup, _window(h, warmup, end), hop),
    })


def _offered(hw, backends, warmup: float, end: float, hop) -> np.ndarray:
    """Each backend's offered load (see :func:`server_loads`): the service time of the
    requests that arrived in ``[warmup, end]``, per second of that window."""
    w = hw[(hw["t_invoke"].to_numpy() <= end) & hw["backend"].notna().to_numpy()]
    if "t_end" in w.columns:
        t_end = w["t_end"].to_numpy(dtype=float)
    elif hop is not None:       # older histories: the service ended a hop before the answer
        t_end = w["t_complete"].to_numpy(dtype=float) - hop
    else:
        return np.full(len(backends), np.nan)
    work = t_end - w["t_start"].to_numpy(dtype=float)
    served = ~np.isnan(work)
    per = pd.Series(work[served]).groupby(w["backend"].astype(str).to_numpy()[served]).sum()
    return np.array([float(per.get(b, 0.0)) for b in backends]) / (end - warmup)


def imbalance(data, *, measure: str = "requests", warmup: float = 0.0,
              end: float | None = None, hop: float | None = None) -> float:
    """Max over mean of per-backend load (1.0 is perfect balance).

    Parameters
    ----------
    measure : {"requests", "utilization", "mean_queue_length"}
        Which column of :func:`server_loads` to compare.

    Examples
    --------
    >>> from dsalgo import balance
    >>> run = balance.simulate(3, policy="round_robin", utilization=0.5, requests=900)
    >>> imbalance(run)
    1.0
    """
    check_choice("measure", measure, ("requests", "utilization", "mean_queue_length"))
    loads = server_loads(data, warmup=warmup, end=end, hop=hop)[measure].to_numpy(float)
    mean = loads.mean()
    if not mean > 0:
        raise ValueError(f"no backend carried any load ({measure}) in the window")
    return float(loads.max() / mean)


def batch_means(values, *, batches: int = 20, level: float = 0.99) -> tuple[float, float]:
    """Mean and confidence half-width of a correlated steady-state series, by batch means.

    Parameters
    ----------
    values : array_like
        The series in time order (e.g. response times by arrival).
    batches : int
        Number of consecutive equal batches (``>= 2``); leftovers at the end are dropped.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    (float, float)
        The grand mean and the half-width ``t_{level, batches-1} * s_batch / sqrt(batches)``.

    Examples
    --------
    >>> import numpy as np
    >>> mean, half = batch_means(np.random.default_rng(0).exponential(2.0, 20000))
    >>> abs(mean - 2.0) < half
    True
    """
    batches = check_int("batches", batches, low=2)
    level = check_number("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be a one-dimensional series in time order; got an "
                         f"array of shape {v.shape}")
    if not np.isfinite(v).all():
        bad = int(np.flatnonzero(~np.isfinite(v))[0])
        raise ValueError(f"values must be finite numbers; got {float(v[bad])!r} at position {bad}")
    size = len(v) // batches
    if size < 1:
        raise ValueError(f"values must hold at least batches={batches} values; got {len(v)}")
    means = v[: size * batches].reshape(batches, size).mean(axis=1)
    half = stats.t.ppf(0.5 + level / 2, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return float(means.mean()), float(half)
