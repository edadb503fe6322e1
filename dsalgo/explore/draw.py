"""``draw``: a failing run (a shrunk scenario, usually) as a space-time diagram with the
violation marked."""

from __future__ import annotations

__all__ = ["draw", "violation"]


def violation(result, run=None) -> dict:
    """The violation to mark: ``property``, ``time`` (s), ``nodes`` and ``detail``, the
    earliest one of the result's property that the family's checker reports on ``run``
    (default: the result's run).

    Examples
    --------
    >>> from dsalgo import explore
    >>> s = explore.Scenario("raft", 3, seed=4, duration=0.5, knobs={"clients": 1})
    >>> violation(s)
    Traceback (most recent call last):
    ...
    ValueError: result must be a failing run; this run violates no property
    """
    from ..families import family
    scen = getattr(result, "scenario", result)
    run = run if run is not None else (result.run if hasattr(result, "run") and not
                                       callable(result.run) else scen.run())
    v = family(scen.family).check(run).violations
    prop = getattr(result, "property", None)
    if prop is not None and len(v):
        v = v[v["property"] == prop]
    if not len(v):
        raise ValueError("result must be a failing run; this run violates no property")
    row = v.sort_values("time", kind="stable").iloc[0]
    nodes = row["nodes"] if "nodes" in v.columns else ()
    if isinstance(nodes, str):
        nodes = (nodes,)
    return {"property": str(row["property"]), "time": float(row["time"]),
            "nodes": tuple(str(x) for x in (nodes if nodes is not None else ())),
            "detail": str(row["detail"])}


def draw(result, *, ax=None, events=("leader_elected", "commit", "crash"), **kwargs):
    """Draw ``result``'s run as a space-time diagram and mark its violation.

    :func:`dsalgo.plot.spacetime` draws the messages, faults and ``events``; a red
    vertical line marks the violation's time, red rings the nodes it names, and the title
    says which property broke.

    Parameters
    ----------
    result : ShrinkResult, SearchResult or Scenario
        A failing run (its scenario is replayed with messages recorded).
    ax : matplotlib Axes, optional
    events : sequence of str
        Event kinds to mark with labelled dots (those the run has).
    **kwargs
        Passed on to :func:`dsalgo.plot.spacetime`.

    Returns
    -------
    matplotlib.axes.Axes
        With ``ax.violation``, the dict :func:`violation` returned.

    Examples
    --------
    >>> from dsalgo import explore, raft
    >>> s = explore.Scenario("raft", 3, seed=0, duration=1.0, knobs={"clients": 1},
    ...                      bugs=("no_truncate_on_conflict",))
    >>> explore.draw(s)
    Traceback (most recent call last):
    ...
    ValueError: result must be a failing run; this run violates no property
    """
    from .. import plot
    scen = getattr(result, "scenario", result)
    run = getattr(result, "run", None)
    if run is None or callable(run) or getattr(run, "messages", None) is None:
        run = scen.run()
    v = violation(result, run)
    kinds = set(run.events["kind"].astype(str)) if len(run.events) else set()
    marks = [e for e in events if e in kinds] or None
    ax = plot.spacetime(run, ax=ax, events=marks, **kwargs)
    order = [t.get_text() for t in ax.get_yticklabels()]
    x = v["time"] * 1000.0
    ax.axvline(x, color="red", lw=1.5, ls="--", zorder=5)
    for node in v["nodes"]:
        if node in order:
            ax.plot([x], [order.index(node)], "o", ms=14, mfc="none", mec="red", mew=2,
                    zorder=6)
    ax.set_title(f"{v['property']} violated at {v['time'] * 1000:.0f} ms: {v['detail']}",
                 fontsize=9, color="red")
    ax.violation = v
    return ax
