"""Where offloaded experts live and how long one transfer into fast memory takes (integer ps).

- ``link: pcie5_x16``: host DRAM behind a link preset (hwsim/components/interconnect/presets):
  one message of the expert's bytes, ``overhead + serialisation + latency``;
- ``flash: nvmevirt_970pro`` + ``interface: 7GB/s``: a flash device (hwsim/components/flash presets)
  reading the expert's pages striped over every channel, die and plane (the flash page-read
  schedule), capped by the host interface: ``max(page-read makespan, bytes / interface)``.

Transfers are whole experts (or matrices) one after another: each uses the device's full parallelism.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Optional

from pydantic import model_validator

from hwsim.components.base import ps
from hwsim.components.flash.page_reads import read_pages, striped
from hwsim.components.flash.presets import flash_preset, preset_names
from hwsim.components.interconnect.presets import link_preset, link_preset_names
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth


class Backing(Strict):
    """Exactly one of ``link`` (host memory over a link preset) or ``flash`` (a flash preset)."""

    link: Optional[str] = None
    flash: Optional[str] = None
    interface: Optional[Bandwidth] = None     # flash: host interface bandwidth (B/s), e.g. NVMe PCIe 4.0 x4

    @model_validator(mode="after")
    def _one_store(self):
        if (self.link is None) == (self.flash is None):
            raise ValueError("give exactly one of link (host memory over a link) or flash (a flash preset)")
        if self.link is not None and self.link not in link_preset_names():
            raise ValueError(f"unknown link preset '{self.link}'; known: {', '.join(link_preset_names())}")
        if self.flash is not None:
            if self.flash not in preset_names():
                raise ValueError(f"unknown flash preset '{self.flash}'; known: {', '.join(preset_names())}")
            if self.interface is None:
                raise ValueError("flash needs interface: the host interface bandwidth (e.g. 7GB/s)")
        elif self.interface is not None:
            raise ValueError("interface applies to flash only (a link preset has its own bandwidth)")
        return self

    @property
    def peak_bandwidth(self) -> float:
        """B/s no transfer can beat (the roofline capacity of the store)."""
        if self.link is not None:
            return link_preset(self.link).bandwidth
        return min(flash_preset(self.flash).peak_read_bandwidth, self.interface)

    def transfer_ps(self, nbytes: float) -> int:
        """Time (ps) to move ``nbytes`` from the store into fast memory on an idle store."""
        if self.link is not None:
            return link_preset(self.link).message_ps(math.ceil(nbytes))
        pages = math.ceil(nbytes / flash_preset(self.flash).page_size)
        return max(_flash_read_ps(self.flash, pages), ps(nbytes / self.interface))


@lru_cache(maxsize=256)
def _flash_read_ps(preset: str, pages: int) -> int:
    """Makespan (ps) of ``pages`` page reads striped over the whole flash device."""
    geometry = flash_preset(preset)
    return read_pages(geometry, striped(geometry, pages)).makespan_ps
