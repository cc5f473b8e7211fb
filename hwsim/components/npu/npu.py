"""An NPU: tiles of systolic arrays with vector units, a shared banked scratchpad and DMA to memory.

One operator at a time (like kernels on one stream), each timed in closed form:
- GEMM and attention: the mapper (mapper.py) picks the dataflow and the split over tiles; the
  busiest tile's cycles come from the SCALE-Sim-exact fold formula (systolic.py); tiles read their
  operand slices from the scratchpad over the on-chip network (banks x ports x bank_width bytes per
  cycle); the scratchpad blocking (scratchpad.py) sets the DMA traffic and the double-buffered
  pipeline of loads against compute. With a `noc:` block the operand and result packets are
  timed on a cycle-level mesh / torus / crossbar instead (noc.py, noc_traffic.py). Causal prefill
  attention skips fully masked key blocks: the key extent is shrunk to the pairs the trace counts
  (about half).
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

from pydantic import field_validator, model_validator

from hwsim.components.base import OpTiming, SerialComponent, register
from hwsim.components.npu.dma import DmaParams, dma_figures, dram_memories
from hwsim.components.npu.mapper import GemmWork, plan_gemm
from hwsim.components.npu.noc import NocParams, network_cycles
from hwsim.components.npu.noc_traffic import gemm_traffic, stream_traffic
from hwsim.components.npu.scratchpad import block_gemm, pipelined_s, stream_steps
from hwsim.components.npu.vector_unit import VectorUnitParams, vector_cycles
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Frequency, Power
from hwsim.workload import precision
from hwsim.workload.ops import Op


class ArrayParams(Strict):
    rows: Count
    cols: Count
    macs_per_pe_cycle: dict[str, Count]    # number format -> MACs one PE does per cycle

    @field_validator("macs_per_pe_cycle")
    @classmethod
    def _formats(cls, macs):
        if not macs:
            raise ValueError("needs at least one number format, e.g. {bf16: 1, int8: 2}")
        for name in macs:
            precision.check(name)
        return macs


class ScratchpadParams(Strict):
    size: ByteSize                          # bytes, shared by all tiles
    banks: Count
    ports: Count = 1                        # ports per bank
    bank_width: ByteSize                    # bytes one port moves per cycle
    double_buffer: bool = True


class NpuParams(Strict):
    source: str                             # where every figure comes from
    assumptions: str = ""                   # figures the sources do not give, and the values taken
    tiles: Count
    clock: Frequency                        # Hz, arrays, vector units and scratchpad
    array: ArrayParams
    dataflow: Literal["auto", "ws", "os", "is"] = "auto"
    mapper: Literal["heuristic", "search"] = "heuristic"
    scratchpad: ScratchpadParams
    vector: VectorUnitParams
    memory: DmaParams
    power: Optional[Power] = None           # W at load; energy = power x busy time
    noc: Optional[NocParams] = None         # on-chip network; absent: aggregate scratchpad bandwidth

    @model_validator(mode="after")
    def _noc_fits_tiles(self):
        if self.noc is not None and self.noc.terminals != self.tiles:
            raise ValueError(f"noc.dims {self.noc.dims} give {self.noc.terminals} routers for {self.tiles} tiles; "
                             "each router joins one tile and its scratchpad slice")
        return self


@dataclass(frozen=True)
class NpuTiming(OpTiming):
    """OpTiming plus the busy time of each resource within the operator (s)."""

    compute_s: float = 0.0
    vector_s: float = 0.0
    scratchpad_s: float = 0.0
    memory_s: float = 0.0

    @property
    def memory_bytes(self) -> float:
        return self.used["memory"]


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
class Npu(SerialComponent):
    type_name = "npu"
    Params = NpuParams
    resource_units = {"compute": "FLOP/s", "vector": "FLOP/s", "scratchpad": "B/s", "memory": "B/s"}
    stats = {"busy_s": "time running operators (s)",
             "stall_s": "time the arrays / vector units waited for data (s)",
             "compute_used": "FLOPs on the arrays", "vector_used": "operations on the vector units",
             "memory_used": "DMA traffic, re-reads included (B)",
             "scratchpad_used": "bytes tiles moved over the on-chip network (B)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        p = params
        self.bandwidth, self.latency_s = dma_figures(p.memory)
        self.scratchpad_Bps = (p.noc.peak_Bps if p.noc else      # on-chip network peak (B/s)
                               p.scratchpad.banks * p.scratchpad.ports * p.scratchpad.bank_width * p.clock)
        self.vector_rate = p.tiles * p.vector.lanes * p.clock

    def peak_flops(self, fmt: str) -> float:
        """Dense peak of the arrays in `fmt`: tiles x R x C x MACs/PE/cycle x 2 x clock."""
        macs = self.params.array.macs_per_pe_cycle
        if fmt not in macs:
            raise ValueError(f"component '{self.name}' has no arrays for {fmt} operators; "
                             f"add array.macs_per_pe_cycle.{fmt} (has: {', '.join(macs)})")
        a = self.params.array
        return self.params.tiles * a.rows * a.cols * macs[fmt] * 2 * self.params.clock

    def memories(self):
        return dram_memories(self.name, self.params.memory)

    def capacity(self, resource):
        if resource == "compute":
            return max(self.peak_flops(f) for f in self.params.array.macs_per_pe_cycle)
        return {"vector": self.vector_rate, "scratchpad": self.scratchpad_Bps, "memory": self.bandwidth}[resource]

    def time(self, op: Op) -> NpuTiming:
        """Closed-form timing of `op` on an idle NPU."""
        if op.op_class in ("gemm", "attention"):
            return self._gemm(op)
        if op.op_class == "vector":
            return self._vector(op)
        return self._timing(op, self.latency_s + op.total_bytes / self.bandwidth, {"memory": op.total_bytes},
                            memory_s=op.total_bytes / self.bandwidth)

    def _timing(self, op: Op, duration_s: float, used: dict[str, float], compute_s: float = 0.0,
                vector_s: float = 0.0, scratchpad_s: float = 0.0, memory_s: float = 0.0) -> NpuTiming:
        """Bound: the resource busiest in the op; stall: the time the arrays and vector units idle."""
        busy = {"compute": compute_s, "vector": vector_s, "scratchpad": scratchpad_s, "memory": memory_s}
        floor = {"compute": used["compute"] / self.peak_flops(op.compute_dtype)} if used.get("compute") else {}
        return NpuTiming(duration_s, max(busy, key=busy.get), used, floor,
                         counts={"stall_s": max(0.0, duration_s - max(compute_s, vector_s))},
                         compute_s=compute_s, vector_s=vector_s, scratchpad_s=scratchpad_s, memory_s=memory_s)

    def _gemm(self, op: Op) -> NpuTiming:
        p = self.params
        work = gemm_work(op)
        self.peak_flops(op.compute_dtype)   # a clear error when the arrays lack the format
        macs = p.array.macs_per_pe_cycle[op.compute_dtype]
        plan = plan_gemm(work, p.tiles, p.array.rows, p.array.cols, macs,
                         self.scratchpad_Bps / p.clock, p.dataflow, p.mapper)
        compute_s = plan.tile_cycles / p.clock
        scratchpad_s = (plan.noc_bytes / self.scratchpad_Bps if p.noc is None else
                        network_cycles(p.noc, gemm_traffic(plan, work, p.tiles, p.noc.packet_bytes)) / p.noc.clock)
        blocking = block_gemm(work, p.scratchpad.size, p.scratchpad.double_buffer, p.memory.chunk,
                              self.bandwidth, self.latency_s, max(compute_s, scratchpad_s))
        return self._timing(op, blocking.time_s,
                            {"compute": min(op.flops, 2.0 * work.m * work.n * work.k * work.count),
                             "scratchpad": plan.noc_bytes, "memory": blocking.dram_bytes},
                            compute_s=compute_s, scratchpad_s=scratchpad_s,
                            memory_s=blocking.dram_bytes / self.bandwidth)

    def _vector(self, op: Op) -> NpuTiming:
        p = self.params
        vector_s = vector_cycles(p.vector, p.tiles, op.kind, op.flops) / p.clock
        written = op.act_out_bytes + op.kv_write_bytes
        scratchpad_s = (op.total_bytes / self.scratchpad_Bps if p.noc is None else network_cycles(
            p.noc, stream_traffic(op.total_bytes - written, written, p.tiles, p.noc.packet_bytes)) / p.noc.clock)
        memory_s = op.total_bytes / self.bandwidth
        steps = stream_steps(op.total_bytes, p.scratchpad.size, p.scratchpad.double_buffer, p.memory.chunk)
        duration = pipelined_s(memory_s, max(vector_s, scratchpad_s), steps, self.latency_s,
                               p.scratchpad.double_buffer)
        return self._timing(op, float(duration),
                            {"vector": op.flops, "scratchpad": op.total_bytes, "memory": op.total_bytes},
                            vector_s=vector_s, scratchpad_s=scratchpad_s, memory_s=memory_s)
