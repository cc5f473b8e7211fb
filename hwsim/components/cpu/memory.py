"""DRAM bandwidth CPU cores sustain: a whole-chip limit and a per-core limit.

A CPU does not stream at its DRAM's peak. Two limits, each from its own source:
- chip: the fraction of the peak the whole chip sustains (published STREAM-style measurements
  of the platform): chip = peak x memory_efficiency;
- per core: a core keeps at most `line_fills` cache-line misses in flight (its miss buffers: L1D
  fill buffers or L2 transaction queue, from the core's manual), each held for the loaded memory
  latency, so by Little's law one core streams at most line_fills x line / latency; where the
  platform's single-core streaming bandwidth is published instead (a measurement that already
  holds the core's misses in flight and the latency they see), that figure is the per-core limit.
An operator whose threads run on c cores gets

    bandwidth(c) = min(c x line_fills x line / latency, peak x memory_efficiency)

Without `per_core` (no source for the miss buffers nor a single-core measurement) the chip limit
alone applies. The `cpu`
component and the `lut_engine` (T-MAC kernels on CPU cores: one LUT unit per core) both take their
streaming bandwidth from `sustained_bandwidth`.
"""
from __future__ import annotations

from typing import Optional

from pydantic import field_validator, model_validator

from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, Duration


class CoreMemory(Strict):
    """One core's DRAM streaming limit: its memory-level parallelism (Little's law) or a measurement."""

    line_fills: Optional[Count] = None      # cache-line misses one core keeps in flight
    latency: Optional[Duration] = None      # s, loaded DRAM latency one miss waits
    line: ByteSize = "64B"                  # bytes per miss
    measured: Optional[Bandwidth] = None    # bytes/s one core was measured to stream from DRAM

    @field_validator("latency")
    @classmethod
    def _positive(cls, latency):
        if latency is not None and latency <= 0:
            raise ValueError("must be > 0 (a miss waits for DRAM), e.g. '100ns'")
        return latency

    @model_validator(mode="after")
    def _one_source(self):
        littles_law = self.line_fills is not None and self.latency is not None
        if littles_law == (self.measured is not None):
            raise ValueError("give either line_fills and latency (Little's law) or a measured single-core bandwidth")
        return self

    @property
    def bandwidth(self) -> float:
        """Bytes/s one core sustains: the measured figure, else line_fills x line / latency."""
        return self.measured if self.measured is not None else self.line_fills * self.line / self.latency


def sustained_bandwidth(peak: float, efficiency: float, per_core: Optional[CoreMemory], cores: int) -> float:
    """Bytes/s an operator on `cores` cores streams: min(cores x per-core limit, peak x efficiency)."""
    chip = peak * efficiency
    return chip if per_core is None else min(cores * per_core.bandwidth, chip)
