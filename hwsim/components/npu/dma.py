"""The NPU's DMA path to off-chip memory: a bandwidth and a latency, given or measured.

Either write both figures (`bandwidth: 2039GB/s, latency: 600ns`, from a datasheet), or name a
DRAM preset and a channel count (`dram: DDR4_3200AA, channels: 8`): the figures then come from the
cycle-level DRAM channel model, run once per preset: sustained sequential-read bandwidth with
all-bank refresh (x channels) and the row-conflict latency to the first data beat.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pydantic import model_validator

from hwsim.components.base import ALL_BYTES, Memory
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, Latency


class DmaParams(Strict):
    bandwidth: Optional[Bandwidth] = None   # bytes/s, all channels
    latency: Optional[Latency] = None      # s, request to first data
    dram: Optional[str] = None              # DRAM preset name (hwsim/components/dram/presets)
    channels: Count = 1                     # channels of that preset
    chunk: ByteSize = "64KB"                # smallest block one DMA step moves (bytes)
    capacity: Optional[ByteSize] = None     # bytes the memory holds (None: not given, not checked)

    @model_validator(mode="after")
    def _one_source(self):
        given = self.bandwidth is not None and self.latency is not None
        if given == (self.dram is not None):
            raise ValueError("give either bandwidth and latency, or a dram preset (with channels)")
        if self.dram is not None:
            from hwsim.components.dram.presets import load_preset
            try:
                load_preset(self.dram)
            except KeyError as exc:
                raise ValueError(exc.args[0]) from None
        return self


@lru_cache(maxsize=None)
def _measured(preset: str) -> tuple[float, float]:
    """(bytes/s per channel, latency s) of a DRAM preset, from the channel timing model."""
    from hwsim.components.dram.measure import row_conflict_latency_ns, streaming_GBps
    from hwsim.components.dram.presets import load_preset
    spec = load_preset(preset)
    return streaming_GBps(spec, "all_bank") * 1e9, row_conflict_latency_ns(spec) * 1e-9


def dma_figures(params: DmaParams) -> tuple[float, float]:
    """(bandwidth bytes/s, latency s) the DMA engine sees."""
    if params.dram is None:
        return params.bandwidth, params.latency
    per_channel, latency = _measured(params.dram)
    return per_channel * params.channels, latency


def dram_memories(name: str, params: DmaParams) -> list[Memory]:
    """The off-chip memory behind the DMA path (``hwsim.capacity``), when the machine gives its
    ``capacity``. A DRAM preset gives one channel's timing and organisation, not how many devices
    populate the system, so it does not imply a capacity."""
    return [] if params.capacity is None else [Memory(f"{name}.memory", params.capacity, ALL_BYTES)]
