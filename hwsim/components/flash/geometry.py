"""NAND flash organisation and read timing, as a strict schema (presets live in presets.yaml).

    channel -> chips (share the channel bus, one transfer at a time) -> dies (independent arrays,
    R/B# each) -> planes (own data register + cache register, `multi_plane` lets them read at once)

A page read is: command/address cycles on the bus (`command_overhead`), the array read into the
plane's data register (`t_read`, tR), then the data-out of the page over the bus at
`bus_width x transfer_rate`. With `cache_read` the page first moves to the cache register, so the
next tR of that plane overlaps this page's data-out.
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from hwsim.components.base import ps
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Duration, Frequency, Latency


class FlashGeometry(Strict):
    source: str                        # where the figures come from (paper table, simulator preset)
    # counts bounded far above any SSD (kernels keep per-channel and per-die arrays; 1e17 channels ran out of memory)
    channels: int = Field(gt=0, le=4096)
    chips_per_channel: int = Field(gt=0, le=1024)
    dies_per_chip: int = Field(gt=0, le=64)
    planes_per_die: int = Field(gt=0, le=64)
    page_size: ByteSize                # user data per page (spare area excluded)
    t_read: Duration                   # tR: array -> data register
    t_program: Optional[Duration] = None   # tPROG (writes; None when the source gives none)
    t_erase: Optional[Duration] = None     # tBERS (None when the source gives none)
    bus_width_bits: Count              # channel data width
    transfer_rate: Frequency           # transfers per second on the channel ('1000MT/s')
    command_overhead: Latency          # bus time of one read's command + address cycles (0: idealised bus)
    cache_read: bool = True            # data register -> cache register hand-off (2-stage pipeline)
    multi_plane: bool = True           # planes of a die read concurrently (else one tR per die at a time)

    @property
    def dies_per_channel(self) -> int:
        return self.chips_per_channel * self.dies_per_chip

    @property
    def dies(self) -> int:
        return self.channels * self.dies_per_channel

    @property
    def channel_bandwidth(self) -> float:
        """Bytes/s one channel bus moves."""
        return self.bus_width_bits / 8 * self.transfer_rate

    def transfer_ps(self, nbytes: float) -> int:
        """Bus time of `nbytes` of data (ps)."""
        return ps(nbytes / self.channel_bandwidth)

    @property
    def t_read_ps(self) -> int:
        return ps(self.t_read)

    @property
    def command_ps(self) -> int:
        return ps(self.command_overhead)

    @property
    def array_bandwidth(self) -> float:
        """Bytes/s all planes deliver into their registers, ignoring the bus."""
        planes = self.planes_per_die if self.multi_plane else 1
        return self.dies * planes * self.page_size / self.t_read

    @property
    def peak_read_bandwidth(self) -> float:
        """Upper bound of sequential page reads: min(array rate, sum of channel buses)."""
        return min(self.array_bandwidth, self.channels * self.channel_bandwidth)
