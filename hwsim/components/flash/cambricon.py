"""Cambricon-LLM's NAND flash with a compute core per die, plus the NPU's read path.

Weight GEMVs (op class gemm) run here: each is split between read-compute in the dies and page
reads the NPU multiplies (in_flash_compute.gemv_time), timed page by page from an idle device, its
pages on the dies where the request tiling puts them (padded edge tiles included).
GEMVs run one after another in arrival order; no weights are prefetched across operators.
"""
from __future__ import annotations

from functools import lru_cache

from hwsim.components.base import Memory, OpTiming, Resource, SerialComponent, register
from hwsim.components.flash.geometry import FlashGeometry
from hwsim.components.flash.in_flash_compute import NPU, ComputeCore, GemvTiming, Policy, gemv_time
from hwsim.config.schema import Strict


class CambriconFlashParams(Strict):
    source: str                   # paper tables the figures come from
    assumptions: str = ""         # every input the source does not give, and the value taken
    flash: FlashGeometry
    core: ComputeCore
    npu: NPU
    policy: Policy = Policy()


@register
class CambriconFlash(SerialComponent):
    type_name = "cambricon_llm_flash"
    Params = CambriconFlashParams
    resource_units = {"weight_path": "B/s"}
    stats = {"busy_s": "time running GEMVs (s)", "weight_bytes": "weights multiplied (B)",
             "flash_pages": "pages read-computed in the dies", "npu_pages": "pages read by the NPU",
             "channel_utilization": "bus busy / (channels x busy time)",
             "read_compute_bus_share": "fraction of bus time carrying read-compute traffic",
             "core_energy_j": "energy of the dies' compute cores (J); NAND reads and bus not modelled"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._time = lru_cache(maxsize=None)(self._gemv)

    def memories(self):
        """The NAND dies hold the weights; the paper's Table II gives no die capacity (pages per block,
        blocks per plane), so the weights are listed, not checked."""
        return [Memory(f"{self.name}.flash", None, frozenset({"weights", "experts"}))]

    def _gemv(self, n: int, k: int, batch: int, weight_bytes: float) -> GemvTiming:
        p = self.params
        return gemv_time(p.flash, p.core, p.npu, p.policy, n, k, batch, weight_bytes)

    def time(self, op):
        if op.kind != "matmul" or not op.weight_bytes:
            raise ValueError(f"{self.name} runs weight GEMVs (matmul with weights), got {op.kind} '{op.name}'; "
                             f"map other operator classes to the NPU")
        t = self._time(op.n, op.k, op.m, op.weight_bytes)
        energy = t.flash_pages * self.params.core.page_energy_j(self.params.flash.page_size, op.m)
        return OpTiming(t.duration_ps * 1e-12, "weight_path", {"weight_path": op.weight_bytes}, energy_j=energy,
                        duration_ps=t.duration_ps,
                        counts={"bus_ps": t.bus_busy_ps, "rc_bus_ps": t.rc_bus_ps, "flash_pages": t.flash_pages,
                                "npu_pages": t.npu_pages, "core_energy_j": energy})

    def weight_path_bandwidth(self) -> float:
        """Bytes/s every weight must pass: the dies' cores (page per tR or core rate) plus the buses."""
        g = self.params.flash
        per_die = min(g.page_size / g.t_read, self.params.core.throughput)
        return g.dies * per_die + (g.channels * g.channel_bandwidth if self.params.policy.npu_coprocessing else 0.0)

    def capacity(self, resource):
        return self.weight_path_bandwidth()

    def resources(self):
        """The weight path, and the channel buses: their floor is the bus time the ops took, in bytes."""
        g = self.params.flash
        bus = g.channels * g.channel_bandwidth
        bus_bytes = self._counts["bus_ps"] * 1e-12 * g.channel_bandwidth
        return super().resources() + [Resource(f"{self.name}.channels", "B/s", bus, bus_bytes, bus_bytes / bus)]

    def statistics(self):
        g, c = self.params.flash, self._counts
        return {"busy_s": self._busy_ps * 1e-12, "weight_bytes": self._used["weight_path"],
                "flash_pages": c["flash_pages"], "npu_pages": c["npu_pages"],
                "channel_utilization": c["bus_ps"] / (g.channels * (self._busy_ps or 1)),
                "read_compute_bus_share": c["rc_bus_ps"] / (c["bus_ps"] or 1), "core_energy_j": c["core_energy_j"]}
