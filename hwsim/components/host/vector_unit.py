"""A host or ASIC vector processor with its own clock and SIMD lanes (PIM-GPT's ASIC, CENT's).

An op of F FLOPs takes ceil(F / (lanes x flops_per_lane_cycle x units)) + op_latency cycles of its
clock: `units` identical units (one per device under tensor parallelism) each take an equal share.
Ops run one at a time in arrival order. Energy = energy_per_flop x FLOPs; static power over the run.
"""
from __future__ import annotations

import math
from typing import Optional


from hwsim.components.base import Component, Execution, Resource, register
from hwsim.config.counts import Count, Cycles
from hwsim.config.schema import Strict
from hwsim.config.units import Energy, Frequency, Power


class VectorUnitParams(Strict):
    source: str
    assumptions: Optional[str] = None         # every input the source does not give
    clock: Frequency
    lanes: Count
    flops_per_lane_cycle: Count = 1
    units: Count = 1
    op_latency: Cycles = 0                    # cycles of pipeline fill and control per op
    energy_per_flop: Energy = "0J"
    static_power: Power = "0W"


@register
class VectorUnit(Component):
    type_name = "vector_unit"
    Params = VectorUnitParams
    stats = {"busy_s": "time running ops (s)", "flops": "operations executed (FLOP)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._free_ps = 0
        self._busy_ps = 0
        self._flops = 0.0

    @property
    def peak(self) -> float:
        p = self.params
        return p.lanes * p.flops_per_lane_cycle * p.units * p.clock

    def cycles(self, flops: float) -> int:
        p = self.params
        return math.ceil(flops / (p.lanes * p.flops_per_lane_cycle * p.units)) + p.op_latency

    def submit(self, op, done):
        duration = math.ceil(self.cycles(op.flops) * 1e12 / self.params.clock)
        start = max(self.sim.now, self._free_ps)
        end = start + duration
        self._free_ps = end
        self._busy_ps += duration
        self._flops += op.flops
        self.sim.schedule_at(end, done, op, Execution(start, end, f"{self.name}.lanes",
                                                      op.flops * self.params.energy_per_flop))

    def static_energy_j(self, elapsed_s):
        return self.params.static_power * elapsed_s

    def resources(self):
        return [Resource(f"{self.name}.lanes", "FLOP/s", self.peak, self._flops, self._flops / self.peak)]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "flops": self._flops}
