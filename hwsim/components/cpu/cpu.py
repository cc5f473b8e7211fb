"""A multicore CPU: SIMD cores (simd.py), a cache hierarchy and DRAM behind it.

One operator at a time (the threads of one kernel share the cores), each timed in closed form:
- GEMM and attention: the caches hold the blocks an operator works on; the output-stationary
  blocking with the least DRAM traffic that fits the on-chip capacity (LLC plus the private L2s,
  the hierarchy being non-inclusive) sets the traffic (npu/scratchpad.block_gemm: A is re-read
  once per column block, B once per row block); the SIMD pipes set the compute time, including
  unpacking (widening, block scales) the weights once per read (simd.py).
- vector ops: the 32-bit SIMD lanes, operands streamed from memory.
- memory and communication ops: DRAM only.
Hardware prefetchers and out-of-order cores overlap DRAM streaming with compute, so an operator
takes latency + max(compute, memory): memory = traffic / sustained bandwidth, the DRAM peak
limited by the chip's sustained fraction and by each core's misses in flight (memory.py).
An operator's threads run on `threads` cores (default: all): its compute and its per-core
bandwidth limit both count those cores.
DRAM figures come from a datasheet or from the cycle-level DRAM model (npu/dma.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pydantic import Field, field_validator, model_validator

from hwsim.components.base import OpTiming, SerialComponent, ps, register
from hwsim.components.cpu.memory import CoreMemory, sustained_bandwidth
from hwsim.components.cpu.simd import SimdParams, matmul_cycles, vector_cycles
from hwsim.components.npu.dma import DmaParams, dma_figures, dram_memories
from hwsim.components.npu.mapper import GemmWork
from hwsim.components.npu.npu import gemm_work
from hwsim.components.npu.scratchpad import block_gemm
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import ByteCount, ByteSize, Frequency, Power
from hwsim.workload import precision


class CacheParams(Strict):
    l2: ByteCount = "0B"             # bytes per core, private
    llc: ByteSize                   # bytes, shared last-level cache


class CpuParams(Strict):
    source: str                                 # where every figure comes from
    assumptions: str = ""                       # figures the sources do not give, and the values taken
    cores: Count
    threads: Optional[Count] = None             # cores one operator runs on (default: all)
    clock: Frequency                            # Hz, sustained under SIMD load
    simd: SimdParams
    caches: CacheParams
    memory: DmaParams
    memory_efficiency: float = Field(1.0, gt=0, le=1)   # fraction of the DRAM peak the chip sustains
    per_core: Optional[CoreMemory] = None       # one core's misses in flight (memory.py)
    weight_format: Optional[str] = None         # matmul weights stored in this format instead of the trace's
    power: Optional[Power] = None               # W at load; energy = power x busy time
    memory_of: Optional[str] = None             # component whose memory it shares (an SoC's DRAM), if not its own

    @field_validator("weight_format")
    @classmethod
    def _format(cls, fmt):
        return fmt if fmt is None else precision.check(fmt)

    @model_validator(mode="after")
    def _threads(self):
        if self.threads is not None and self.threads > self.cores:
            raise ValueError(f"threads ({self.threads}) must not exceed cores ({self.cores})")
        return self

    @property
    def active_cores(self) -> int:
        """Cores one operator's threads run on."""
        return self.threads or self.cores


@dataclass(frozen=True)
class CpuTiming(OpTiming):
    """OpTiming plus the busy time of the SIMD pipes and of DRAM within the operator (s)."""

    compute_s: float = 0.0
    memory_s: float = 0.0

    @property
    def memory_bytes(self) -> float:
        return self.used["memory"]


@register
class Cpu(SerialComponent):
    type_name = "cpu"
    Params = CpuParams
    resource_units = {"compute": "FLOP/s", "vector": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time running operators (s)", "compute_used": "FLOPs of matmuls and attention",
             "vector_used": "element operations of vector ops", "memory_used": "DRAM traffic, re-reads included (B)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        peak_bandwidth, self.latency_s = dma_figures(params.memory)
        self.bandwidth = sustained_bandwidth(peak_bandwidth, params.memory_efficiency, params.per_core,
                                             params.active_cores)
        self.cache_bytes = params.caches.llc + params.active_cores * params.caches.l2

    def peak_flops(self, fmt: str) -> float:
        """Dense SIMD peak in `fmt`: active cores x pipes x MACs/pipe/cycle x 2 x clock."""
        return 2 / matmul_cycles(self.params.simd, self.params.active_cores, fmt, 1.0, 0.0) * self.params.clock

    @property
    def vector_rate(self) -> float:
        """Element operations per second of the active cores' 32-bit lanes."""
        return 1 / vector_cycles(self.params.simd, self.params.active_cores, 1.0) * self.params.clock

    def memories(self):
        return dram_memories(self.name, self.params.memory)

    def memory_owner(self):
        return self.params.memory_of

    def capacity(self, resource):
        if resource == "compute":
            return max(self.peak_flops(f) for f in self.params.simd.macs_per_pipe_cycle)
        return self.vector_rate if resource == "vector" else self.bandwidth

    def time(self, op) -> CpuTiming:
        """Closed-form timing of `op` on an idle CPU."""
        if op.op_class in ("gemm", "attention"):
            return self._gemm(op)
        memory_s = op.total_bytes / self.bandwidth
        if op.op_class == "vector":
            return self._timing(op, op.flops / self.vector_rate, memory_s,
                                {"vector": op.flops, "memory": op.total_bytes})
        return self._timing(op, 0.0, memory_s, {"memory": op.total_bytes})

    def _timing(self, op, compute_s: float, memory_s: float, used: dict[str, float]) -> CpuTiming:
        """latency + max(compute, memory), whole ps without float-noise extra ps; matmul floor at the format's peak."""
        duration_s = self.latency_s + max(compute_s, memory_s)
        floor = {"compute": used["compute"] / self.peak_flops(op.compute_dtype)} if used.get("compute") else {}
        return CpuTiming(duration_s, "compute" if compute_s > memory_s else "memory", used, floor,
                         duration_ps=ps(duration_s), compute_s=compute_s, memory_s=memory_s)

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

    def _gemm(self, op) -> CpuTiming:
        p = self.params
        work, weight_bits = self._work(op)
        # least traffic that fits: block_gemm with no compute to hide ranks blockings by traffic
        blocking = block_gemm(work, self.cache_bytes, True, p.memory.chunk, self.bandwidth, 0.0, 0.0)
        weights = work.n * work.k * work.count * -(-work.m // blocking.bm) if op.kind == "matmul" else 0.0
        compute_s = matmul_cycles(p.simd, p.active_cores, op.compute_dtype, op.flops / 2, weights, weight_bits) / p.clock
        return self._timing(op, compute_s, blocking.dram_bytes / self.bandwidth,
                            {"compute": op.flops, "memory": blocking.dram_bytes})
