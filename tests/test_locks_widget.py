"""The lock chart and the locks explorer widget."""

import matplotlib.pyplot as plt
import pytest

from dsalgo import locks, plot
from dsalgo.widgets import locks_explorer


def test_lock_timeline_draws_beliefs_writes_and_overlaps():
    run = locks.scenarios.zookeeper_session_expiry()
    ax = plot.lock_timeline(run)
    labels = ax.get_legend_handles_labels()[1]
    assert ax.get_title() == "zookeeper_session_expiry: space-time diagram"
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "node"
    for want in ("c1 believes it holds the lock", "write rejected", "write accepted",
                 "two clients hold the lock", "paused"):
        assert want in labels
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["c1", "c2", "storage"]
    plt.close("all")


def test_explorer_redraws_when_a_control_changes():
    w = locks_explorer(ttl=1.0, pause=0.0, critical_section=0.1)
    assert w.verdict and "All 3 properties hold" in w.summary.value
    png = w.image.value
    w.controls["pause"].value = 2.0                    # a pause longer than the TTL
    assert not w.verdict.holds("mutual_exclusion") and w.image.value != png
    w.controls["ttl"].value = 3.0                      # now the pause fits in the TTL
    assert w.verdict and w.run.params["ttl"] == 3.0
    w.controls["pause"].value = 0.0
    w.controls["critical_section"].value = 2.95        # uses the whole validity ...
    assert w.verdict
    w.controls["drift"].value = -0.1                   # ... on a clock 10 % slow
    assert not w.verdict.holds("mutual_exclusion")


@pytest.mark.parametrize("kwargs, message", [
    ({"ttl": 0.0}, r"ttl must be in \[0.2, 3\]; got 0.0"),
    ({"pause": -1}, r"pause must be in \[0, 5\]; got -1.0"),
    ({"drift": 0.5}, r"drift must be in \[-0.2, 0.2\]; got 0.5"),
    ({"critical_section": 9}, r"critical_section must be in \[0.01, 3\]; got 9.0"),
])
def test_explorer_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        locks_explorer(**kwargs)
