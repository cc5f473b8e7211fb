"""`type: offload_memory`: a memory beside a processor, behind a link, holding the weights and KV cache
the processor's own memory does not (Grace's LPDDR5X behind NVLink-C2C on a GH200; host DRAM behind
PCIe on a discrete GPU).

It runs the ``host_load`` operators of ``hwsim.mapping.host_offload``: each copies one layer's spilled
bytes into the processor's memory before the layer reads them. One copy at a time, in arrival order
(a DMA stream); a copy of ``n`` bytes takes

    max(link message time of n bytes, n / memory bandwidth)

the link's ``overhead + serialisation + latency`` (hwsim.components.interconnect.link) or the
memory's read rate, whichever is slower. Its resources are the link and the memory, so a run that
moves more bytes than the link carries in its time is a roofline violation.
"""
from __future__ import annotations

from typing import Optional, Union

from pydantic import field_validator

from hwsim.components.base import Memory, OpTiming, SerialComponent, ps, register
from hwsim.components.interconnect.link import LinkSpec
from hwsim.components.interconnect.presets import link_preset
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize


class OffloadMemoryParams(Strict):
    source: str
    assumptions: Optional[str] = None
    capacity: ByteSize                   # bytes the memory holds
    bandwidth: Bandwidth                 # B/s the memory reads at (its peak)
    link: Union[str, LinkSpec]           # a link preset name or an inline link: the path to the processor

    @field_validator("link")
    @classmethod
    def _known_link(cls, link):
        if isinstance(link, str):
            try:
                link_preset(link)
            except KeyError as exc:
                raise ValueError(exc.args[0]) from None
        return link

    @property
    def link_spec(self) -> LinkSpec:
        return link_preset(self.link) if isinstance(self.link, str) else self.link


@register
class OffloadMemory(SerialComponent):
    """Memory behind a link that copies spilled weights and KV into a processor's memory ahead of use."""

    type_name = "offload_memory"
    Params = OffloadMemoryParams
    resource_units = {"link": "B/s", "memory": "B/s"}
    stats = {"busy_s": "time copying (s)", "link_used": "bytes over the link (B)",
             "memory_used": "bytes read from this memory (B)"}

    def time(self, op):
        if op.kind != "host_load":
            raise ValueError(f"{self.name} copies spilled bytes (host_load operators), got {op.kind} '{op.name}'; "
                             f"map computation to a processor")
        nbytes = op.total_bytes
        link_ps = self.params.link_spec.message_ps(round(nbytes))
        memory_ps = ps(nbytes / self.params.bandwidth)
        return OpTiming(max(link_ps, memory_ps) * 1e-12, "link" if link_ps >= memory_ps else "memory",
                        used={"link": nbytes, "memory": nbytes}, duration_ps=max(link_ps, memory_ps))

    def capacity(self, resource):
        return self.params.link_spec.bandwidth if resource == "link" else self.params.bandwidth

    def memories(self):
        """The spilled weights, routed experts and KV cache (``hwsim.mapping.host_offload``)."""
        return [Memory(f"{self.name}.memory", self.params.capacity, frozenset({"weights", "experts", "kv"}))]
