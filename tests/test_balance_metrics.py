"""Metrics on hand-built histories, where every figure can be worked out by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from dsalgo import balance as B


def history(rows, backends=("n1", "n2")):
    """rows: (t_invoke, t_start, t_complete, backend) with zero hops."""
    t_inv, t_start, t_done, who = map(list, zip(*rows))
    return pd.DataFrame({
        "op_id": range(len(rows)), "t_invoke": t_inv, "t_enqueue": t_inv, "t_start": t_start,
        "t_complete": t_done, "status": pd.Categorical(["ok"] * len(rows)),
        "backend": pd.Categorical(who, categories=list(backends)),
    })


# n1 serves [0, 2) then [2, 3) (the second request waited 1 s); n2 serves [1, 5)
H = history([(0.0, 0.0, 2.0, "n1"), (1.0, 2.0, 3.0, "n1"), (1.0, 1.0, 5.0, "n2")])


def test_response_times_and_percentiles():
    assert B.response_times(H).tolist() == [2.0, 2.0, 4.0]
    assert B.response_times(H, warmup=0.5).tolist() == [2.0, 4.0]
    p = B.latency_percentiles(H, q=[0.0, 0.5, 1.0])
    assert p["latency"].tolist() == [2.0, 2.0, 4.0] and p["requests"].tolist() == [3, 3, 3]
    by = B.latency_percentiles(H, q=[1.0], by="backend")
    assert dict(zip(by["backend"], by["latency"])) == {"n1": 2.0, "n2": 4.0}


def test_waits_and_wait_probability():
    assert B.waits(H).tolist() == [0.0, 1.0, 0.0]
    assert B.wait_probability(H) == pytest.approx(1 / 3)


def test_queue_length_distribution_is_time_weighted():
    # window [0, 1] ends at the last arrival: n1 has 1 job on [0, 1]; n2 has none
    d = B.queue_length_distribution(H)
    assert d.to_dict("list") == {"backend": ["n1", "n2"], "queue_length": [1, 0],
                                 "fraction": [1.0, 1.0]}
    # window [0, 4]: n1 holds 1 on [0,1), 2 on [1,2), 1 on [2,3), 0 on [3,4)
    d = B.queue_length_distribution(H, end=4.0)
    n1 = d[d["backend"] == "n1"].set_index("queue_length")["fraction"].to_dict()
    assert n1 == {0: 0.25, 1: 0.5, 2: 0.25}
    n2 = d[d["backend"] == "n2"].set_index("queue_length")["fraction"].to_dict()
    assert n2 == {0: 0.25, 1: 0.75}


def test_queue_tail_averages_over_backends():
    tail = B.queue_tail(H, end=4.0)
    # P(N >= 1): n1 0.75, n2 0.75; P(N >= 2): n1 0.25, n2 0
    assert tail.to_dict("list") == {"i": [0, 1, 2], "fraction": [1.0, 0.75, 0.125]}


def test_server_loads_and_imbalance():
    loads = B.server_loads(H, end=4.0)
    assert loads["requests"].tolist() == [2, 1]
    assert loads["utilization"].tolist() == [0.75, 0.75]
    assert loads["mean_queue_length"].tolist() == [1.0, 0.75]
    assert B.imbalance(H, end=4.0) == pytest.approx(2 / 1.5)
    assert B.imbalance(H, measure="utilization", end=4.0) == 1.0


def test_hop_shifts_the_departure_time():
    h = H.copy()
    h["t_complete"] += 0.5
    d0 = B.queue_length_distribution(H, end=4.0)
    d1 = B.queue_length_distribution(h, end=4.0, hop=0.5)
    assert d0.equals(d1)


def test_batch_means_covers_the_true_mean_of_a_correlated_series_at_its_level():
    # AR(1) with phi = 0.9 and mean 3: correlated like response times.  Over 200 series a
    # 99% interval should cover 3.0 about 198 times; the naive s/sqrt(n) interval, about
    # sqrt((1 + phi) / (1 - phi)) = 4.4 times too narrow, covers far less often.
    rng = np.random.default_rng(1)
    covered = naive = 0
    for _ in range(200):
        x = 3.0 + lfilter([1.0], [1.0, -0.9], rng.normal(0, 1, 4000))
        mean, half = B.batch_means(x, batches=20, level=0.99)
        covered += abs(mean - 3.0) < half
        naive += abs(x.mean() - 3.0) < 2.576 * x.std(ddof=1) / np.sqrt(len(x))
    assert covered >= 190           # binomial(200, 0.99) is below 190 with prob < 1e-4
    assert naive < 150


def test_batch_means_interval_shrinks_with_more_data():
    x = 3.0 + lfilter([1.0], [1.0, -0.9], np.random.default_rng(2).normal(0, 1, 40_000))
    assert B.batch_means(x)[1] < B.batch_means(x[:4000])[1]


@pytest.mark.parametrize("call, exc, message", [
    (lambda: B.response_times([1, 2]), TypeError, "data must be a Run from balance.simulate"),
    (lambda: B.response_times(H.drop(columns="t_start")), ValueError, "missing t_start"),
    (lambda: B.response_times(H, warmup=-1), ValueError, "warmup must be >= 0; got -1"),
    (lambda: B.latency_percentiles(H, q=[1.5]), ValueError, "q must be quantiles in \\[0, 1\\]"),
    (lambda: B.latency_percentiles(H, by="zone"), ValueError, "by must be a column"),
    (lambda: B.queue_tail(H, warmup=2.0), ValueError, "window \\[warmup, end\\] must be non-empty"),
    (lambda: B.imbalance(H, measure="cpu"), ValueError, "measure must be one of 'requests'"),
    (lambda: B.batch_means([1.0] * 5, batches=20), ValueError, "at least batches=20 values; got 5"),
    (lambda: B.batch_means([1.0] * 50, level=1.0), ValueError, "level must be in \\(0, 1\\)"),
    (lambda: B.wait_probability(H, warmup=10.0), ValueError, "no request started service"),
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_server_loads_offered_load_flags_a_backend_that_cannot_keep_up():
    """offered_load = the service time sent to a backend per second of the window: weights
    equal to the speeds offer every backend ρ; random traffic offers a speed-1 backend of
    eight (speeds summing to 16) about 0.7 × 16 / 8 = 1.4, which it cannot serve (busy all
    the time); a backend that keeps up is offered what it is busy."""
    speeds = [1, 1, 1, 1, 2, 2, 4, 4]
    kw = dict(speeds=speeds, utilization=0.7, requests=8000, seed=1)
    wrr = B.server_loads(B.simulate(8, policy="weighted_round_robin", **kw), warmup=50.0)
    assert wrr["offered_load"].to_numpy() == pytest.approx([0.7] * 8, abs=0.06)
    run = B.simulate(8, policy="random", **kw)
    rand = B.server_loads(run, warmup=50.0)
    slow = rand["offered_load"].to_numpy()[:4]
    assert ((slow > 1.2) & (slow < 1.6)).all()
    assert (rand["utilization"].to_numpy()[:4] > 0.99).all()
    fast = rand.iloc[4:]
    assert fast["offered_load"].to_numpy() == pytest.approx(fast["utilization"].to_numpy(),
                                                            abs=0.03)
    # a bare history gives the same: the service times are in it
    assert B.server_loads(run.history, warmup=50.0)["offered_load"].tolist() == \
        rand["offered_load"].tolist()


def test_offered_load_judges_a_load_aware_policy_by_the_work_it_sent():
    """JSQ sends more requests to a backend that drew short jobs: counting requests would
    call a stable backend overloaded; the work sent stays below 1 and tracks busy time."""
    run = B.simulate(10, policy="jsq", utilization=0.9, requests=1000, seed=1)
    loads = B.server_loads(run, warmup=20.0)
    biased = loads["share"] * run.params["rate"] * run.params["service_mean"]
    assert biased.max() > 1.0                       # the request count overstates it
    assert loads["offered_load"].max() < 1.0
    assert loads["offered_load"].mean() == pytest.approx(loads["utilization"].mean(), abs=0.03)
