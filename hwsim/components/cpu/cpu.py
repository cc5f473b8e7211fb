"""`type: cpu`: a multicore CPU: SIMD cores (simd.py), a cache hierarchy, DRAM behind it.

One operator at a time (the threads of one kernel share the cores), each timed in closed form:
- GEMM and attention: the caches hold the blocks an operator works on; the output-stationary
  blocking with the least DRAM traffic that fits the on-chip capacity (LLC plus the private L2s,
  the hierarchy being non-inclusive) sets the traffic (npu/scratchpad.block_gemm: A is re-read
  once per column block, B once per row block); the SIMD pipes set the compute time, including
  widening sub-format weights once per read (simd.py).
- vector ops: the 32-bit SIMD lanes, operands streamed from memory.
- memory and communication ops: DRAM only.
Hardware prefetchers and out-of-order cores overlap DRAM streaming with compute, so an operator
takes latency + max(compute, memory): memory = traffic / (bandwidth x memory_efficiency).
DRAM figures come from a datasheet or from the cycle-level DRAM model (npu/dma.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from pydantic import Field, PositiveInt, field_validator

from hwsim.components.base import Component, Execution, Resource, register
from hwsim.components.cpu.simd import SimdParams, matmul_cycles, vector_cycles
from hwsim.components.npu.dma import DmaParams, dma_figures
from hwsim.components.npu.mapper import GemmWork
from hwsim.components.npu.npu import gemm_work
from hwsim.components.npu.scratchpad import block_gemm
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Frequency, Power
from hwsim.workload import precision


class CacheParams(Strict):
    l2: ByteSize = "0B"             # bytes per core, private
    llc: ByteSize                   # bytes, shared last-level cache


class CpuParams(Strict):
    source: str                                 # where every figure comes from
    assumptions: str = ""                       # figures the sources do not give, and the values taken
    cores: PositiveInt
    clock: Frequency                            # Hz, sustained under SIMD load
    simd: SimdParams
    caches: CacheParams
    memory: DmaParams
    memory_efficiency: float = Field(1.0, gt=0, le=1)   # sustained fraction of the DRAM bandwidth
    weight_format: Optional[str] = None         # matmul weights stored in this format instead of the trace's
    power: Optional[Power] = None               # W at load; energy = power x busy time

    @field_validator("weight_format")
    @classmethod
    def _format(cls, fmt):
        return fmt if fmt is None else precision.check(fmt)


@dataclass(frozen=True)
class OpTiming:
    duration_s: float
    compute_s: float = 0.0
    memory_s: float = 0.0
    mac_flops: float = 0.0
    vector_flops: float = 0.0
    memory_bytes: float = 0.0

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s > self.memory_s else "memory"


@register
class Cpu(Component):
    type_name = "cpu"
    Params = CpuParams
    stats = {"busy_s": "time running operators (s)", "mac_flops": "FLOPs of matmuls and attention",
             "vector_flops": "element operations of vector ops", "memory_bytes": "DRAM traffic, re-reads included (B)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        peak_bandwidth, self.latency_s = dma_figures(params.memory)
        self.bandwidth = peak_bandwidth * params.memory_efficiency
        self.cache_bytes = params.caches.llc + params.cores * params.caches.l2
        self._free_at_ps = 0
        self._totals = dict.fromkeys(("busy_s", "compute_floor_s", "mac_flops", "vector_flops", "memory_bytes"), 0.0)

    def peak_flops(self, fmt: str) -> float:
        """Dense SIMD peak in `fmt`: cores x pipes x MACs/pipe/cycle x 2 x clock."""
        return 2 / matmul_cycles(self.params.simd, self.params.cores, fmt, 1.0, 0.0) * self.params.clock

    @property
    def vector_rate(self) -> float:
        """Element operations per second of all cores' 32-bit lanes."""
        return 1 / vector_cycles(self.params.simd, self.params.cores, 1.0) * self.params.clock

    def time(self, op) -> OpTiming:
        """Closed-form timing of `op` on an idle CPU."""
        if op.op_class in ("gemm", "attention"):
            return self._gemm(op)
        if op.op_class == "vector":
            compute_s = op.flops / self.vector_rate
            memory_s = op.total_bytes / self.bandwidth
            return OpTiming(self.latency_s + max(compute_s, memory_s), compute_s, memory_s,
                            vector_flops=op.flops, memory_bytes=op.total_bytes)
        memory_s = op.total_bytes / self.bandwidth
        return OpTiming(self.latency_s + memory_s, memory_s=memory_s, memory_bytes=op.total_bytes)

    def _work(self, op) -> tuple[GemmWork, float]:
        """The op as a GEMM (weights in the CPU's format if it sets one) and its bits per weight."""
        work = gemm_work(op)
        if op.kind != "matmul":
            return work, precision.BITS[op.compute_dtype]
        fmt = self.params.weight_format
        if fmt is None:
            return work, op.weight_bytes * 8 / (op.n * op.k * op.count)
        weight_bytes = op.n * op.k * op.count * precision.BITS[fmt] / 8
        return GemmWork(work.m, work.n, work.k, work.count, work.a_bytes, weight_bytes, work.c_bytes), precision.BITS[fmt]

    def _gemm(self, op) -> OpTiming:
        p = self.params
        work, weight_bits = self._work(op)
        # least traffic that fits: block_gemm with no compute to hide ranks blockings by traffic
        blocking = block_gemm(work, self.cache_bytes, True, p.memory.chunk, self.bandwidth, 0.0, 0.0)
        widened = 0.0
        if weight_bits < precision.BITS[op.compute_dtype]:
            widened = work.n * work.k * work.count * -(-work.m // blocking.bm)
        compute_s = matmul_cycles(p.simd, p.cores, op.compute_dtype, op.flops / 2, widened) / p.clock
        memory_s = blocking.dram_bytes / self.bandwidth
        return OpTiming(self.latency_s + max(compute_s, memory_s), compute_s, memory_s,
                        mac_flops=op.flops, memory_bytes=blocking.dram_bytes)

    def submit(self, op, done):
        timing = self.time(op)
        start = max(self.sim.now, self._free_at_ps)
        end = start + math.ceil(round(timing.duration_s * 1e12, 6))  # whole ps, no float-noise extra ps
        self._free_at_ps = end
        t = self._totals
        t["busy_s"] += (end - start) * 1e-12
        if timing.mac_flops:
            t["compute_floor_s"] += timing.mac_flops / self.peak_flops(op.compute_dtype)
        for key in ("mac_flops", "vector_flops", "memory_bytes"):
            t[key] += getattr(timing, key)
        energy = (self.params.power or 0.0) * (end - start) * 1e-12
        self.sim.schedule_at(end, done, op, Execution(start, end, f"{self.name}.{timing.bound}", energy))

    def resources(self):
        t = self._totals
        peak = max(self.peak_flops(f) for f in self.params.simd.macs_per_pipe_cycle)
        compute_rate = t["mac_flops"] / t["compute_floor_s"] if t["compute_floor_s"] else peak
        return [Resource(f"{self.name}.compute", "FLOP/s", compute_rate, t["mac_flops"], t["compute_floor_s"]),
                Resource(f"{self.name}.vector", "FLOP/s", self.vector_rate, t["vector_flops"],
                         t["vector_flops"] / self.vector_rate),
                Resource(f"{self.name}.memory", "B/s", self.bandwidth, t["memory_bytes"],
                         t["memory_bytes"] / self.bandwidth)]

    def statistics(self):
        return {k: v for k, v in self._totals.items() if k != "compute_floor_s"}
