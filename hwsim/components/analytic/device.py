"""A roofline device: each operator takes max(FLOPs / peak, bytes / bandwidth) + launch overhead.

It stands for a whole processor (a GPU, a CPU socket) when only its published peaks are
known. Operators run one at a time, in the order they become ready, like kernels on one
stream. Cycle-level NPU/GPU models built from tiles replace it where detail matters.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import field_validator

from hwsim.components.base import Component, Execution, Resource, register
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate, Duration, Power
from hwsim.workload import precision


class Memory(Strict):
    capacity: ByteSize          # bytes
    bandwidth: Bandwidth        # bytes/s, peak


class AnalyticDeviceParams(Strict):
    source: str                          # where the peaks come from (datasheet, paper table)
    peak: dict[str, ComputeRate]         # number format -> peak operations/s (dense, no sparsity)
    memory: Memory
    launch_overhead: Duration = "0s"     # fixed time added to every operator (kernel launch)
    power: Optional[Power] = None        # board power at load (TDP); energy = power x busy time

    @field_validator("peak")
    @classmethod
    def _known_formats(cls, peak):
        for name in peak:
            precision.check(name)
        if not peak:
            raise ValueError("needs at least one number format, e.g. {bf16: 312TFLOPS}")
        return peak


@register
class AnalyticDevice(Component):
    type_name = "analytic_device"
    Params = AnalyticDeviceParams
    stats = {"busy_s": "time spent running operators (s)",
             "flops": "operations executed (FLOP)", "bytes": "bytes moved to/from memory (B)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._free_at_ps = 0
        self._compute_floor_s = 0.0
        self._flops = 0.0
        self._bytes = 0.0
        self._busy_ps = 0

    def _peak(self, fmt: str) -> float:
        if fmt not in self.params.peak:
            raise ValueError(f"component '{self.name}' has no peak for {fmt} operators; "
                             f"add peak.{fmt} (has: {', '.join(self.params.peak)})")
        return self.params.peak[fmt]

    def submit(self, op, done):
        compute_s = op.flops / self._peak(op.compute_dtype) if op.flops else 0.0
        memory_s = op.total_bytes / self.params.memory.bandwidth
        duration_ps = math.ceil((max(compute_s, memory_s) + self.params.launch_overhead) * 1e12)
        start = max(self.sim.now, self._free_at_ps)
        end = start + duration_ps
        self._free_at_ps = end
        self._busy_ps += duration_ps
        self._compute_floor_s += compute_s
        self._flops += op.flops
        self._bytes += op.total_bytes
        bound = f"{self.name}.compute" if compute_s > memory_s else f"{self.name}.memory"
        energy = (self.params.power or 0.0) * duration_ps * 1e-12
        self.sim.schedule_at(end, done, op, Execution(start, end, bound, energy))

    def resources(self):
        bandwidth = self.params.memory.bandwidth
        compute_rate = self._flops / self._compute_floor_s if self._compute_floor_s else max(self.params.peak.values())
        return [Resource(f"{self.name}.compute", "FLOP/s", compute_rate, self._flops, self._compute_floor_s),
                Resource(f"{self.name}.memory", "B/s", bandwidth, self._bytes, self._bytes / bandwidth)]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "flops": self._flops, "bytes": self._bytes}
