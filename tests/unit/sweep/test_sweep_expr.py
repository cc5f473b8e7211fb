"""The constraint evaluator: arithmetic and comparisons over parameter names, nothing else."""
import re

import pytest

from hwsim.sweep.expr import Expression

NAMES = {"bw", "peak", "channels"}


def value(text, **values):
    return Expression(text, NAMES).evaluate(values)


def test_arithmetic_comparisons_and_logic():
    assert value("peak / bw * 2 + 1", peak=300.0, bw=2.0) == 301.0
    assert value("50 <= peak / bw <= 500", peak=300, bw=2) is True
    assert value("50 <= peak / bw <= 500", peak=3000, bw=2) is False
    assert value("channels % 2 == 0 and not bw > 4", channels=8, bw=2) is True
    assert value("max(bw, 3) ** 2 if channels > 4 else -1", channels=8, bw=2) == 9.0
    assert value("log2(channels) + ceil(bw / 3)", channels=8, bw=4) == 5


def test_names_read_are_recorded():
    assert Expression("peak / bw > 1", NAMES).names == {"peak", "bw"}


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "not allowed"),
    ("bw.real", "not allowed"),
    ("open('x')", "not allowed"),
    ("[bw for bw in range(3)]", "not allowed"),
    ("lambda: 1", "not allowed"),
    ("pek > 1", "unknown parameter 'pek' (did you mean 'peak'?)"),
    ("bw >", "not a valid expression"),
    ("True", "not allowed"),
])
def test_everything_else_is_rejected_before_running(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Expression(text, NAMES)


def test_huge_powers_overflow_instead_of_hanging():
    with pytest.raises(OverflowError):
        value("10 ** 10 ** 10", bw=1)
