"""Matmuls on an analytic GPU (`analytic_device`'s `gemm:`) as cuBLAS-style kernels.

The (m x n) output is cut into thread-block tiles (one of `tiles`, the fastest for the shape, as
cuBLAS's heuristics pick), tiles run in waves of `sms` at a time, each at peak x `efficiency` / sms
(the best measured matmul rate as a share of the format's peak), so a shape pays for its padded
tiles (tile quantisation) and its last partial wave (wave quantisation). With fewer tiles than SMs, the k loop may be split over 2, 4, ... SMs
(split-K); the fp32 partial sums are written and read back once, by a second kernel (cuBLASLt's
out-of-place split-K reduction schemes, cublasLtReductionScheme_t; `splitKreduce_kernel` after
the GEMM in Ampere profiles) that pays `kernel_startup`.

With `gemm.l2_bandwidth` (a measured L2 read bandwidth), the tiles' operand loads bound the tiles'
time too: each tile loads its rows of A and its columns of B over the whole k, so the activations
(A) are read once per tile column and the weights (B) once per tile row, act_in_bytes x
ceil(n / cols) + weight_bytes x ceil(m / rows), all through the L2 at that bandwidth (CUTLASS,
media/docs/efficient_gemm.md @d572cc1, "Threadblock-level GEMM": each threadblock iterates over k
loading tiles of A and B from global memory; a larger threadblock tile means fewer fetches). Small
tiles reuse less, so they can be slower than their FLOPs, and a shape that needs them (few rows,
to fill the SMs) pays for it.

With `gemm.streaming` (a share of `memory.bandwidth`, from a measured matmul library's rate), a
matmul's bytes move at that share instead of `memory.efficiency`: a GEMM kernel streaming its
weights through tiles need not reach what a streaming read microbenchmark measures.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import Field, field_validator

from hwsim.components.analytic.names import known_formats
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth

FP32_BYTES = 4      # split-K partial sums are fp32


class Gemm(Strict):
    """Matmul kernels as tiles over SMs in waves (see the module docstring)."""

    source: str                                       # where sms, tiles and efficiency come from
    sms: Count                                        # streaming multiprocessors (one tile each at a time)
    tiles: list[tuple[Count, Count]]                  # thread-block output tiles (rows x columns) to pick from
    efficiency: dict[str, float]                      # format -> best measured matmul rate / the format's peak
    split_k: bool = True                              # split the k loop when tiles < SMs
    l2_bandwidth: Optional[Bandwidth] = None          # bytes/s tiles load operands through the L2 at; None: no bound
    streaming: Optional[float] = Field(None, gt=0, le=1)   # share of memory.bandwidth matmuls stream at; None: memory.efficiency

    @field_validator("efficiency")
    @classmethod
    def _shares(cls, shares):
        for fmt, share in known_formats(shares).items():
            if not 0 < share <= 1:
                raise ValueError(f"{fmt}: a share of the peak in (0, 1], got {share}")
        return shares

    def seconds(self, op, fmt: str, peak: float, memory_s: float, bandwidth: float, reduce_s: float = 0.0) -> float:
        """Fastest tile (and split-K) for `op` computing in `fmt`: max(waves x one tile's time, the
        tiles' operand loads through the L2, memory time), plus `reduce_s` for the kernel that sums
        split-K's partials."""
        per_sm = peak * self.efficiency[fmt] / self.sms
        best = math.inf
        for rows, cols in self.tiles:
            tiles = math.ceil(op.m / rows) * math.ceil(op.n / cols) * op.count
            operands_s = self._operands_s(op, rows, cols)
            split = 1
            while True:
                waves = math.ceil(tiles * split / self.sms)
                compute_s = max(waves * 2 * rows * cols * math.ceil(op.k / split) / per_sm, operands_s)
                partials_s = (split > 1) * 2 * FP32_BYTES * op.m * op.n * op.count * split / bandwidth
                best = min(best, max(compute_s, memory_s + partials_s) + (split > 1) * reduce_s)
                split *= 2
                if not self.split_k or tiles * split > self.sms or split > op.k:
                    break
        return best

    def _operands_s(self, op, rows: int, cols: int) -> float:
        """Time the L2 takes to serve every tile its rows of A and columns of B (k deep; split-K
        splits the same loads): the activations once per tile column, the weights once per tile row,
        each in its own format. 0 without `l2_bandwidth`."""
        if not self.l2_bandwidth:
            return 0.0
        loaded = op.act_in_bytes * math.ceil(op.n / cols) + op.weight_bytes * math.ceil(op.m / rows)
        return loaded / self.l2_bandwidth
