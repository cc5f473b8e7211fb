"""The parity plot of `hwsim validate --plot`: every family gets markers (the 13th, sn40l's place in a
full run, got none when markers were zipped with a 12-marker string), and each row's own tolerance
is drawn as a bar over exactly its passing interval (not one fixed +-10% band for all)."""
import math

import numpy as np
import pytest

from hwsim.validate.plots import MARKERS, family_styles, plt, validation_figure
from hwsim.validate.runner import Row, Validation, relative, within


def _offsets(ax) -> list[tuple[float, float]]:
    return [tuple(xy) for c in ax.collections if c.get_gid() != "tolerance" for xy in c.get_offsets()]


def _segments(ax) -> list[tuple[float, float, float]]:
    """x, low, high of each tolerance bar in order of x, flat."""
    (bars,) = [c for c in ax.collections if c.get_gid() == "tolerance"]
    return [v for s in sorted(bars.get_segments(), key=lambda s: s[0][0])
            for v in (s[0][0], min(s[0][1], s[1][1]), max(s[0][1], s[1][1]))]


def test_relative_and_within_pass_exactly_inside_their_band():
    row = relative("r", 25.0, 28.0, "tok/s", 0.15)
    assert row.band == pytest.approx((21.25, 28.75)) and row.passed and row.tolerance == "rel 15%"
    assert not relative("r", 25.0, 41.0, "tok/s", 0.15).passed
    assert within("w", 1.2, 1.3, "x", -math.inf, 1.2, "<= 1.2x").passed is False
    assert within("w", 40.0, 40.5, "ns", 39.0, 41.0, "+-1 tCK").band == (39.0, 41.0)


def test_every_family_gets_markers_beyond_the_marker_list(tmp_path):
    groups = {f"family{i}": [relative(f"row {i}", 10.0 * (i + 1), 11.0 * (i + 1), "x", 0.2)]
              for i in range(len(MARKERS) + 1)}
    fig = validation_figure(Validation(tmp_path / "t.yaml", groups, []))
    parity = fig.axes[0]
    drawn = _offsets(parity)
    assert len(drawn) == len(groups)
    assert (10.0 * len(groups), 11.0 * len(groups)) in [tuple(np.round(xy, 6)) for xy in drawn]
    assert len(set(family_styles(groups))) == len(groups)          # no two families look alike
    plt.close(fig)


def test_each_row_draws_its_own_tolerance_band(tmp_path):
    rows = [relative("tellme decode", 25.0, 41.0, "tok/s", 0.15),                 # FAIL, band 21.25-28.75
            within("latency", 40.0, 40.2, "ns", 39.2, 40.8, "+-1 tCK"),            # PASS, a narrow band
            within("speedup", 89.0, 60.0, "x", 41.0, 137.0, "41-137x"),            # a published range
            Row("context", 5.0, 9.0, "mJ", True, "context", info=True)]            # INFO: no bar
    fig = validation_figure(Validation(tmp_path / "t.yaml", {"g": rows}, []))
    parity, ratios = fig.axes
    assert _segments(parity) == pytest.approx([25.0, 21.25, 28.75, 40.0, 39.2, 40.8, 89.0, 41.0, 137.0])
    bars = _segments(ratios)
    assert bars[1::3] + bars[2::3] == pytest.approx([0.85, 0.98, 41 / 89, 1.15, 1.02, 137 / 89])
    assert not [p for p in ratios.patches if p.get_facecolor()[:3] == pytest.approx((0.85, 0.85, 0.85))]
    plt.close(fig)


def test_an_open_ended_band_stops_at_the_axis(tmp_path):
    rows = [within("roofline", 1e-3, 2e-3, "s", 1e-3, math.inf, "time >= floor")]
    fig = validation_figure(Validation(tmp_path / "t.yaml", {"roofline": rows}, []))
    assert _segments(fig.axes[0]) == pytest.approx([1e-3, 1e-3, fig.axes[0].get_ylim()[1]])
    plt.close(fig)
