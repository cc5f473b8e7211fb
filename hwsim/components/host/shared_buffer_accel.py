"""CENT's per-device accelerators, whose SIMD units are bounded by reading one shared buffer.

A device has `units` SIMD units of `lanes` lanes each (CENT: 32 x 16 at 2 GHz) fed from one shared
buffer that delivers one vector per `buffer_read` cycles, so the units' operand reads serialise. A
pass of a pipelined function over N elements runs in rounds of `units` vectors; a round costs
(vectors x operands x buffer_read) + pipeline depth + buffer_write cycles (CENT
cent_power_calculator.py ACCEL_CYCLE: EXP = 32 x 1 + 11 + 1, VEC = 32 x 2 x 1 + 1 + 1). Scalar
steps run on a cluster of `riscv_cores` RISC-V cores.

Programs, from CENT run_sim.py calculate_acc_latency (rows = op.count x max(op.m, 1)):
  softmax      exp pass (1 operand) + add pass (2 operands) over the scores; per row one reduction
               read and the RISC-V normalisation (softmax_row_cycles, e.g. 16 writes + 2/8 + 1 read).
  norm         add pass over the PIM's partial sums of squares (elements / norm_partial_width),
               one reduction + buffer read + buffer write, then the RISC-V rsqrt (norm_row_cycles).
  rope         RISC-V, rope_cycles_per_element spread over the cores.
  elementwise, activation   one add pass (assumption: CENT runs these in the banks; the accelerator's
               add pipeline stands in for them here).
Ops run one at a time in arrival order; energy = `power` x busy time. The cycle costs (`timing`)
are shared with pim_dram, whose softmax runs its exp and sums on this accelerator.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import NonNegativeFloat, PositiveFloat

from hwsim.components.base import OpTiming, SerialComponent, register
from hwsim.config.counts import Count, Cycles
from hwsim.config.schema import Strict
from hwsim.config.units import Frequency, Power
from hwsim.workload.precision import BITS


class SharedBufferTiming(Strict):
    """Cycle costs of the accelerator's functions (CENT cent_power_calculator.py)."""

    clock: Frequency
    lanes: Count = 16                         # SIMD lanes per unit
    units: Count = 32                         # units sharing the buffer (one per channel)
    buffer_read: Cycles = 1                   # cycles per vector read (SB_RD_CYCLE)
    buffer_write: Cycles = 1                  # cycles per vector write (SB_WR_CYCLE)
    exp_depth: Cycles = 11                    # exp pipeline (EXP_LANE_CYCLE)
    add_depth: Cycles = 1                     # adder pipeline
    reduce_depth: Cycles = 1                  # reduction tree (RED)
    riscv_cores: Count = 8                    # RV_COUNT
    softmax_row_cycles: NonNegativeFloat = 17.25   # RV_SFT_CYCLE_PIPELINE = 16 x SB_WR + 2 / 8 + SB_RD
    norm_row_cycles: NonNegativeFloat = 26.0       # RV_RMSNorm_CYCLE
    norm_partial_width: Count = 16                  # elements per PIM partial sum of squares
    rope_cycles_per_element: PositiveFloat = 3.0    # RV_ROTEmbed_CYCLE x RV_COUNT

    def pass_cycles(self, elements: int, operands: int, depth: int) -> int:
        """Cycles of one pipelined pass over `elements`, `operands` reads per vector."""
        vectors = math.ceil(elements / self.lanes)
        full, last = divmod(vectors, self.units)
        per_round = lambda n: n * operands * self.buffer_read + depth + self.buffer_write  # noqa: E731
        return full * per_round(self.units) + (per_round(last) if last else 0)

    def softmax_cycles(self, elements: int, rows: int) -> float:
        return (self.pass_cycles(elements, 1, self.exp_depth) + self.pass_cycles(elements, 2, self.add_depth)
                + rows * (self.buffer_read + self.softmax_row_cycles))

    def norm_cycles(self, elements: int, rows: int) -> float:
        partials = math.ceil(elements / self.norm_partial_width)
        return (self.pass_cycles(partials, 2, self.add_depth)
                + rows * (self.reduce_depth + self.buffer_read + self.buffer_write + self.norm_row_cycles))

    def rope_cycles(self, elements: int) -> float:
        return elements * self.rope_cycles_per_element / self.riscv_cores

    def op_cycles(self, op) -> float:
        elements = round(op.act_out_bytes * 8 / BITS[op.compute_dtype])
        rows = op.count * max(op.m, 1)
        if op.kind == "softmax":
            return self.softmax_cycles(elements, rows)
        if op.kind == "norm":
            return self.norm_cycles(elements, rows)
        if op.kind == "rope":
            return self.rope_cycles(elements)
        if op.kind in ("elementwise", "activation"):
            return self.pass_cycles(elements, 2, self.add_depth)
        raise ValueError(f"a shared-buffer accelerator has no program for {op.kind} ops")

    def op_ps(self, op) -> int:
        return math.ceil(math.ceil(self.op_cycles(op)) * 1e12 / self.clock)


class SharedBufferAccelParams(Strict):
    source: str
    assumptions: Optional[str] = None
    timing: SharedBufferTiming
    power: Power = "0W"                       # while busy


@register
class SharedBufferAccel(SerialComponent):
    type_name = "shared_buffer_accel"
    Params = SharedBufferAccelParams
    resource_units = {"buffer": "cycle/s"}
    stats = {"busy_s": "time running ops (s)", "buffer_used": "cycles the programs take"}

    def time(self, op):
        timing = self.params.timing
        cycles = math.ceil(timing.op_cycles(op))
        return OpTiming(cycles / timing.clock, "buffer", used={"buffer": cycles}, duration_ps=timing.op_ps(op))

    def capacity(self, resource):
        return self.params.timing.clock
