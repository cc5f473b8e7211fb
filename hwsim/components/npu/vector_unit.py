"""Vector / special-function unit of an NPU tile: SIMD lanes behind a fixed-depth pipeline.

Each lane retires one operation per cycle; the trace's FLOP counts per element (softmax 5,
rmsnorm 4, silu 4, gelu 8, rope 3, residual 1, MoE top-k selection 5-6 per score) are the
operations. An operator spread over all tiles' lanes takes

    cycles = ceil(flops / (tiles x lanes)) + latency[kind]

where latency is the pipeline depth of that kind (the special function, e.g. exp for softmax,
plus the reduction tree for norms and top-k): paid once per operator, as the last element drains.
"""
from __future__ import annotations

from pydantic import field_validator

from hwsim.config.counts import Count, Cycles
from hwsim.config.schema import Strict

VECTOR_KINDS = ("softmax", "norm", "activation", "rope", "elementwise", "topk")


class VectorUnitParams(Strict):
    lanes: Count                                 # operations per cycle per tile
    latency_cycles: dict[str, Cycles] = {}       # op kind -> pipeline depth (cycles); missing kinds 0

    @field_validator("latency_cycles")
    @classmethod
    def _known_kinds(cls, latency):
        for kind in latency:
            if kind not in VECTOR_KINDS:
                raise ValueError(f"unknown vector op kind '{kind}'; known: {', '.join(VECTOR_KINDS)}")
        return latency


def vector_cycles(params: VectorUnitParams, tiles: int, kind: str, flops: float) -> int:
    """Cycles for `flops` operations of `kind` spread over every tile's lanes."""
    return int(-(-flops // (tiles * params.lanes))) + params.latency_cycles.get(kind, 0)
