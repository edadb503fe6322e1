"""The big budgets of :func:`dsalgo.explore.exhaustive` (``make soak``; the test suite runs
small ones).

``raft-explore`` has four trials (seed modulo 4), each a bounded exhaustive exploration
of 3 servers running the kernel's own node classes, with no scripted scenario:

0. ``commit_prior_term`` is found by the delay-bounded search (at most 3 deviations from
   the FIFO default schedule, 4 election timeouts, 2 client requests, 80 steps): the
   Figure 8 counterexample, three leaders in successive terms and a fourth election;
1. the correct Raft passes the same bounds;
2. ``forget_vote_on_restart`` is found (2 deviations, 1 crash, 2 timeouts);
3. correct single-decree Paxos passes breadth-first to depth 7 with one crash.
"""

from __future__ import annotations

from . import Soak

__all__ = ["SOAKS", "TRIALS"]

FIGURE8 = dict(strategy="delay", delays=3, depth=80, crashes=0, requests=2, fires=4)
VOTE = dict(strategy="delay", delays=2, depth=60, crashes=1, requests=0, fires=2)

#: (family, bugs, bounds, must find)
TRIALS = (
    ("raft", ("commit_prior_term",), FIGURE8, True),
    ("raft", (), FIGURE8, False),
    ("raft", ("forget_vote_on_restart",), VOTE, True),
    ("paxos", (), dict(depth=7, crashes=1), False),
)


class _Verdict:
    def __init__(self, ok, text):
        self.ok, self.text = ok, text

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.text


def trial(seed: int):
    from .. import explore
    family, bugs, bounds, must = TRIALS[seed % len(TRIALS)]
    res = explore.exhaustive(family, n=3, bugs=bugs, **bounds)
    ok = res.found == must
    head = str(res).splitlines()[0]
    happened = {"states": res.states, "counterexample_steps": res.depth if res.found else 0,
                "found": int(res.found)}
    return _Verdict(ok, head if ok else f"expected found={must}: {head}"), happened


SOAKS = {
    "raft-explore": Soak(trial=trial, runs=len(TRIALS), family="raft",
                         description="bounded exhaustive exploration (dsalgo.explore): "
                                     "Figure 8 found, forget_vote_on_restart found, "
                                     "correct Raft and Paxos pass"),
}
