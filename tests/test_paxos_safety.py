"""Safety of the Paxos family across many seeds, and the broken variants it catches.

Every "always" is paired with a "sometimes" (STYLE §5): the property tests also count
that decisions, preemptions and leader changes did happen in the runs they checked.
"""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsalgo import paxos, sim
from dsalgo.soak import soak

LOSSY = sim.Network(latency=sim.Exponential(mean=0.005), drop_rate=0.03, duplicate_rate=0.03)
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def happened(run):
    kinds = run.events.kind.value_counts()
    return Counter({"decided": int(kinds.get("decided", 0) > 0),
                    "preempted": int(kinds.get("preempted", 0) > 0),
                    "leader_replaced": int(kinds.get("leader", 0) > 1),
                    "ops_ok": int((run.history.status == "ok").sum() > 0) if len(run.history) else 0})


# ---------------------------------------------------------------- always ... and sometimes
def test_single_decree_agreement_and_validity_hold_under_a_nemesis():
    seen = Counter()

    @SETTINGS
    @given(seed=st.integers(0, 10**6), n=st.sampled_from([3, 4, 5]),
           backoff=st.sampled_from([(0.0, 0.0), (0.0, 0.01), (0.0, 0.05)]))
    def always(seed, n, backoff):
        run = paxos.simulate(n, variant="single", seed=seed, duration=0.6, network=LOSSY,
                             proposers=n, backoff=backoff, retry_timeout=0.05,
                             faults=[sim.Nemesis(crash=4.0, partition=2.0, pause=2.0,
                                                 mean_duration=0.05, max_crashed=n - 1)])
        v = paxos.check(run)
        assert v, str(v)
        seen.update(happened(run))

    always()
    assert seen["decided"] >= 6 and seen["preempted"] >= 3


def test_multi_paxos_store_is_safe_under_a_nemesis():
    seen = Counter()

    @SETTINGS
    @given(seed=st.integers(0, 10**6), n=st.sampled_from([3, 5]),
           window=st.sampled_from([1, 4, 16]))
    def always(seed, n, window):
        run = paxos.simulate(n, seed=seed, duration=1.5, network=LOSSY, window=window,
                             clients=3, keys=2,
                             faults=[sim.Nemesis(crash=1.5, partition=1.0, pause=1.0,
                                                 clock_jump=1.0, mean_duration=0.2,
                                                 max_crashed=n // 2)])
        v = paxos.check(run)
        assert v, str(v)
        seen.update(happened(run))

    always()
    assert seen["ops_ok"] >= 10 and seen["leader_replaced"] >= 3 and seen["preempted"] >= 2


def test_flexible_paxos_store_is_safe_for_every_intersecting_q1_q2():
    seen = Counter()

    @SETTINGS
    @given(seed=st.integers(0, 10**6), q2=st.integers(1, 5))
    def always(seed, q2):
        run = paxos.simulate(5, seed=seed, duration=1.5, network=LOSSY, q2=q2, clients=3,
                             faults=[sim.Nemesis(crash=1.5, partition=1.0, pause=0.5,
                                                 mean_duration=0.2, max_crashed=2)])
        v = paxos.check(run)
        assert v, str(v)
        seen.update(happened(run))

    always()
    assert seen["ops_ok"] >= 10 and seen["leader_replaced"] >= 3


# ---------------------------------------------------------------- broken variants, scripted
def single_run(bugs, faults, **kw):
    return paxos.simulate(3, variant="single", seed=0, duration=1.0, bugs=bugs, faults=faults,
                          **kw)


SINGLE_SCRIPTS = {
    # n2 is cut off while n1 gets v1 chosen; after the heal n2 must adopt v1
    "ignore_accepted_value": {"faults": [sim.Partition([["n2"], ["n1", "n3"]], at=0.0,
                                                        until=0.3)]},
    # v1 is chosen by {n1, n3}; n3 restarts and n1 stays down; n2 then asks {n2, n3}
    "acceptor_forgets_promise": {"faults": [
        sim.Partition([["n2"], ["n1", "n3"]], at=0.0, until=0.3),
        sim.Crash("n1", at=0.1), sim.Crash("n3", at=0.1), sim.Restart("n3", at=0.15)]},
    # both proposers pick ballot (1, '') at the same instant on equal links
    "duplicate_ballots": {"faults": [], "network": sim.Network(latency=sim.Constant(0.01))},
}


@pytest.mark.parametrize("bug", sorted(SINGLE_SCRIPTS))
def test_single_decree_broken_variant_is_caught_in_its_scripted_scenario(bug):
    script = SINGLE_SCRIPTS[bug]
    good = single_run((), **script)
    assert paxos.check(good) and paxos.check(good).info["slots_decided"] == 1
    v = paxos.check(single_run({bug}, **script))
    assert not v and not v.holds("agreement")
    # The learners' split is still reported; duplicate_ballots is also caught at its root
    # (one_value_per_ballot), which may be the first violation str(v) shows.
    details = " | ".join(v.violations.loc[v.violations.property == "agreement", "detail"])
    assert "slot 0 decided 'v1'" in details and "'v2'" in details
    if bug == "duplicate_ballots":
        assert not v.holds("one_value_per_ballot")


def leader_at(seed, t, **kw):
    run = paxos.simulate(3, seed=seed, duration=t, **kw)
    lead = run.events[run.events.kind == "leader"]
    return str(lead.node.iloc[-1])


def amnesia(seed):
    """Both followers crash and restart (losing their logs), then the leader crashes."""
    lead = leader_at(seed, 0.5)
    a, b = [x for x in ("n1", "n2", "n3") if x != lead]
    return [sim.Crash(a, at=0.5), sim.Crash(b, at=0.5), sim.Restart(a, at=0.52),
            sim.Restart(b, at=0.52), sim.Crash(lead, at=0.53)]


MULTI_SCRIPTS = {
    "ignore_accepted_value": lambda seed: {"faults": amnesia(seed)},
    "acceptor_forgets_promise": lambda seed: {"faults": amnesia(seed)},
    # every node times out at once and, sharing ballot (1, ''), all lead at once
    "duplicate_ballots": lambda seed: {"election_timeout": (0.2, 0.2)},
}


@pytest.mark.parametrize("bug", sorted(MULTI_SCRIPTS))
def test_multi_paxos_broken_variant_is_caught_in_its_scripted_scenario(bug):
    script = MULTI_SCRIPTS[bug](seed=1)
    good = paxos.simulate(3, seed=1, duration=1.5, **script)
    assert paxos.check(good) and (good.history.status == "ok").sum() > 50
    v = paxos.check(paxos.simulate(3, seed=1, duration=1.5, bugs={bug}, **script))
    assert not v.holds("agreement")


# ---------------------------------------------------------------- broken variants, searched
def search(variant, bug, tries=60):
    """The first seed in ``tries`` whose randomized run the checker rejects, or None."""
    n = 3
    for seed in range(tries):
        if variant == "single":
            run = paxos.simulate(n, variant="single", seed=seed, duration=1.0, network=LOSSY,
                                 proposers=n, bugs={bug},
                                 faults=[sim.Nemesis(crash=8.0, partition=2.0,
                                                     mean_duration=0.05, max_crashed=n - 1)])
        else:
            run = paxos.simulate(n, seed=seed, duration=1.0, network=LOSSY, bugs={bug},
                                 faults=[sim.Nemesis(crash=8.0, partition=2.0,
                                                     mean_duration=0.05, max_crashed=n - 1)])
        if not paxos.check(run):
            return seed
    return None


@pytest.mark.parametrize("variant", ["single", "multi"])
@pytest.mark.parametrize("bug", paxos.BUGS)
def test_broken_variant_is_found_by_a_randomized_search(variant, bug):
    assert search(variant, bug) is not None


def test_the_same_randomized_search_finds_nothing_in_the_correct_kernels():
    for seed in range(8):
        for variant in ("single", "multi"):
            run = paxos.simulate(3, variant=variant, seed=seed, duration=1.0, network=LOSSY,
                                 proposers=3,
                                 faults=[sim.Nemesis(crash=8.0, partition=2.0,
                                                     mean_duration=0.05, max_crashed=2)])
            assert paxos.check(run)


# ---------------------------------------------------------------- soaks (small samples)
@pytest.mark.parametrize("name", ["paxos-single", "paxos-multi", "paxos-flexible"])
def test_soak_sample_passes_and_the_interesting_things_happen(name):
    result = soak(name, runs=12)
    assert result.ok, result.report()


@pytest.mark.parametrize("variant", ["single", "multi"])
def test_non_intersecting_quorums_are_found_unsafe_by_a_randomized_search(variant):
    def runs(**quorums):
        for seed in range(60):
            yield paxos.simulate(4, variant=variant, seed=seed, duration=1.0, proposers=4,
                                 faults=[sim.Nemesis(partition=4.0, mean_duration=0.2)],
                                 **quorums)

    assert any(not paxos.check(r) for r in runs(q1=2, q2=2, unsafe=True))
    assert all(paxos.check(r) for _, r in zip(range(10), runs(q1=3, q2=2)))
