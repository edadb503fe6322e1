"""The Raft leader as a single server: maximum throughput and latency below the knee.

Every command costs the leader a fixed amount of work: it handles the client's request
and one ``AppendEntriesReply`` from each of the ``n - 1`` followers (sending takes no
processing time in :mod:`dsalgo.sim`).  With batching (``max_batch``) one round, and its
flush timer, serves a whole batch: the ``n - 1`` replies and the timer are shared by the
batch.  With a processing model of mean service ``c`` per message the leader's service
time per command is therefore

    S = c · n                                  (a round per command)
    S = c · (b + (n - 1) + 1) / b              (rounds of b commands)

so the most it can commit is ``1 / S`` commands a second.  Offered Poisson load ``λ``
keeps it busy a fraction ``ρ = λ S`` of the time.

A command's work does not reach the leader in one piece, though: the request comes
first, and the ``n - 1`` replies come together a round trip later.  Both streams are
Poisson (a Poisson stream delayed by independent amounts is Poisson), so the leader is an
M/G/1 server fed by two job types -- requests of service ``c`` at rate ``λ``, and bursts
of ``n - 1`` replies at rate ``λ / b`` (with ``b = 1`` without batching; batched rounds
also bring a flush timer, ``c`` at rate ``λ / b``) -- and, by PASTA, each piece waits the
Pollaczek–Khinchine mean ``V = Σ rate · E[X²] / (2 (1 - ρ))``.  A command queues once for
its request and once for its replies (batched, once more for the flush timer), so it
waits ``W = 2 V`` (``3 V``).  Counting the whole of ``S`` as one job arriving with the
request would put ``W`` at ``λ E[S²] / (2 (1 - ρ))``, about half as much for
``n = 7``.  The rest of a command's latency does not queue at the leader: four
one-way trips (client → leader → follower → leader → client), the services of the
request at the leader, of the AppendEntries at a follower and of the ``⌊n/2⌋`` replies
the leader needs for a majority (they arrive together and are handled one after the
other), and, with a storage model, one sync at the follower before it answers.

The Multi-Paxos leader of :mod:`dsalgo.paxos` does the same work per command -- a
client ``Request``, and one ``Accepted`` (or, batched, one ``AcceptedBatch``) from each
other acceptor per round, its own acceptor answering locally -- and its followers
answer after the same one wire trip and one sync, so the same model applies to both
families (:func:`load_point` runs either).

This is a model of the leader alone: the followers must be far from saturation (each
handles one AppendEntries per round, ``λ c`` of its time without batching), clients must
not pile retries onto a slow leader, and heartbeats are neglected.  Below about 80 % of
the leader's capacity the simulation agrees with it (see ``tests/test_raft_throughput.py``);
near and beyond the knee retries and timeouts take over and the simulation is the
answer.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._validate import check_int, check_number
from ..analysis import summarize
from ..sim.latency import Latency

__all__ = ["LoadFindings", "leader_model", "leader_service", "load_findings", "load_point",
           "measured", "model_error", "same_workload"]


def _check_model(name, model):
    if not isinstance(model, Latency):
        raise TypeError(f"{name} must be a latency model such as sim.Constant(0.0002); "
                        f"got {model!r}")
    return model


def _moments(model: Latency, draws: int = 20_000) -> tuple[float, float]:
    """Mean and variance of a latency model (exact for Constant, else from draws)."""
    if hasattr(model, "delay"):
        return float(model.delay), 0.0
    x = model.draw(draws, seed=0)
    return float(model.mean), float(x.var())


def leader_service(n: int, cpu: Latency, *, batch: int | None = None) -> tuple[float, float]:
    """Mean and variance of the leader's service time per command (seconds, seconds²).

    Examples
    --------
    >>> from dsalgo import sim
    >>> leader_service(3, sim.Constant(0.0002))
    (0.0006000000000000001, 0.0)
    >>> mean, _ = leader_service(5, sim.Constant(0.0001), batch=10)
    >>> round(mean * 1e6, 6)   # (10 requests + 4 replies + 1 flush) / 10 commands
    150.0
    """
    n = check_int("n", n, low=1)
    _check_model("cpu", cpu)
    if batch is not None:
        batch = check_int("batch", batch, low=1)
    c, var = _moments(cpu)
    if batch is None:
        items, per = n, 1
    else:
        items, per = batch + (n - 1) + 1, batch
    return c * items / per, var * items / per ** 2


def leader_model(n: int, offered, *, cpu: Latency, wire: Latency,
                 sync: Latency | None = None, batch: int | None = None) -> pd.DataFrame:
    """Predicted throughput and mean commit latency at each offered load.

    Parameters
    ----------
    n : int
        Servers.
    offered : float or array of float
        Offered load, commands per second (Poisson arrivals).
    cpu : Latency
        The servers' processing time per message (``simulate(cpu=…)``).
    wire : Latency
        One-way network latency (its mean is used).
    sync : Latency, optional
        The storage model's sync latency (``sim.Storage(sync=…)``), if any.
    batch : int, optional
        Commands per round (``max_batch`` when the leader is saturated); None: a round per
        command.

    Returns
    -------
    pandas.DataFrame
        One row per offered load: ``offered``, ``utilisation`` (``ρ``, may exceed 1),
        ``throughput`` (``min(offered, capacity)``), ``capacity`` (``1 / S``),
        ``wait`` (mean queueing delay at the leader, its request's and its replies'
        M/G/1 waits; NaN at ``ρ >= 1``) and
        ``latency`` (mean commit latency; NaN at ``ρ >= 1``), in seconds.

    Examples
    --------
    >>> from dsalgo import sim
    >>> m = leader_model(3, [500, 1000, 2000], cpu=sim.Constant(0.0002),
    ...                  wire=sim.Constant(0.0005))
    >>> m[["utilisation", "throughput"]].round(3).values.tolist()
    [[0.3, 500.0], [0.6, 1000.0], [1.2, 1666.667]]
    >>> round(float(m["latency"][1]) * 1e3, 3), bool(m["latency"].isna()[2])
    (3.1, True)
    """
    _check_model("wire", wire)
    if sync is not None:
        _check_model("sync", sync)
    lam = np.atleast_1d(np.asarray(offered, dtype=float))
    if not (lam > 0).all() or not np.isfinite(lam).all():
        raise ValueError(f"offered must be positive finite rates (commands per second); "
                         f"got {offered!r}")
    s_mean, _s_var = leader_service(n, cpu, batch=batch)
    c, var = _moments(cpu)
    rho = lam * s_mean
    b = 1 if batch is None else batch
    one = var + c ** 2                                     # E[X²] of one message
    burst = (n - 1) * var + ((n - 1) * c) ** 2             # E[X²] of n - 1 replies
    # rate-weighted second moments of the job streams, per unit of offered load
    moments = one + burst / b + (one / b if batch is not None else 0.0)
    visits = 2 if batch is None else 3
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.where(rho < 1, visits * lam * moments / (2 * (1 - rho)), math.nan)
    fixed = 4 * wire.mean + (2 + n // 2) * c + (sync.mean if sync is not None else 0.0)
    return pd.DataFrame({
        "offered": lam,
        "utilisation": rho,
        "throughput": np.minimum(lam, 1 / s_mean),
        "capacity": np.full_like(lam, 1 / s_mean),
        "wait": wait,
        "latency": fixed + wait,
    })


def measured(run, *, warmup: float = 1.0) -> dict:
    """Achieved throughput (completed commands per second) and mean and p50/p99 commit
    latency of a run's history after ``warmup`` seconds, for comparison with
    :func:`leader_model`.

    Examples
    --------
    >>> from dsalgo import raft
    >>> run = raft.simulate(3, seed=1, duration=2.0, clients=2, mode="open", rate=50.0)
    >>> m = measured(run)
    >>> 60 < m["throughput"] < 140, m["p50"] < m["p99"]
    (True, True)
    """
    warmup = check_number("warmup", warmup, low=0.0)
    h = run.history
    end = float(run.until)
    done = h[(h["status"] != "info") & (h["t_invoke"] >= warmup)]
    lat = done["t_complete"] - done["t_invoke"]
    span = end - warmup
    return {"throughput": len(done) / span if span > 0 else math.nan,
            "latency": float(lat.mean()), "p50": float(lat.quantile(0.5)),
            "p99": float(lat.quantile(0.99))}


def same_workload(n: int = 3, rate: float = 500.0, *, cpu: Latency | None = None,
                  storage=None, network=None, clients: int = 10, keys: int = 1000,
                  duration: float = 3.0, warmup: float = 1.0, seeds=(0,),
                  families=("raft", "paxos"), retry_interval: float = 10.0,
                  client_timeout: float = 10.0, knobs=None) -> pd.DataFrame:
    """Raft and Multi-Paxos under the same open-loop workload, processing and storage
    models and network, measured with the same statistics (one row per family and seed).

    ``rate`` is the total offered load (commands per second, Poisson, shared by
    ``clients``); the columns are ``family``, ``seed``, ``offered``, ``throughput``,
    ``latency`` (mean), ``p50`` and ``p99`` (seconds), from :func:`measured`.

    The clients resend and give up after ``retry_interval`` and ``client_timeout``
    (default 10 s, longer than a run, as in :func:`load_point`: the leaders are measured,
    not the clients' retry policy).  ``knobs`` maps a family to extra knobs of its own,
    e.g. ``{"paxos": {"window": 64}}`` (Multi-Paxos keeps at most ``window`` slots in
    flight, 8 by default; Raft has no such limit unless ``pipeline`` is set).

    Examples
    --------
    >>> from dsalgo import sim
    >>> t = same_workload(3, 200.0, cpu=sim.Constant(0.0001), duration=1.5, warmup=0.5,
    ...                   network=sim.Network(latency=sim.Constant(0.0005)))
    >>> t["family"].tolist(), bool((t["throughput"] > 150).all())
    (['raft', 'paxos'], True)
    """
    from dsalgo import paxos
    from dsalgo import raft as raft_family

    rate = check_number("rate", rate, low=0.0, low_open=True)
    clients = check_int("clients", clients, low=1)
    simulate = {"raft": raft_family.simulate, "paxos": paxos.simulate}
    for f in families:
        if f not in simulate:
            raise ValueError(f"families must name 'raft' or 'paxos'; got {f!r}")
    knobs = {} if knobs is None else dict(knobs)
    for f in knobs:
        if f not in families:
            raise ValueError(f"knobs must be keyed by one of the families {families!r}; "
                             f"got {f!r}")
    rows = []
    for seed in seeds:
        for f in families:
            run = simulate[f](n, seed=seed, duration=duration, clients=clients,
                              mode="open", rate=rate / clients, keys=keys, cpu=cpu,
                              storage=storage, network=network, record_messages=False,
                              retry_interval=retry_interval, client_timeout=client_timeout,
                              **knobs.get(f, {}))
            rows.append({"family": f, "seed": seed, "offered": rate,
                         **measured(run, warmup=warmup)})
    return pd.DataFrame(rows)


def load_point(family: str = "raft", n: int = 3, utilisation: float = 0.5, *,
               max_batch: int | None = None, seed: int = 0, cpu: Latency | None = None,
               wire: Latency | None = None, storage=None, clients: int = 20,
               duration: float = 3.0, warmup: float = 1.0, retry_interval: float = 10.0,
               client_timeout: float = 10.0) -> dict:
    """One point of an offered-load sweep: run ``family`` under open-loop Poisson load and
    put the measurement beside :func:`leader_model`'s prediction.

    The offered load is ``utilisation`` times the capacity of a leader that runs a round
    per command (``1 / S`` with ``S = c·n``), so one value means the same relative load
    for every ``n``; with ``max_batch`` the same rates are offered, and the leader's
    capacity grows with the batch.

    Parameters
    ----------
    family : {"raft", "paxos"}
        Raft or Multi-Paxos.
    n : int
        Servers.
    utilisation : float
        Offered load as a fraction of the unbatched leader's capacity (> 0).
    max_batch : int, optional
        The kernel's batching knob (None: a round per command).
    seed : int
        Seed of the run.
    cpu, wire : Latency, optional
        Processing time per message (default ``sim.Constant(0.0002)``) and one-way
        latency (default ``sim.Constant(0.0005)``).
    storage : dsalgo.sim.Storage, optional
        The servers' storage model (default: instant).
    clients : int
        Open-loop clients sharing the load.
    duration, warmup : float
        Simulated seconds, and the start of the measurement (after the first election).
    retry_interval, client_timeout : float
        The clients' resend interval and give-up time.  The defaults, 10 s, longer than
        a run, keep the clients' retry policy out of the measurement of the leader:
        with the kernels' 0.1 s resend interval a command older than 0.1 s is sent
        again, to the next server, and the leader pays for every copy (the collapse
        notebook 03 explains); with a 1 s timeout every command past the knee, whose
        wait grows without bound, is given up and counts as not achieved.

    Returns
    -------
    dict
        ``offered`` (commands/s), the measured ``throughput``, ``latency`` (mean),
        ``p50`` and ``p99`` (seconds, see :func:`measured`), and the model's
        ``model_utilisation``, ``model_throughput``, ``model_latency`` (a round per
        command; NaN at or past the knee), ``capacity`` (a round per command) and
        ``capacity_batched`` (full batches of ``max_batch``; NaN without batching).

    Examples
    --------
    >>> p = load_point("paxos", 3, 0.5, duration=2.0, warmup=0.8)
    >>> round(p["offered"]), round(p["model_utilisation"], 2)
    (833, 0.5)
    >>> abs(p["latency"] / p["model_latency"] - 1) < 0.15
    True
    """
    from dsalgo import paxos, sim
    from dsalgo import raft as raft_family

    simulate = {"raft": raft_family.simulate, "paxos": paxos.simulate}
    if family not in simulate:
        raise ValueError(f"family must be 'raft' or 'paxos'; got {family!r}")
    utilisation = check_number("utilisation", utilisation, low=0.0, low_open=True)
    clients = check_int("clients", clients, low=1)
    cpu = sim.Constant(0.0002) if cpu is None else _check_model("cpu", cpu)
    wire = sim.Constant(0.0005) if wire is None else _check_model("wire", wire)
    s_mean, _ = leader_service(n, cpu)
    offered = utilisation / s_mean
    run = simulate[family](n, seed=seed, duration=duration, clients=clients, mode="open",
                           rate=offered / clients, keys=1000, cpu=cpu, storage=storage,
                           network=sim.Network(latency=wire), max_batch=max_batch,
                           retry_interval=retry_interval, client_timeout=client_timeout,
                           record_messages=False)
    got = measured(run, warmup=warmup)
    sync = storage.sync if storage is not None else None
    model = leader_model(n, offered, cpu=cpu, wire=wire, sync=sync).iloc[0]
    batched = (leader_model(n, offered, cpu=cpu, wire=wire, sync=sync,
                            batch=max_batch)["capacity"].iloc[0]
               if max_batch is not None else math.nan)
    return {"offered": offered, **got, "model_utilisation": float(model["utilisation"]),
            "model_throughput": float(model["throughput"]),
            "model_latency": float(model["latency"]), "capacity": float(model["capacity"]),
            "capacity_batched": float(batched)}


def model_error(sweep: pd.DataFrame, *, below: float = 0.8,
                by=("family", "n")) -> pd.DataFrame:
    """How far :func:`leader_model` is from the simulation, from a sweep of
    :func:`load_point` rows without batching: over the points offered below ``below`` of
    the leader's capacity, the largest relative error of the seed-mean throughput and
    mean latency.

    Returns
    -------
    pandas.DataFrame
        One row per group of ``by`` (the columns of ``by`` present in ``sweep``):
        ``points``, ``max_throughput_error`` and ``max_latency_error`` (fractions).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": [3, 3, 3], "seed": [0, 1, 0],
    ...                    "model_utilisation": [0.5, 0.5, 0.9],
    ...                    "throughput": [98.0, 102.0, 170.0], "model_throughput": 100.0,
    ...                    "latency": [0.011, 0.013, 0.05], "model_latency": 0.010})
    >>> model_error(df).round(3).to_dict("records")
    [{'n': 3, 'points': 1, 'max_throughput_error': 0.0, 'max_latency_error': 0.2}]
    """
    below = check_number("below", below, low=0.0, low_open=True)
    if "max_batch" in sweep.columns:
        sweep = sweep[sweep["max_batch"].isna()]
    keys = [c for c in by if c in sweep.columns]
    point = keys + ["model_utilisation"]
    under = sweep[sweep["model_utilisation"] < below]
    means = under.groupby(point, sort=True)[["throughput", "model_throughput", "latency",
                                             "model_latency"]].mean().reset_index()
    means["tput_err"] = (means["throughput"] / means["model_throughput"] - 1).abs()
    means["lat_err"] = (means["latency"] / means["model_latency"] - 1).abs()
    if not keys:
        means["_all"] = 0
        keys = ["_all"]
    out = means.groupby(keys, sort=True).agg(
        points=("tput_err", "size"), max_throughput_error=("tput_err", "max"),
        max_latency_error=("lat_err", "max")).reset_index()
    return out.drop(columns=["_all"], errors="ignore")


class LoadFindings(NamedTuple):
    """What an offered-load sweep showed (see :func:`load_findings`)."""

    runs_below: int            # runs without batching offered below ``below`` of capacity
    worst_error: float         # largest model error (throughput or latency) among them
    past_ratio: pd.Series      # per n: mean achieved / capacity past the knee, unbatched
    batched_top: pd.DataFrame  # per n, batched, at the highest load offered: offered,
    #                            mean achieved over seeds and its 95 % t half-width,
    #                            seeds, capacity
    kept_up: bool              # batched runs achieved ``keep_up`` or more of every offered load


def load_findings(sweep: pd.DataFrame, agreement: pd.DataFrame | None = None, *,
                  below: float = 0.8, keep_up: float = 0.9) -> LoadFindings:
    """The findings of a sweep of :func:`load_point` rows, as notebooks 02 and 03 state
    them: how many runs the model was judged on and its worst error, the share of capacity
    held past the knee without batching, and how far batching kept up.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Rows of :func:`load_point` (columns ``n``, ``max_batch``, ``model_utilisation``,
        ``throughput``, ``offered``, ``capacity``, …), one per seed.
    agreement : pandas.DataFrame, optional
        :func:`model_error` of ``sweep`` (computed when omitted).
    below : float
        The utilisation under which the model is judged.
    keep_up : float
        The share of the offered load a batched run must achieve to have kept up.

    Returns
    -------
    LoadFindings
        ``batched_top`` holds, per ``n``, the batched runs at the highest load offered:
        ``offered``, ``throughput`` (mean over the seeds), ``throughput_ci`` (its 95 %
        Student t half-width; NaN with one seed), ``seeds`` and ``capacity``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": 3, "seed": 0, "max_batch": [None, None, 8.0],
    ...                    "model_utilisation": [0.5, 1.2, 1.2], "offered": [50, 120, 120],
    ...                    "throughput": [49.0, 60.0, 119.0], "capacity": 100.0,
    ...                    "model_throughput": [50.0, None, None],
    ...                    "latency": 0.01, "model_latency": [0.01, None, None]})
    >>> f = load_findings(df)
    >>> f.runs_below, round(f.worst_error, 2), float(f.past_ratio[3]), f.kept_up
    (1, 0.02, 0.6, True)
    >>> f.batched_top[["offered", "throughput", "seeds"]].to_dict("records")
    [{'offered': 120.0, 'throughput': 119.0, 'seeds': 1}]
    """
    below = check_number("below", below, low=0.0, low_open=True)
    keep_up = check_number("keep_up", keep_up, low=0.0, high=1.0, low_open=True)
    if agreement is None:
        agreement = model_error(sweep, below=below)
    unbatched = sweep[sweep["max_batch"].isna()]
    past = unbatched[unbatched["model_utilisation"] > 1.0].groupby("n")
    batched = sweep[sweep["max_batch"].notna()]
    return LoadFindings(
        runs_below=int((unbatched["model_utilisation"] < below).sum()),
        worst_error=float(agreement[["max_throughput_error", "max_latency_error"]].max().max()),
        past_ratio=past["throughput"].mean() / past["capacity"].first(),
        batched_top=_top_point(batched),
        kept_up=bool((batched["throughput"] >= keep_up * batched["offered"]).all()))


def _top_point(batched: pd.DataFrame) -> pd.DataFrame:
    """Per ``n``: the runs at the highest load offered, achieved throughput averaged over
    their seeds (never a maximum over seeds or over load points)."""
    top = batched[batched["offered"] == batched.groupby("n")["offered"].transform("max")]
    s = summarize(top, by=["n", "offered", "capacity"], metrics=["throughput"], ci=0.95)
    return pd.DataFrame({"offered": s["offered"].astype(float).to_numpy(),
                         "throughput": s["mean"].to_numpy(),
                         "throughput_ci": ((s["ci_high"] - s["ci_low"]) / 2).to_numpy(),
                         "seeds": s["n_values"].to_numpy(),
                         "capacity": s["capacity"].astype(float).to_numpy()},
                        index=pd.Index(s["n"].to_numpy(), name="n")).sort_index()
