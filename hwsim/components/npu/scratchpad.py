"""Scratchpad blocking and the double-buffered DMA / compute pipeline of one operator.

The scratchpad (banked SRAM shared by the tiles) holds the blocks an operator works on. The
operator is cut into `steps` blocks; with double buffering the DMA engine loads block i+1 while
the tiles compute block i, so (all in seconds)

    time = latency + (load + compute) / steps + (steps - 1) * max(load, compute) / steps

the first load and the last compute are exposed; in between the slower side sets the pace and
the other one stalls. Without double buffering loads and compute alternate:
latency + load + compute. Either way time >= max(load, compute): no operator beats its floors.

GEMM blocking is output-stationary: bm x bn output blocks with fp32 accumulators stay on chip
while bk-deep strips of A and B stream in, so A is read ceil(n / bn) times, B ceil(m / bm) times
and C written once. Block extents are powers of two clamped to the operator's extents; the
chosen block minimises the pipelined time among blocks that fit (buffers x (A strip + B strip)
+ accumulators <= capacity) and move at least one DMA chunk per step (or the whole operand pair
when that is smaller). Steps are taken as equal (load / steps, compute / steps each).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.components.npu.mapper import GemmWork
from hwsim.components.npu.systolic import ceil_div

ACC_BYTES = 4   # fp32 / int32 accumulator per output element held on chip


def pipelined_s(load_s, compute_s, steps, latency_s: float, double_buffered: bool):
    """Time of `steps` equal blocks: DMA `load_s` and compute `compute_s` in total (numpy-friendly)."""
    if not double_buffered:
        return latency_s + load_s + compute_s
    return latency_s + (load_s + compute_s) / steps + (steps - 1) * np.maximum(load_s, compute_s) / steps


def stream_steps(total_bytes: float, capacity: int, double_buffered: bool, chunk: int) -> int:
    """Blocks of a streaming (vector, copy) operator: one DMA chunk each, never more than a buffer."""
    block = min(chunk, capacity // (2 if double_buffered else 1))
    return max(1, int(np.ceil(total_bytes / block)))


@dataclass(frozen=True)
class Blocking:
    bm: int
    bn: int
    bk: int
    steps: int
    dram_bytes: float     # DMA traffic including the re-reads the blocking causes
    time_s: float         # pipelined time of the operator with this blocking


def _extents(x: int) -> np.ndarray:
    return np.unique(np.minimum(2 ** np.arange(int(np.ceil(np.log2(max(x, 1)))) + 1), x))


def block_gemm(work: GemmWork, capacity: int, double_buffered: bool, chunk: int,
               bandwidth: float, latency_s: float, compute_s: float) -> Blocking:
    """The output-stationary blocking with the shortest pipelined time (see module docstring)."""
    m, n, k, count = work.m, work.n, work.k, work.count
    a_e, b_e = work.a_bytes / (count * m * k), work.b_bytes / (count * k * n)
    bm, bn, bk = (g.ravel() for g in np.meshgrid(_extents(m), _extents(n), _extents(k), indexing="ij"))
    strips = bm * bk * a_e + bk * bn * b_e
    buffers = 2 if double_buffered else 1
    fits = buffers * strips + bm * bn * ACC_BYTES <= capacity
    big_enough = strips >= min(chunk, m * k * a_e + k * n * b_e)
    ok = fits & big_enough
    if not ok.any():
        ok = fits
    if not ok.any():
        raise ValueError(f"scratchpad of {capacity} B cannot hold one block of a {m}x{n}x{k} GEMM")
    bm, bn, bk = bm[ok], bn[ok], bk[ok]
    traffic = work.a_bytes * ceil_div(n, bn) + work.b_bytes * ceil_div(m, bm) + work.c_bytes
    steps = count * ceil_div(m, bm) * ceil_div(n, bn) * ceil_div(k, bk)
    time = pipelined_s(traffic / bandwidth, compute_s, steps, latency_s, double_buffered)
    i = int(np.lexsort((steps, traffic, time))[0])
    return Blocking(int(bm[i]), int(bn[i]), int(bk[i]), int(steps[i]), float(traffic[i]), float(time[i]))
