"""`type: flash_kv_attention`: decode attention over a KV cache kept in an SSD's NAND flash.

The KV pages of an attention operator are read from the flash, striped over channels and dies, and
timed page by page by the channel kernel (page_reads.read_pages). Where attention is computed is
the point of InstInfer (arXiv 2409.04992):

- `attention_in_storage: true` (InstInfer's CSD): an engine next to the flash computes attention
  at the internal channel bandwidth; only the queries (in) and attention outputs (out) cross PCIe;
- `attention_in_storage: false` (FlexGen-style SSD offloading): the KV pages also cross the SSD's
  PCIe link to the host GPU, streamed, so the slower of flash and link sets the pace.

`kv_fraction` is the share of the KV cache an operator reads (SparF's 1/8 KV compression: 0.125),
applied to bytes and FLOPs alike. Operators run one at a time in arrival order. The softmax
between the two attention matmuls stays wherever the machine maps vector operators (negligible
time); writing new K/V to flash is not modelled here (kv_write runs where `memory` maps).
"""
from __future__ import annotations

import math
from functools import lru_cache

from pydantic import confloat

from hwsim.components.base import Memory, OpTiming, SerialComponent, ps, register
from hwsim.components.flash.geometry import FlashGeometry
from hwsim.components.flash.page_reads import read_pages, striped
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ComputeRate

ATTENTION_KINDS = ("attn_score", "attn_context")


class FlashKVAttentionParams(Strict):
    source: str
    assumptions: str = ""
    flash: FlashGeometry                  # the SSD's NAND, holding the KV cache
    pcie: Bandwidth                       # SSD <-> host link (B/s)
    attention_in_storage: bool            # True: CSD engine computes; False: the host GPU does
    engine: ComputeRate                   # FLOP/s of whichever computes attention
    kv_fraction: confloat(gt=0, le=1) = 1.0


@register
class FlashKVAttention(SerialComponent):
    type_name = "flash_kv_attention"
    Params = FlashKVAttentionParams
    resource_units = {"flash": "B/s", "pcie": "B/s", "engine": "FLOP/s"}
    stats = {"busy_s": "time running attention (s)", "kv_bytes": "KV bytes read from flash (B)",
             "pcie_bytes": "bytes over the SSD's PCIe link (B)", "flash_pages": "pages read"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._read_ps = lru_cache(maxsize=None)(self._pages_ps)

    def _pages_ps(self, pages: int) -> int:
        g = self.params.flash
        return read_pages(g, striped(g, pages)).makespan_ps if pages else 0

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
        pages = math.ceil(kv / p.flash.page_size)
        flash_ps = self._read_ps(pages)
        flops = op.flops * p.kv_fraction
        if p.attention_in_storage:
            host = op.act_in_bytes if op.kind == "attn_score" else op.act_out_bytes
            duration = max(flash_ps, ps(flops / p.engine)) + ps(host / p.pcie)
        else:
            host = pages * p.flash.page_size
            duration = max(flash_ps, ps(host / p.pcie), ps(flops / p.engine))
        used = {"flash": pages * p.flash.page_size, "pcie": host, "engine": flops}
        return OpTiming(duration * 1e-12, "flash", used, duration_ps=duration, counts={"flash_pages": pages})

    def capacity(self, resource):
        p = self.params
        return {"flash": p.flash.peak_read_bandwidth, "pcie": p.pcie, "engine": p.engine}[resource]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "kv_bytes": self._used["flash"], "pcie_bytes": self._used["pcie"],
                "flash_pages": self._counts["flash_pages"]}
