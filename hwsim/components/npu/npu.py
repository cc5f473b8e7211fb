"""`type: npu`: tiles of systolic arrays with vector units, a shared banked scratchpad, DMA to memory.

One operator at a time (like kernels on one stream), each timed in closed form:
- GEMM and attention: the mapper (mapper.py) picks the dataflow and the split over tiles; the
  busiest tile's cycles come from the SCALE-Sim-exact fold formula (systolic.py); tiles read their
  operand slices from the scratchpad over the on-chip network (banks x ports x bank_width bytes per
  cycle); the scratchpad blocking (scratchpad.py) sets the DMA traffic and the double-buffered
  pipeline of loads against compute. Causal prefill attention skips fully masked key blocks: the
  key extent is shrunk to the pairs the trace counts (about half).
- vector ops (softmax, norms, activations, rope, residuals, MoE top-k): the vector units of every
  tile (vector_unit.py), streamed through the same double-buffered DMA pipeline.
- memory and communication ops (embedding gather, KV append): DMA only.
Execution.bound names the resource with the longest busy time in that operator: compute (the
arrays), vector, scratchpad (on-chip network) or memory (DMA / DRAM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

from pydantic import Field, field_validator

from hwsim.components.base import Component, Execution, Resource, register
from hwsim.components.npu.dma import DmaParams, dma_figures
from hwsim.components.npu.mapper import GemmWork, plan_gemm
from hwsim.components.npu.scratchpad import block_gemm, pipelined_s, stream_steps
from hwsim.components.npu.vector_unit import VectorUnitParams, vector_cycles
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Frequency, Power
from hwsim.workload import precision
from hwsim.workload.ops import Op


class ArrayParams(Strict):
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    macs_per_pe_cycle: dict[str, int]      # number format -> MACs one PE does per cycle

    @field_validator("macs_per_pe_cycle")
    @classmethod
    def _formats(cls, macs):
        if not macs:
            raise ValueError("needs at least one number format, e.g. {bf16: 1, int8: 2}")
        for name, value in macs.items():
            precision.check(name)
            if value < 1:
                raise ValueError(f"macs_per_pe_cycle.{name} must be >= 1")
        return macs


class ScratchpadParams(Strict):
    size: ByteSize                          # bytes, shared by all tiles
    banks: int = Field(gt=0)
    ports: int = Field(default=1, gt=0)     # ports per bank
    bank_width: ByteSize                    # bytes one port moves per cycle
    double_buffer: bool = True


class NpuParams(Strict):
    source: str                             # where every figure comes from
    assumptions: str = ""                   # figures the sources do not give, and the values taken
    tiles: int = Field(gt=0)
    clock: Frequency                        # Hz, arrays, vector units and scratchpad
    array: ArrayParams
    dataflow: Literal["auto", "ws", "os", "is"] = "auto"
    mapper: Literal["heuristic", "search"] = "heuristic"
    scratchpad: ScratchpadParams
    vector: VectorUnitParams
    memory: DmaParams
    power: Optional[Power] = None           # W at load; energy = power x busy time


@dataclass(frozen=True)
class OpTiming:
    """Busy time of each resource for one operator, the pipelined total, and the work done."""

    duration_s: float
    compute_s: float = 0.0
    vector_s: float = 0.0
    scratchpad_s: float = 0.0
    memory_s: float = 0.0
    mac_flops: float = 0.0
    vector_flops: float = 0.0
    scratchpad_bytes: float = 0.0
    memory_bytes: float = 0.0

    @property
    def bound(self) -> str:
        busy = {"compute": self.compute_s, "vector": self.vector_s,
                "scratchpad": self.scratchpad_s, "memory": self.memory_s}
        return max(busy, key=busy.get)


def gemm_work(op: Op) -> GemmWork:
    """The operator as a GEMM on the arrays; causal attention keeps only the key blocks it needs."""
    m, n, k = op.m, op.n, op.k
    if op.kind == "attn_score":
        n = min(n, math.ceil(op.flops / (2 * m * k * op.count)))
    elif op.kind == "attn_context":
        k = min(k, math.ceil(op.flops / (2 * m * n * op.count)))
    return GemmWork(m, n, k, op.count, op.act_in_bytes, op.weight_bytes + op.kv_read_bytes,
                    op.act_out_bytes + op.kv_write_bytes)


@register
class Npu(Component):
    type_name = "npu"
    Params = NpuParams
    stats = {"busy_s": "time running operators (s)",
             "stall_s": "time the arrays / vector units waited for data (s)",
             "mac_flops": "FLOPs on the arrays", "vector_flops": "operations on the vector units",
             "memory_bytes": "DMA traffic, re-reads included (B)",
             "scratchpad_bytes": "bytes tiles moved over the on-chip network (B)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        p = params
        self.bandwidth, self.latency_s = dma_figures(p.memory)
        self.scratchpad_Bps = p.scratchpad.banks * p.scratchpad.ports * p.scratchpad.bank_width * p.clock
        self.vector_rate = p.tiles * p.vector.lanes * p.clock
        self._free_at_ps = 0
        self._totals = dict.fromkeys(("busy_s", "stall_s", "compute_floor_s", "mac_flops", "vector_flops",
                                      "memory_bytes", "scratchpad_bytes"), 0.0)

    def peak_flops(self, fmt: str) -> float:
        """Dense peak of the arrays in `fmt`: tiles x R x C x MACs/PE/cycle x 2 x clock."""
        macs = self.params.array.macs_per_pe_cycle
        if fmt not in macs:
            raise ValueError(f"component '{self.name}' has no arrays for {fmt} operators; "
                             f"add array.macs_per_pe_cycle.{fmt} (has: {', '.join(macs)})")
        a = self.params.array
        return self.params.tiles * a.rows * a.cols * macs[fmt] * 2 * self.params.clock

    def time(self, op: Op) -> OpTiming:
        """Closed-form timing of `op` on an idle NPU."""
        if op.op_class in ("gemm", "attention"):
            return self._gemm(op)
        if op.op_class == "vector":
            return self._vector(op)
        return OpTiming(self.latency_s + op.total_bytes / self.bandwidth,
                        memory_s=op.total_bytes / self.bandwidth, memory_bytes=op.total_bytes)

    def _gemm(self, op: Op) -> OpTiming:
        p = self.params
        work = gemm_work(op)
        self.peak_flops(op.compute_dtype)   # a clear error when the arrays lack the format
        macs = p.array.macs_per_pe_cycle[op.compute_dtype]
        plan = plan_gemm(work, p.tiles, p.array.rows, p.array.cols, macs,
                         self.scratchpad_Bps / p.clock, p.dataflow, p.mapper)
        compute_s = plan.tile_cycles / p.clock
        scratchpad_s = plan.noc_bytes / self.scratchpad_Bps
        blocking = block_gemm(work, p.scratchpad.size, p.scratchpad.double_buffer, p.memory.chunk,
                              self.bandwidth, self.latency_s, max(compute_s, scratchpad_s))
        return OpTiming(blocking.time_s, compute_s=compute_s, scratchpad_s=scratchpad_s,
                        memory_s=blocking.dram_bytes / self.bandwidth,
                        mac_flops=min(op.flops, 2.0 * work.m * work.n * work.k * work.count),
                        scratchpad_bytes=plan.noc_bytes, memory_bytes=blocking.dram_bytes)

    def _vector(self, op: Op) -> OpTiming:
        p = self.params
        vector_s = vector_cycles(p.vector, p.tiles, op.kind, op.flops) / p.clock
        scratchpad_s = op.total_bytes / self.scratchpad_Bps
        memory_s = op.total_bytes / self.bandwidth
        steps = stream_steps(op.total_bytes, p.scratchpad.size, p.scratchpad.double_buffer, p.memory.chunk)
        duration = pipelined_s(memory_s, max(vector_s, scratchpad_s), steps, self.latency_s,
                               p.scratchpad.double_buffer)
        return OpTiming(float(duration), vector_s=vector_s, scratchpad_s=scratchpad_s, memory_s=memory_s,
                        vector_flops=op.flops, scratchpad_bytes=op.total_bytes, memory_bytes=op.total_bytes)

    def submit(self, op, done):
        timing = self.time(op)
        duration_ps = math.ceil(timing.duration_s * 1e12)
        start = max(self.sim.now, self._free_at_ps)
        end = start + duration_ps
        self._free_at_ps = end
        t = self._totals
        t["busy_s"] += duration_ps * 1e-12
        t["stall_s"] += max(0.0, timing.duration_s - max(timing.compute_s, timing.vector_s))
        if timing.mac_flops:
            t["compute_floor_s"] += timing.mac_flops / self.peak_flops(op.compute_dtype)
        for key in ("mac_flops", "vector_flops", "memory_bytes", "scratchpad_bytes"):
            t[key] += getattr(timing, key)
        energy = (self.params.power or 0.0) * duration_ps * 1e-12
        self.sim.schedule_at(end, done, op, Execution(start, end, f"{self.name}.{timing.bound}", energy))

    def resources(self):
        t = self._totals
        peak = max(self.peak_flops(f) for f in self.params.array.macs_per_pe_cycle)
        compute_rate = t["mac_flops"] / t["compute_floor_s"] if t["compute_floor_s"] else peak
        return [Resource(f"{self.name}.compute", "FLOP/s", compute_rate, t["mac_flops"], t["compute_floor_s"]),
                Resource(f"{self.name}.vector", "FLOP/s", self.vector_rate, t["vector_flops"],
                         t["vector_flops"] / self.vector_rate),
                Resource(f"{self.name}.scratchpad", "B/s", self.scratchpad_Bps, t["scratchpad_bytes"],
                         t["scratchpad_bytes"] / self.scratchpad_Bps),
                Resource(f"{self.name}.memory", "B/s", self.bandwidth, t["memory_bytes"],
                         t["memory_bytes"] / self.bandwidth)]

    def statistics(self):
        return {k: v for k, v in self._totals.items() if k != "compute_floor_s"}
