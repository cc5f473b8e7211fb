"""DRAM bandwidth CPU cores sustain: a whole-chip limit and a per-core limit.

A CPU does not stream at its DRAM's peak. Two limits, each from its own source:
- chip: the fraction of the peak the whole chip sustains (published STREAM-style measurements
  of the platform): chip = peak x memory_efficiency;
- per core: a core keeps at most `line_fills` cache-line misses in flight (its miss buffers: L1D
  fill buffers or L2 transaction queue, from the core's manual), each held for the loaded memory
  latency, so by Little's law one core streams at most line_fills x line / latency.
An operator whose threads run on c cores gets

    bandwidth(c) = min(c x line_fills x line / latency, peak x memory_efficiency)

Without `per_core` (no source for the miss buffers) the chip limit alone applies. The `cpu`
component and the `lut_engine` (T-MAC kernels on CPU cores: one LUT unit per core) both take their
streaming bandwidth from `sustained_bandwidth`.
"""
from __future__ import annotations

from typing import Optional

from pydantic import field_validator

from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Duration


class CoreMemory(Strict):
    """One core's memory-level parallelism (Little's law)."""

    line_fills: Count               # cache-line misses one core keeps in flight
    latency: Duration               # s, loaded DRAM latency one miss waits
    line: ByteSize = "64B"          # bytes per miss

    @field_validator("latency")
    @classmethod
    def _positive(cls, latency):
        if latency <= 0:
            raise ValueError("must be > 0 (a miss waits for DRAM), e.g. '100ns'")
        return latency

    @property
    def bandwidth(self) -> float:
        """Bytes/s one core sustains: line_fills x line / latency."""
        return self.line_fills * self.line / self.latency


def sustained_bandwidth(peak: float, efficiency: float, per_core: Optional[CoreMemory], cores: int) -> float:
    """Bytes/s an operator on `cores` cores streams: min(cores x per-core limit, peak x efficiency)."""
    chip = peak * efficiency
    return chip if per_core is None else min(cores * per_core.bandwidth, chip)
