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
result.  A history without overlapping operations needs no search: :func:`search` then
returns the :class:`Result` itself, without the cost of a generator.

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
import operator

from .models import _register_step

__all__ = ["Result", "search"]

_CALL, _RETURN, _OPEN_RETURN, _MORE = 0, 1, 2, 3
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)
_LAZY = 48             # list entries described before the search starts (then 1/4 more,
                       # at least 16, at a time)
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


def _order(ops, times=None):
    """Entry numbers in time order: ``i < n`` is the call of op ``i``, ``n + i`` its return.

    Calls before returns at equal times, then by op index: a stable sort on the time alone
    gives exactly that when the calls are listed before the returns (a float key sorts far
    faster than ``(time, kind, index)`` tuples).
    """
    if times is None:
        times = list(map(_FIRST, ops))
        times += map(_SECOND, ops)
    return sorted(range(len(times)), key=times.__getitem__)


def search(ops, model, max_states: int = 6, greedy: bool = True, progress=None,
           times=None, in_order: bool = False):
    """Search for a linearization of ``ops`` under ``model`` (see the essay).

    ``ops`` is a list of ``(t_call, t_return, f, value, result, status)`` with
    ``t_return = inf`` for operations whose outcome is unknown.  ``greedy=False`` turns
    off the greedy linearization of observers (plain Wing–Gong–Lowe; for benchmarks).
    ``progress``, a list of two numbers, receives ``[configurations stored, steps]`` at
    every yield.  ``times``, if given, is the list of the ops' call times followed by
    their return times (saves building it).  ``in_order=True`` says that the ops are
    listed in call order and no two overlap (the caller knows it: saves checking it).

    Returns the :class:`Result` when no two operations overlap (there is one order, and
    no search), else a generator that yields ``None`` every few thousand steps and
    returns the :class:`Result`.
    """
    n_ops = len(ops)
    compact = n_ops > _COMPACT
    perm = None
    if compact:                          # completed operations first, in call order
        perm = sorted(range(n_ops), key=lambda i: (math.isinf(ops[i][1]), ops[i][0], i))
        ops = [ops[i] for i in perm]
        times = None
    if (in_order and n_ops and not compact) or (n_ops and ops[-1][1] != math.inf and all(
            a[1] < b[0] for a, b in zip(ops, itertools.islice(ops, 1, None)))):
        # listed in call order, each op returning before the next is called (one client):
        # no two operations overlap, without sorting the calls and returns
        return _permuted(_sequential(ops, None, model), perm)
    events = _order(ops, times)
    if _alternate(events, n_ops) and (not n_ops or ops[events[-2]][1] != math.inf):
        # no two operations overlap: every call is followed by its own return
        return _permuted(_sequential(ops, events[::2], model), perm)
    return _searching(ops, events, model, max_states, greedy, progress, compact, perm)


def _searching(ops, events, model, max_states, greedy, progress, compact, perm):
    """The search proper, as a generator (see :func:`search`)."""
    result = yield from _search(ops, events, model, max_states, greedy, progress, compact)
    return _permuted(result, perm)


def _permuted(result, perm):
    """``result`` with its op indices mapped back through ``perm`` (None: unchanged)."""
    if perm is not None:
        if result.linearization is not None:
            result.linearization = [perm[i] for i in result.linearization]
        if result.blocked is not None:
            result.blocked = perm[result.blocked]
    return result


def _alternate(events, n_ops) -> bool:
    """Whether every call in ``events`` is followed by its own return."""
    return all(events[j + 1] - events[j] == n_ops for j in range(0, 2 * n_ops, 2))


def _sequential(ops, order, model):
    """No two operations overlap: the only order is the order of the calls (``order``:
    op indices, or None for the order of ``ops``)."""
    state, step = model.init(), model.step
    if order is None:                    # ops listed in call order: no indexing
        for i, (_t_call, _t_ret, f, value, result, status) in enumerate(ops):
            ok, new = step(state, f, value, result, status)
            if not ok:
                return Result(False, blocked=i, states=[state], steps=i + 1, configs=i)
            state = new
        order = list(range(len(ops)))
    else:
        for j, i in enumerate(order):
            ok, new = step(state, *ops[i][2:])
            if not ok:
                return Result(False, blocked=i, states=[state], steps=j + 1, configs=j)
            state = new
    return Result(True, linearization=order, steps=len(order), configs=len(order))


#: How the search applies an op of the built-in register models (whose step is
#: :func:`~dsalgo.check.models._register_step`) without calling it: 0 ``get``
#: (consistent when the state equals the result), 1 ``put``, 2 ``cas`` ok, 3 ``cas``
#: failed (consistent when the state differs from ``old``), 4 ``cas`` with unknown outcome.
_CODES = {("get", "ok"): 0, ("get", "fail"): 0, ("get", "info"): 0,
          ("put", "ok"): 1, ("put", "fail"): 1, ("put", "info"): 1,
          ("cas", "ok"): 2, ("cas", "fail"): 3, ("cas", "info"): 4}


def _search(ops, events, model, max_states, greedy, progress, compact):
    n_ops = len(ops)
    n_entries = len(events)
    tail = n_entries + 1
    size = n_entries + 2
    inf = math.inf
    # Per entry (list position) rather than per op, so the hot loop indexes once:
    # kind[pos] — call, return, open return, or _MORE: not described yet (below);
    # stop[phase][pos] — the scan stops here (a return, or a call tried in this phase);
    # obs[pos] — 1/2 an inlined observer (get / failed cas), 3 another observer, 0 a call
    # that is no observer, -1 a return (the forced scan ends there); e_code[pos] — how
    # the step is applied (see _CODES; -1: model.step is called with e_data[pos]).
    kind = [_MORE] * size
    kind[0] = _RETURN                  # entry 0: "no candidate" (backtrack)
    kind[tail] = _OPEN_RETURN          # reaching the end of the list is success too
    opidx = [-1] * size
    match = [0] * size
    nxt = list(range(1, size + 1))
    prv = list(range(-1, size - 1))
    step = model.step
    inline = getattr(model, "step", None) is _register_step
    stop0, stop1 = [True] * size, [True] * size
    obs = [-1] * size
    e_code, e_arg, e_arg2 = [-1] * size, [None] * size, [None] * size
    e_data = [None] * size
    call_of = [0] * n_ops               # op -> the position of its call
    # An open return (at +inf) sorts last, open ops in index order: its position is
    # known before it is described, so linearizing an open op does not describe the
    # whole list to find it.
    ret_of = [0] * n_ops                # op -> the position of its return, if known
    pos = n_entries
    while pos and events[pos - 1] >= n_ops and ops[events[pos - 1] - n_ops][1] == inf:
        ret_of[events[pos - 1] - n_ops] = pos
        pos -= 1
    desc = {}                           # (f, status) -> (code, obs kind), asked once each

    def describe(upto):
        """Describe the entries up to ``upto`` (at least): the search reads the list only
        up to the first return it cannot pass, so on a history that is not linearizable
        early the entries after its violation are never described (lazily, in chunks
        that grow by a quarter: small ones, since on a short history describing the
        entries is a good part of the search)."""
        lo = done[0]
        hi = done[0] = min(n_entries, max(upto, lo + max(16, lo >> 2), _LAZY))
        for pos, ev in enumerate(events[lo:hi], lo + 1):
            if ev >= n_ops:
                i = ev - n_ops
                opidx[pos] = i
                kind[pos] = _OPEN_RETURN if ops[i][1] == inf else _RETURN
                match[call_of[i]] = pos         # match[call]: the position of its return
                continue
            opidx[pos] = ev
            kind[pos] = _CALL
            call_of[ev] = pos
            match[pos] = ret_of[ev]             # known already for an open return
            _t, t_ret, f, value, result, status = ops[ev]
            d = desc.get((f, status))
            if d is None:
                c = _CODES.get((f, status), -1) if inline else -1
                d = desc[f, status] = (c, (1 if c == 0 else 2 if c == 3 else 3) if greedy
                                       and not model.changes_state(f, status) else 0)
            c, o = d
            if c == 0:
                e_arg[pos] = result
            elif c == 1:
                e_arg[pos] = value
            elif c > 1:
                if type(value) is tuple and len(value) == 2:
                    e_arg[pos], e_arg2[pos] = value
                else:
                    c = -1
                    if o:
                        o = 3
            e_code[pos] = c
            obs[pos] = o
            if o:                               # an observer, placed by the forced scan
                stop0[pos] = stop1[pos] = False
            elif t_ret == inf:
                stop0[pos] = False
            else:
                stop1[pos] = False
            if c < 0 or o == 3:
                e_data[pos] = (f, value, result, status)

    done = [0]                          # entries 1..done[0] are described
    describe(_LAZY)

    state = model.init()
    lin = 0
    stack = []                          # (call entry, state before, forced, phase)
    cache = set()
    steps, due = 0, _SLICE              # steps taken; the step at which to yield next
    best_ret, best_states = 0, []

    fresh = greedy                      # a new configuration: look for a forced no-op
    scan_from = 0                       # where that look starts (0: the list's head)
    phase = 0                           # 0: try completed ops; 1: then open (info) ops
    stops = stop0
    e = nxt[0]
    while True:
        steps += 1
        if steps == due:
            due += _SLICE
            if progress is not None:
                progress[0], progress[1] = len(cache), steps
            yield None
        if fresh:
            fresh = False
            # a candidate that never changes the state and is consistent here; after a
            # forced no-op the state is the same, so the calls before it were rejected
            # already: the look resumes after it
            f_e = scan_from or nxt[0]
            scan_from = 0
            while True:
                o = obs[f_e]
                if o > 0 and (state == e_arg[f_e] if o == 1 else state != e_arg[f_e]
                              if o == 2 else step(state, *e_data[f_e])[0]):
                    break
                if o < 0:
                    if kind[f_e] == _MORE:
                        describe(f_e)
                        continue
                    f_e = 0
                    break
                f_e = nxt[f_e]
            if f_e:
                nl = lin | 1 << opidx[f_e]
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
                    r = match[f_e]           # lift the call and its return out
                    while not r:             # its return is not described yet
                        describe(done[0] + 1)
                        r = match[f_e]
                    p, q = prv[f_e], nxt[f_e]
                    nxt[p] = q
                    prv[q] = p
                    if q == r:               # its return came next: resume after that
                        q = nxt[r]
                    scan_from = q
                    p, q = prv[r], nxt[r]
                    nxt[p] = q
                    prv[q] = p
                    fresh = greedy
                    e = nxt[0]
                    continue
        while not stops[e]:             # skip calls not tried in this phase
            e = nxt[e]
        k = kind[e]
        if k == _CALL:
            c = e_code[e]
            if c == 0:
                ok, new = state == e_arg[e], state
            elif c == 1:
                ok, new = True, e_arg[e]
            elif c == 2:
                ok, new = state == e_arg[e], e_arg2[e]
            elif c == 3:
                ok, new = state != e_arg[e], state
            elif c == 4:
                ok, new = True, e_arg2[e] if state == e_arg[e] else state
            else:
                ok, new = step(state, *e_data[e])
            if ok:
                nl = lin | 1 << opidx[e]
                if compact:
                    w = ((nl + 1) & ~nl).bit_length() - 1
                    key = (w, nl >> w, new)
                else:
                    key = (nl, new)
                if key not in cache:
                    cache.add(key)
                    stack.append((e, state, False, phase))
                    lin, state = nl, new
                    r = match[e]             # lift the call and its return out
                    while not r:             # its return is not described yet
                        describe(done[0] + 1)
                        r = match[e]
                    p, q = prv[e], nxt[e]
                    nxt[p] = q
                    prv[q] = p
                    p, q = prv[r], nxt[r]
                    nxt[p] = q
                    prv[q] = p
                    fresh = greedy
                    phase, stops = 0, stop0
                    e = nxt[0]
                    continue
            e = nxt[e]
            continue
        if k == _MORE:
            describe(e)
            continue
        if k == _OPEN_RETURN:
            return Result(True, linearization=[opidx[s[0]] for s in stack], steps=steps,
                          configs=len(cache))
        if e and phase == 0:            # completed candidates exhausted: try open ones
            phase, stops = 1, stop1
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
            lin ^= 1 << opidx[e]
            r = match[e]                # put the return, then the call, back in
            nxt[prv[r]] = r
            prv[nxt[r]] = r
            nxt[prv[e]] = e
            prv[nxt[e]] = e
            if not forced:
                break
        stops = stop1 if phase else stop0
        e = nxt[e]
