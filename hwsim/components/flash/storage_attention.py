"""Decode attention over a KV cache kept in an SSD's NAND flash (InstInfer and its baselines).

The KV pages of an attention operator are read from the flash, striped over channels and dies, and
timed page by page by the channel kernel (page_reads.read_pages). Where attention is computed is
the point of InstInfer (arXiv 2409.04992):

- `attention_in_storage: true` (InstInfer's CSD): an engine next to the flash computes attention
  at the internal channel bandwidth; only the queries (in) and attention outputs (out) cross PCIe;
- `attention_in_storage: false` (FlexGen with its KV cache on disk): the host reads the KV through
  the OS page cache (`host_reads`). FlexGen's load_cache copies K and V out of memory-mapped files,
  one copy thread each; a thread faults one readahead window (`request` bytes) at a time and waits
  for it, so `queue_depth` requests are outstanding. Reads go in rounds: the round's pages through
  the channel kernel, then the round's bytes over the SSD's PCIe link. The KV then crosses the
  host-to-GPU link, and the GPU computes attention. FlexGen loads layer j+1's cache while layer j
  computes (its overlap loop), so an operator takes the slowest of reads, link and compute.

`kv_fraction` is the share of the KV cache an operator reads (SparF's 1/8 KV compression: 0.125),
applied to bytes and FLOPs alike. Operators run one at a time in arrival order. The softmax
between the two attention matmuls stays wherever the machine maps vector operators (negligible
time); writing new K/V to flash is not modelled here (kv_write runs where `memory` maps).
"""
from __future__ import annotations

import math
from functools import lru_cache

from pydantic import confloat, model_validator

from hwsim.components.base import Memory, OpTiming, SerialComponent, ps, register
from hwsim.components.flash.geometry import FlashGeometry
from hwsim.components.flash.page_reads import read_pages, striped
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate

ATTENTION_KINDS = ("attn_score", "attn_context")


class HostReads(Strict):
    """How a host runtime reads the KV cache from the SSD through the OS page cache."""

    source: str
    request: ByteSize                     # block-layer read size (one readahead window)
    queue_depth: Count                    # requests outstanding (copy streams, each waiting on its own)
    gpu_link: Bandwidth                   # host -> GPU link the KV crosses next


class FlashKVAttentionParams(Strict):
    source: str
    assumptions: str = ""
    flash: FlashGeometry                  # the SSD's NAND, holding the KV cache
    pcie: Bandwidth                       # SSD <-> host link (B/s)
    attention_in_storage: bool            # True: CSD engine computes; False: the host GPU does
    engine: ComputeRate                   # FLOP/s of whichever computes attention
    host_reads: HostReads | None = None   # attention_in_storage false: how the host reads the KV
    kv_fraction: confloat(gt=0, le=1) = 1.0

    @model_validator(mode="after")
    def _reads_named(self):
        if self.attention_in_storage == (self.host_reads is not None):
            raise ValueError("host_reads is needed exactly when attention_in_storage is false")
        return self


@register
class FlashKVAttention(SerialComponent):
    type_name = "flash_kv_attention"
    Params = FlashKVAttentionParams
    resource_units = {"flash": "B/s", "pcie": "B/s", "gpu_link": "B/s", "engine": "FLOP/s"}
    stats = {"busy_s": "time running attention (s)", "kv_bytes": "KV bytes read from flash (B)",
             "pcie_bytes": "bytes over the SSD's PCIe link (B)", "flash_pages": "pages read"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._read_ps = lru_cache(maxsize=None)(self._pages_ps)

    def _pages_ps(self, pages: int) -> int:
        g = self.params.flash
        return read_pages(g, striped(g, pages)).makespan_ps if pages else 0

    def host_read(self, kv: float) -> tuple[int, int]:
        """(pages, ps) to read `kv` bytes in rounds of queue_depth page-cache requests."""
        h, g = self.params.host_reads, self.params.flash
        rounds = math.ceil(math.ceil(kv / h.request) / h.queue_depth)
        round_pages = h.queue_depth * math.ceil(h.request / g.page_size)
        round_ps = self._read_ps(round_pages) + ps(round_pages * g.page_size / self.params.pcie)
        return rounds * round_pages, rounds * round_ps

    def memories(self):
        """The SSD's NAND holds the KV cache; its geometry has no blocks per plane, so the cache is
        listed, not checked."""
        return [Memory(f"{self.name}.flash", None, frozenset({"kv"}))]

    def time(self, op):
        p = self.params
        if op.kind not in ATTENTION_KINDS:
            raise ValueError(f"{self.name} runs decode attention ({', '.join(ATTENTION_KINDS)}), got {op.kind} "
                             f"'{op.name}'; map other operator classes elsewhere")
        kv = op.kv_read_bytes * p.kv_fraction
        flops = op.flops * p.kv_fraction
        if p.attention_in_storage:
            pages = math.ceil(kv / p.flash.page_size)
            host = op.act_in_bytes if op.kind == "attn_score" else op.act_out_bytes
            duration = max(self._read_ps(pages), ps(flops / p.engine)) + ps(host / p.pcie)
            gpu_link = host                                   # peer-to-peer with the GPU over the SSD's link
        else:
            pages, read_ps = self.host_read(kv)
            host = gpu_link = pages * p.flash.page_size
            duration = max(read_ps, ps(gpu_link / p.host_reads.gpu_link), ps(flops / p.engine))
        used = {"flash": pages * p.flash.page_size, "pcie": host, "gpu_link": gpu_link, "engine": flops}
        return OpTiming(duration * 1e-12, "flash", used, duration_ps=duration, counts={"flash_pages": pages})

    def capacity(self, resource):
        p = self.params
        gpu_link = p.host_reads.gpu_link if p.host_reads else p.pcie
        return {"flash": p.flash.peak_read_bandwidth, "pcie": p.pcie, "gpu_link": gpu_link, "engine": p.engine}[resource]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "kv_bytes": self._used["flash"], "pcie_bytes": self._used["pcie"],
                "flash_pages": self._counts["flash_pages"]}
