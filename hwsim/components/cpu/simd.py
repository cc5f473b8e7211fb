"""SIMD cores of a CPU: how many cycles the vector pipes need for a matmul or a vector op.

A core issues `pipes` SIMD instructions per cycle, each on a `width`-bit register. For a format f
a pipe retires `macs_per_pipe_cycle[f]` multiply-accumulates per cycle (AVX-512 FMA fp32: 16;
NEON SDOT int8: 16; Skylake-SP int8 through vpmaddubsw/vpmaddwd/vpaddd: 64 MACs per 3
instructions = 21.33). Weights stored in fewer bits than the compute format (int4 -> int8,
int4 -> fp16) are widened first: `unpack_ops` SIMD instructions per register of widened weights
(mask or shift, then offset or convert), on the same pipes. `weight_unpack_ops` replaces that
count for weights of a given stored width (widened or not) with a kernel's own instructions per
register beyond the multiply-accumulates (e.g. llama.cpp's q8_0 / q4_0 / q2_K dot products with
their block scales). Vector ops (softmax, norms, ...) retire one operation per 32-bit lane per
cycle. Work is spread evenly over all cores:

    matmul cycles = (MACs / macs_per_pipe_cycle[f] + unpacked weights / (width / bits(f)) * unpack ops)
                    / (pipes * cores)
    vector cycles = ops / (pipes * cores * width / 32)
"""
from __future__ import annotations

import math

from pydantic import Field, field_validator

from hwsim.config.counts import Count, Cycles
from hwsim.config.schema import Strict
from hwsim.workload import precision


class SimdParams(Strict):
    pipes: Count                                # SIMD pipes per core that issue multiply-accumulates
    width: Count                                # bits per vector register
    macs_per_pipe_cycle: dict[str, float]       # number format -> MACs one pipe retires per cycle
    unpack_ops: float = Field(default=2, ge=0)  # SIMD instructions per register of widened weights
    weight_unpack_ops: dict[float, float] = {}  # stored bits per weight -> unpack_ops for those weights

    @field_validator("macs_per_pipe_cycle")
    @classmethod
    def _formats(cls, macs):
        if not macs:
            raise ValueError("needs at least one number format, e.g. {fp32: 16, int8: 64}")
        for name, value in macs.items():
            precision.check(name)
            if value <= 0:
                raise ValueError(f"macs_per_pipe_cycle.{name} must be > 0")
        return macs

    @field_validator("weight_unpack_ops")
    @classmethod
    def _unpack(cls, ops):
        if any(bits <= 0 or count < 0 for bits, count in ops.items()):
            raise ValueError("weight_unpack_ops maps stored bits per weight (> 0) to instructions (>= 0)")
        return ops

    def unpack_ops_for(self, weight_bits: float, compute_bits: float) -> float:
        """SIMD instructions per register of weights stored in `weight_bits` bits, computed in
        `compute_bits`: the kernel's own count, else `unpack_ops` if they are widened, else none."""
        own = (ops for bits, ops in self.weight_unpack_ops.items() if math.isclose(bits, weight_bits))
        return next(own, self.unpack_ops if weight_bits < compute_bits else 0.0)


def matmul_cycles(simd: SimdParams, cores: int, fmt: str, macs: float, weights: float = 0.0,
                  weight_bits: float = 0.0) -> float:
    """Cycles of `macs` multiply-accumulates in `fmt` plus unpacking `weights` weights (each read,
    re-reads included) stored in `weight_bits` bits."""
    if fmt not in simd.macs_per_pipe_cycle:
        raise ValueError(f"the SIMD pipes have no {fmt} multiply-accumulate; add simd.macs_per_pipe_cycle.{fmt} "
                         f"(has: {', '.join(simd.macs_per_pipe_cycle)})")
    lanes = simd.width / precision.BITS[fmt]
    instructions = macs / simd.macs_per_pipe_cycle[fmt]
    if weights:
        instructions += weights / lanes * simd.unpack_ops_for(weight_bits, precision.BITS[fmt])
    return instructions / (simd.pipes * cores)


def vector_cycles(simd: SimdParams, cores: int, ops: float) -> float:
    """Cycles of `ops` element operations on every core's 32-bit lanes."""
    return ops / (simd.pipes * cores * simd.width / 32)
