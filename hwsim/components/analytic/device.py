"""A roofline device: each operator takes max(FLOPs / peak, bytes / bandwidth) + its launch overheads.

It stands for a whole processor (a GPU, a CPU socket) when only its published peaks are
known. Operators run one at a time, in the order they become ready, like kernels on one
stream. An eager framework issues several kernels for one of our operators (HF GPT-2's
GELU is eight element-wise kernels), so each operator pays `launch_overhead` once per
kernel its kind expands to (`kernels_per_op`, default 1). Cycle-level NPU/GPU models built
from tiles replace it where detail matters.
"""
from __future__ import annotations

from typing import Optional

from pydantic import PositiveInt, field_validator

from hwsim.components.base import OpTiming, SerialComponent, register
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate, Latency, Power
from hwsim.workload import precision
from hwsim.workload.ops import KINDS


class Memory(Strict):
    capacity: ByteSize          # bytes
    bandwidth: Bandwidth        # bytes/s, peak


class AnalyticDeviceParams(Strict):
    source: str                          # where the peaks come from (datasheet, paper table)
    peak: dict[str, ComputeRate]         # number format -> peak operations/s (dense, no sparsity)
    memory: Memory
    launch_overhead: Latency = "0s"     # fixed time added per kernel launch (framework dispatch + launch)
    kernels_per_op: dict[str, PositiveInt] = {}   # operator kind -> kernels one operator launches (absent: 1)
    power: Optional[Power] = None        # board power at load (TDP); energy = power x busy time

    @field_validator("peak")
    @classmethod
    def _known_formats(cls, peak):
        for name in peak:
            precision.check(name)
        if not peak:
            raise ValueError("needs at least one number format, e.g. {bf16: 312TFLOPS}")
        return peak

    @field_validator("kernels_per_op")
    @classmethod
    def _known_kinds(cls, kernels):
        unknown = sorted(set(kernels) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown operator kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
        return kernels


@register
class AnalyticDevice(SerialComponent):
    """Roofline device: max(FLOPs / peak, bytes / bandwidth) + launch overhead x kernels per operator."""

    type_name = "analytic_device"
    Params = AnalyticDeviceParams
    resource_units = {"compute": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time spent running operators (s)", "compute_used": "operations executed (FLOP)",
             "memory_used": "bytes moved to/from memory (B)"}

    def _peak(self, fmt: str) -> float:
        if fmt not in self.params.peak:
            raise ValueError(f"component '{self.name}' has no peak for {fmt} operators; "
                             f"add peak.{fmt} (has: {', '.join(self.params.peak)})")
        return self.params.peak[fmt]

    def time(self, op):
        compute_s = op.flops / self._peak(op.compute_dtype) if op.flops else 0.0
        memory_s = op.total_bytes / self.params.memory.bandwidth
        launches = self.params.kernels_per_op.get(op.kind, 1)
        return OpTiming(max(compute_s, memory_s) + launches * self.params.launch_overhead,
                        "compute" if compute_s > memory_s else "memory",
                        used={"compute": op.flops, "memory": op.total_bytes},
                        floor_s={"compute": compute_s, "memory": memory_s})

    def capacity(self, resource):
        return max(self.params.peak.values()) if resource == "compute" else self.params.memory.bandwidth
