"""ClockDomain: exact cycle <-> ps conversion for integer and non-integer periods."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwsim.engine import ClockDomain

CLOCKS = {
    "1 GHz": (ClockDomain(1e9), Fraction(1000)),
    "1.41 GHz": (ClockDomain(1.41e9), Fraction(100_000, 141)),
    "1/0.57 ns": (ClockDomain(1 / 0.57e-9), Fraction(570)),
    "30 us": (ClockDomain(1 / 30e-6), Fraction(30_000_000)),
    "tCK 0.5 ns": (ClockDomain.from_period_ps(500), Fraction(500)),
    "int Hz": (ClockDomain(1_234_567_000), Fraction(10**12, 1_234_567_000)),
}


@pytest.mark.parametrize("name", CLOCKS)
def test_period_is_exact(name):
    clock, period = CLOCKS[name]
    assert clock.period_ps_exact == period
    assert clock.period_ps == float(period)
    assert clock.frequency_hz == 10**12 / period


@pytest.mark.parametrize("name", CLOCKS)
def test_no_drift_over_a_billion_cycles(name):
    clock, period = CLOCKS[name]
    n = 10**9
    assert clock.cycles_to_ps(n) == n * period.numerator // period.denominator
    assert clock.ps_to_cycles(clock.cycles_to_ps(n)) == n
    assert clock.next_edge(clock.cycles_to_ps(n) + 1) == clock.cycles_to_ps(n + 1)


def test_known_edge_times():
    one_ghz, _ = CLOCKS["1 GHz"]
    assert [one_ghz.cycles_to_ps(n) for n in (0, 1, 7)] == [0, 1000, 7000]
    assert [one_ghz.ps_to_cycles(t) for t in (0, 999, 1000, 1001)] == [0, 0, 1, 1]
    assert [one_ghz.next_edge(t) for t in (0, 1, 1000, 1001)] == [0, 1000, 1000, 2000]
    odd, _ = CLOCKS["1.41 GHz"]
    assert [odd.cycles_to_ps(n) for n in (1, 2, 3, 141)] == [709, 1418, 2127, 100_000]
    assert odd.cycles_to_ps(10**9) == 709_219_858_156  # floor(10^14 / 141)
    flash, _ = CLOCKS["30 us"]
    assert flash.ps_to_cycles(90_000_000 - 1) == 2
    assert flash.next_edge(1) == 30_000_000
    assert ClockDomain.from_period_ps(3e7).period_ps_exact == 30_000_000


def test_numpy_ints_do_not_overflow():
    flash, _ = CLOCKS["30 us"]
    assert flash.cycles_to_ps(np.int64(10**15)) == 3 * 10**22
    with pytest.raises(TypeError):
        flash.cycles_to_ps(1.5)


@given(st.sampled_from(sorted(CLOCKS)), st.integers(0, 10**15))
def test_edges_and_conversions_agree(name, n):
    clock, period = CLOCKS[name]
    t = clock.cycles_to_ps(n)
    assert t == math.floor(n * period)
    assert clock.ps_to_cycles(t) == n
    assert clock.next_edge(t) == t
    assert clock.next_edge(t + 1) == clock.cycles_to_ps(n + 1)
    assert clock.ps_to_cycles(clock.cycles_to_ps(n + 1) - 1) == n


@pytest.mark.parametrize("bad", [0, -1e9, float("nan"), float("inf"), "fast", None, True])
def test_bad_frequency_is_a_value_error(bad):
    with pytest.raises(ValueError, match="frequency_hz must be a positive finite number"):
        ClockDomain(bad)
