"""plot.sweep_xy: two measured metrics against each other, means and CIs per sweep point."""

import numpy as np
import pandas as pd
import pytest

from dsalgo.plot import sweep_xy


def test_sweep_xy_puts_means_and_error_bars_per_point():
    df = pd.DataFrame({"n": [3] * 4 + [5] * 4, "rate": [1, 1, 2, 2] * 2, "seed": [0, 1] * 4,
                       "tput": [0.9, 1.1, 1.8, 2.0, 1.0, 1.0, 1.5, 1.7],
                       "lat": [1.0, 1.2, 2.0, 2.6, 1.0, 1.0, 3.0, 3.4]})
    ax = sweep_xy(df, x="tput", y="lat", point="rate", hue="n", hue_label="servers")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["3", "5"]
    xs = [list(np.round(line.get_xdata(), 2)) for line in ax.get_lines()
          if len(line.get_xdata()) == 2 and line.get_marker() == "o"]
    assert xs == [[1.0, 1.9], [1.0, 1.6]]
    with pytest.raises(ValueError, match="point names column"):
        sweep_xy(df, x="tput", y="lat", point="nope")
