"""Clock domains: cycle counts <-> integer picoseconds, exactly.

The period is held as an exact fraction of a picosecond, so the time of edge ``n`` is computed
from ``n`` (``floor(n * period)``), never accumulated: a 1.41 GHz clock (100000/141 ps) is still
on time after 10^9 cycles, and a 30 us flash operation lives beside a 2 GHz DRAM clock.
"""
from fractions import Fraction
from operator import index  # ints only (numpy ints become Python ints: no int64 overflow)

PS_PER_S = 10**12


def positive_fraction(value, what):
    """``value`` (a number or decimal string) as a positive Fraction. A float is read as the
    simplest fraction that rounds to it, which strips binary noise: 1 / 0.57e-9 Hz becomes
    exactly 10^11/57 Hz (a 570 ps period) and 1.41e9 Hz a period of 100000/141 ps."""
    try:
        exact = None if isinstance(value, bool) else Fraction(value)
    except (TypeError, ValueError, OverflowError):
        exact = None
    if exact is None or exact <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    if isinstance(value, float):
        simplest = (exact.limit_denominator(10**digits) for digits in range(18))
        exact = next((simple for simple in simplest if float(simple) == value), exact)
    return exact


class ClockDomain:
    """A clock of ``frequency_hz``; edge ``n`` is at ``floor(n * period)`` ps, edge 0 at 0 ps."""

    def __init__(self, frequency_hz):
        period = PS_PER_S / positive_fraction(frequency_hz, "frequency_hz")
        self.period_ps_exact = period
        """Period in ps as a Fraction (for integer math in vectorised kernels)."""
        self._num, self._den = period.numerator, period.denominator

    @classmethod
    def from_period_ps(cls, period_ps):
        """The clock whose period is ``period_ps`` (e.g. 500 for tCK = 0.5 ns, 3e7 for 30 us)."""
        return cls(PS_PER_S / positive_fraction(period_ps, "period_ps"))

    @property
    def frequency_hz(self):
        """Frequency in Hz as a Fraction."""
        return PS_PER_S / self.period_ps_exact

    @property
    def period_ps(self):
        """Period in ps as a float (for display; use the integer methods for timing)."""
        return float(self.period_ps_exact)

    def cycles_to_ps(self, n):
        """Time (ps) of edge ``n``."""
        return index(n) * self._num // self._den

    def ps_to_cycles(self, t):
        """Index of the last edge at or before ``t`` ps (whole cycles elapsed by ``t``)."""
        return ((index(t) + 1) * self._den - 1) // self._num

    def next_edge(self, t):
        """Time (ps) of the first edge at or after ``t`` ps."""
        return self.cycles_to_ps(-(-index(t) * self._den // self._num))

    def __repr__(self):
        return f"ClockDomain({float(self.frequency_hz):g} Hz, period {self.period_ps:g} ps)"
