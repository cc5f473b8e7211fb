"""SIMD cores of a CPU: how many cycles the vector pipes need for a matmul or a vector op.

A core issues `pipes` SIMD instructions per cycle, each on a `width`-bit register. For a format f
a pipe retires `macs_per_pipe_cycle[f]` multiply-accumulates per cycle (AVX-512 FMA fp32: 16;
NEON SDOT int8: 16; Skylake-SP int8 through vpmaddubsw/vpmaddwd/vpaddd: 64 MACs per 3
instructions = 21.33). Weights stored in fewer bits than the compute format (int4 -> int8,
int4 -> fp16) are widened first: `unpack_ops` SIMD instructions per register of widened weights
(mask or shift, then offset or convert), on the same pipes. Vector ops (softmax, norms, ...) retire
one operation per 32-bit lane per cycle. Work is spread evenly over all cores:

    matmul cycles = (MACs / macs_per_pipe_cycle[f] + unpacked weights / (width / bits(f)) * unpack_ops)
                    / (pipes * cores)
    vector cycles = ops / (pipes * cores * width / 32)
"""
from __future__ import annotations

from pydantic import Field, PositiveInt, field_validator

from hwsim.config.schema import Strict
from hwsim.workload import precision


class SimdParams(Strict):
    pipes: PositiveInt                          # SIMD pipes per core that issue multiply-accumulates
    width: PositiveInt                          # bits per vector register
    macs_per_pipe_cycle: dict[str, float]       # number format -> MACs one pipe retires per cycle
    unpack_ops: int = Field(default=2, ge=0)    # SIMD instructions per register of widened weights

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


def matmul_cycles(simd: SimdParams, cores: int, fmt: str, macs: float, widened_weights: float) -> float:
    """Cycles of `macs` multiply-accumulates in `fmt` plus widening `widened_weights` weights."""
    if fmt not in simd.macs_per_pipe_cycle:
        raise ValueError(f"the SIMD pipes have no {fmt} multiply-accumulate; add simd.macs_per_pipe_cycle.{fmt} "
                         f"(has: {', '.join(simd.macs_per_pipe_cycle)})")
    lanes = simd.width / precision.BITS[fmt]
    instructions = macs / simd.macs_per_pipe_cycle[fmt] + widened_weights / lanes * simd.unpack_ops
    return instructions / (simd.pipes * cores)


def vector_cycles(simd: SimdParams, cores: int, ops: float) -> float:
    """Cycles of `ops` element operations on every core's 32-bit lanes."""
    return ops / (simd.pipes * cores * simd.width / 32)
