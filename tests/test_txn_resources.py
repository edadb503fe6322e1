"""cpu= and storage= for the transaction families: defaults leave the tables as they were,
bad models are refused, and with storage the protocols stay correct under crashes that
lose unsynced writes."""

import pytest

from dsalgo import sim, txn
from dsalgo.sim.testing import run_digests as digest
from dsalgo.soak.txn import _setting

STORAGE = sim.Storage(sync=sim.LogNormal(median=0.003, sigma=0.5))


def nemesis():
    return [sim.Nemesis(crash=1.0, partition=0.5, mean_duration=0.2, end=1.0)]


# Digests of (messages, events, history, faults), computed with the code before the
# processing and storage keywords existed: without the models nothing moved (re-derived
# when links moved to counter-based random streams).
BEFORE = {
    "twopc": ('250872978c99db9e', 'f5cdfb47e7672ec6', '187a0de8ad43a68b', '92d3a4dcb7d222fc'),
    "saga": ('24f1d1267b88d962', '4178bd73126e0a40', 'b94852f9a8753bf8', '92d3a4dcb7d222fc'),
    "choreographed": ('86278d6b1a7c5853', '48a510df306594f7', '462f50349958ade8',
                      'f04d34557a8e9301'),
}


def small(name, **kw):
    lossy = sim.Network(latency=sim.Exponential(0.002), drop_rate=0.05, duplicate_rate=0.05)
    if name == "twopc":
        return txn.twopc.simulate(n=3, seed=3, duration=1.0, drain=1.0, faults=nemesis(),
                                  network=lossy, termination="cooperative", **kw)
    if name == "saga":
        return txn.saga.simulate(n=3, seed=3, duration=1.0, drain=1.0, faults=nemesis(),
                                 step_failure=0.1, **kw)
    return txn.saga.simulate(n=3, seed=5, duration=1.0, drain=1.0, faults=nemesis(),
                             step_failure=0.2, form="choreographed", network=lossy, **kw)


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_without_the_models_the_tables_are_what_they_were(name):
    run = small(name)
    assert digest(run) == BEFORE[name]
    assert digest(small(name, cpu=None, storage=None)) == BEFORE[name]
    assert "cpu" not in run.params and "storage" not in run.params


@pytest.mark.parametrize("family", [txn.twopc, txn.saga])
def test_bad_models_are_refused_naming_the_parameter(family):
    with pytest.raises(TypeError, match="cpu must be a latency model.*got 0.001"):
        family.simulate(n=2, duration=0.1, cpu=0.001)
    with pytest.raises(TypeError, match=r"storage must be a dsalgo.sim.Storage.*got"):
        family.simulate(n=2, duration=0.1, storage=sim.Constant(0.004))
    with pytest.raises(TypeError, match=r"cpu\['Vote'\] must be a latency model"):
        family.simulate(n=2, duration=0.1, cpu={"Vote": -1})


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_with_storage_crashes_lose_unsynced_writes_and_the_protocols_stay_correct(name):
    lossy_crashes = 0
    for seed in range(3):
        kw = _setting()
        kw["seed"] = seed
        cpu, storage = sim.Exponential(0.0002), STORAGE
        if name == "twopc":
            run = txn.twopc.simulate(n=3, termination="cooperative", cpu=cpu,
                                     storage=storage, **kw)
        else:
            run = txn.saga.simulate(n=3, step_failure=0.1, cpu=cpu, storage=storage,
                                    form="orchestrated" if name == "saga" else
                                    "choreographed", **kw)
        v = txn.check(run)
        assert v, str(v)
        ev = run.events
        assert (ev["kind"] == "sync").any() and not ev.loc[ev["kind"] == "sync", "node"] \
            .astype(str).str.startswith("c").any()               # clients take no time
        lossy_crashes += int(ev["unsynced_lost"].fillna(False).astype(bool).sum())
        assert run.params["storage"] == repr(storage) and run.params["cpu"] == repr(cpu)
    assert lossy_crashes > 0                                     # it did happen


def test_a_vote_waits_for_its_prepared_record_and_tables_are_deterministic():
    kw = dict(n=2, seed=1, duration=0.5, drain=0.5, clients=1,
              network=sim.Network(latency=sim.Constant(0.001)))
    slow = sim.Storage(sync=sim.Constant(0.01))
    fast, synced = txn.twopc.simulate(**kw), txn.twopc.simulate(storage=slow, **kw)
    lat = [r["t_complete"] - r["t_invoke"] for r in (fast.history, synced.history)
           for r in [r[r["f"] == "transfer"].iloc[0]]]
    # prepared records on both participants (one sync each, in parallel), then tm's commit
    # record: two syncs of 10 ms on the way to the client's answer
    assert lat[1] - lat[0] == pytest.approx(0.02, abs=1e-9)
    assert digest(txn.twopc.simulate(storage=slow, **kw)) == digest(synced)


def test_a_participant_acks_a_commit_one_sync_after_it():
    """The commit record and the ack share one sync: the Ack leaves one sync after the
    Commit is handled (asking for the record's sync and then for the ack's waited for two)."""
    kw = dict(n=2, seed=1, duration=0.5, drain=0.5, clients=1,
              network=sim.Network(latency=sim.Constant(0.001)))
    m = txn.twopc.simulate(storage=sim.Storage(sync=sim.Constant(0.01)), **kw).messages
    commits = m[(m["type"] == "Commit") & (m["src"] == "tm")]
    acks = m[m["type"] == "Ack"]
    assert len(acks) >= 4 and len(acks) == len(commits)
    for p, got in commits.groupby("dst"):   # each participant's commits, in order, and acks
        sent = acks.loc[acks["src"] == p, "t_send"].sort_values().to_numpy()
        handled = got["t_deliver"].sort_values().to_numpy()
        assert sent - handled == pytest.approx([0.01] * len(sent), abs=1e-9), p
