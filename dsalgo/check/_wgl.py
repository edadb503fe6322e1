"""The Wing–Gong–Lowe search for a linearization of one independent history.

Wing & Gong (1993) search for a linearization depth-first over the history as a list of
call and return entries: the first entry that is a return belongs to an operation that
must be linearized before anything after it, so only the calls before it are candidates.
Lowe (2017, "Testing for linearizability", CCPE) adds the memoisation that makes it
practical: a configuration is the pair (set of linearized operations, model state), and
a configuration already explored is never explored again.  Porcupine
(``porcupine/checker.go``: ``checkSingle``) is the model for this code: entries sit in a
doubly linked list, linearizing an operation lifts its call and return out of the list and
backtracking puts them back in reverse order (dancing links); the set of linearized
operations is a bitset, here a Python int.

Two additions, both sound and complete:

- **Operations with unknown outcome** (``info``) have their return at +infinity.  The
  search succeeds as soon as the first return left in the list is such a return: every
  completed operation is then linearized, and the open ones may simply never have taken
  effect.
- **Greedy linearization of observers.**  If a candidate operation can never change the
  state (a read, a failed compare: :meth:`Model.changes_state` is False) and is consistent
  with the current state, some successful linearization from here, if any, starts with it:
  moving it to the front keeps every state and respects real time, since it is already a
  candidate.  So it is linearized without branching.  On read-heavy histories this removes
  most of the branching.  (It must not be applied to an operation that merely happens to
  leave *this* state unchanged — an ``info`` cas whose compare fails now may succeed
  later.)

A history in which no two operations overlap (one client, or a key only one client used)
has one order, that of the calls; it is stepped through directly, without the search's
set-up.

Among the candidates at a configuration, completed operations are tried before open ones
(a second pass over the same candidates): an open operation is optional, and placing it
early is rarely what a witness needs.  This only changes the order of the search, not
what it explores in the worst case; on Porcupine's etcd logs it cuts the configurations
of some linearizable files a hundredfold.

The search also records the furthest return it was ever blocked at.  It is blocked at the
return of operation *r* exactly when the history up to (but excluding) that return is
linearizable and *r* could not be placed, so the furthest such return ends the
**smallest prefix that cannot be linearized** — the explanation the verdict reports.

The search is a generator that yields ``None`` every few thousand steps, so the caller can
interleave independent keys and stop at a time or memory limit (it writes the
configurations stored and the steps taken into ``progress``); its return value is the
result.

**Memory on long histories.**  A configuration's set of linearized operations is a bitset
of one bit per operation, so on a history of *n* operations a plain cache costs *n*/8
bytes per configuration (Porcupine's too).  Beyond :data:`_COMPACT` operations the
operations are numbered completed-first in call order and a configuration is stored as
``(w, bits >> w, state)`` with *w* the number of leading operations all linearized —
the same set, exactly, in a few bytes when few processes run at once.
"""

from __future__ import annotations

import itertools
import math

__all__ = ["Result", "search"]

_CALL, _RETURN, _OPEN_RETURN = 0, 1, 2
_SLICE = 2048          # steps between yields
_COMPACT = 2048        # operations beyond which configurations are stored compactly


class Result:
    """The outcome of one search.

    ``linearizable`` is True/False; on False, ``blocked`` is the index (into the ops given)
    of the operation whose return ends the smallest non-linearizable prefix and
    ``states`` a few model states the search had reached when it was blocked there.
    ``linearization`` is one witness order (op indices) when True.
    """

    __slots__ = ("blocked", "configs", "linearizable", "linearization", "states", "steps")

    def __init__(self, linearizable, blocked=None, states=(), linearization=None, steps=0,
                 configs=0):
        self.linearizable = linearizable
        self.blocked = blocked
        self.states = list(states)
        self.linearization = linearization
        self.steps = steps
        self.configs = configs


def _entries(ops):
    """Call and return entries in time order; calls before returns at equal times."""
    events = [(op[0], 0, i) for i, op in enumerate(ops)]
    events += [(op[1], 1, i) for i, op in enumerate(ops)]
    events.sort()
    return events


def search(ops, model, max_states: int = 6, greedy: bool = True, progress=None):
    """Search for a linearization of ``ops`` under ``model`` (a generator; see the essay).

    ``ops`` is a list of ``(t_call, t_return, f, value, result, status)`` with
    ``t_return = inf`` for operations whose outcome is unknown.  ``greedy=False`` turns
    off the greedy linearization of observers (plain Wing–Gong–Lowe; for benchmarks).
    ``progress``, a list of two numbers, receives ``[configurations stored, steps]`` at
    every yield.
    """
    n_ops = len(ops)
    order = sorted(range(n_ops), key=lambda i: ops[i][0])
    if all(ops[a][1] < ops[b][0] for a, b in itertools.pairwise(order)) and (
            not n_ops or ops[order[-1]][1] != math.inf):
        return _sequential(ops, order, model)
    compact = n_ops > _COMPACT
    perm = None
    if compact:                          # completed operations first, in call order
        perm = sorted(range(n_ops), key=lambda i: (math.isinf(ops[i][1]), ops[i][0], i))
        ops = [ops[i] for i in perm]
    result = yield from _search(ops, model, max_states, greedy, progress, compact)
    if perm is not None:
        if result.linearization is not None:
            result.linearization = [perm[i] for i in result.linearization]
        if result.blocked is not None:
            result.blocked = perm[result.blocked]
    return result


def _sequential(ops, order, model):
    """No two operations overlap: the only order is the order of the calls."""
    state, step = model.init(), model.step
    for j, i in enumerate(order):
        ok, new = step(state, *ops[i][2:])
        if not ok:
            return Result(False, blocked=i, states=[state], steps=j + 1, configs=j)
        state = new
    return Result(True, linearization=order, steps=len(order), configs=len(order))


def _search(ops, model, max_states, greedy, progress, compact):
    events = _entries(ops)
    n_entries = len(events)
    tail = n_entries + 1
    kind = [_CALL] * (n_entries + 2)
    opidx = [-1] * (n_entries + 2)
    match = [0] * (n_entries + 2)
    call_of = [0] * len(ops)
    inf = math.inf
    for pos, (t, is_ret, i) in enumerate(events, start=1):
        opidx[pos] = i
        if is_ret:
            kind[pos] = _OPEN_RETURN if t == inf else _RETURN
            match[call_of[i]] = pos
        else:
            call_of[i] = pos
    kind[tail] = _OPEN_RETURN          # reaching the end of the list is success too
    nxt = list(range(1, n_entries + 3))
    prv = list(range(-1, n_entries + 1))
    data = [op[2:] for op in ops]
    bits = None if compact else [1 << i for i in range(len(ops))]
    step = model.step
    kinds = {}                          # (f, status) -> observer?, asked once each
    if greedy:
        for op in ops:
            if (op[2], op[5]) not in kinds:
                kinds[op[2], op[5]] = not model.changes_state(op[2], op[5])
    observer = [greedy and kinds[op[2], op[5]] for op in ops]
    pass_of = [-1 if obs else int(op[1] == inf) for obs, op in zip(observer, ops)]

    state = model.init()
    lin = 0
    stack = []                          # (call entry, state before, forced)
    cache = set()
    steps = 0
    best_ret, best_states = 0, []

    def lift(e):
        r = match[e]
        nxt[prv[e]] = nxt[e]
        prv[nxt[e]] = prv[e]
        nxt[prv[r]] = nxt[r]
        prv[nxt[r]] = prv[r]

    def unlift(e):
        r = match[e]
        nxt[prv[r]] = r
        prv[nxt[r]] = r
        nxt[prv[e]] = e
        prv[nxt[e]] = e

    def forced_candidate():
        """A candidate that never changes the state and is consistent here, or 0."""
        e = nxt[0]
        while kind[e] == _CALL:
            i = opidx[e]
            if observer[i] and step(state, *data[i])[0]:
                return e
            e = nxt[e]
        return 0

    fresh = greedy                      # a new configuration: look for a forced no-op
    phase = 0                           # 0: try completed ops; 1: then open (info) ops
    e = nxt[0]
    while True:
        steps += 1
        if not steps % _SLICE:
            if progress is not None:
                progress[0], progress[1] = len(cache), steps
            yield None
        if fresh:
            fresh = False
            f_e = forced_candidate()
            if f_e:
                nl = lin | (bits[opidx[f_e]] if bits else 1 << opidx[f_e])
                if compact:
                    w = ((nl + 1) & ~nl).bit_length() - 1
                    key = (w, nl >> w, state)
                else:
                    key = (nl, state)
                if key in cache:
                    e = 0                    # explored before, and it failed: backtrack
                else:
                    cache.add(key)
                    stack.append((f_e, state, True, 0))
                    lin = nl
                    lift(f_e)
                    fresh = greedy
                    e = nxt[0]
                    continue
        k = kind[e] if e else _RETURN
        if k == _CALL:
            i = opidx[e]
            # observers need no try here: the forced scan found none consistent
            if pass_of[i] == phase:
                ok, new = step(state, *data[i])
                if ok:
                    nl = lin | (bits[i] if bits else 1 << i)
                    if compact:
                        w = ((nl + 1) & ~nl).bit_length() - 1
                        key = (w, nl >> w, new)
                    else:
                        key = (nl, new)
                    if key not in cache:
                        cache.add(key)
                        stack.append((e, state, False, phase))
                        lin, state = nl, new
                        lift(e)
                        fresh = greedy
                        phase = 0
                        e = nxt[0]
                        continue
            e = nxt[e]
            continue
        if k == _OPEN_RETURN:
            return Result(True, linearization=[opidx[s[0]] for s in stack], steps=steps,
                          configs=len(cache))
        if e and phase == 0:            # completed candidates exhausted: try open ones
            phase = 1
            e = nxt[0]
            continue
        if e:                           # blocked at a return: remember the furthest
            if e > best_ret:
                best_ret, best_states = e, [state]
            elif e == best_ret and len(best_states) < max_states and state not in best_states:
                best_states.append(state)
        while True:                     # backtrack past forced entries
            if not stack:
                return Result(False, blocked=opidx[best_ret], states=best_states,
                              steps=steps, configs=len(cache))
            e, state, forced, phase = stack.pop()
            lin ^= bits[opidx[e]] if bits else 1 << opidx[e]
            unlift(e)
            if not forced:
                break
        e = nxt[e]
