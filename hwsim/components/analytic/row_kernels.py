"""Vector operators on an analytic GPU (`analytic_device`'s `rows:`) as their thread-block kernels.

One thread block per row, as vLLM / Sarathi-Serve's rms_norm, silu_and_mul and rotary_embedding
kernels run: a block of min(row work, `block`) threads walks its
row in loop iterations, each a dependent DRAM round trip of `latency`; as many blocks as fit in
an SM's threads run at once, the rest in waves. Each iteration also issues the kernel's
`instructions` (per pass, from its compiled loop) for every warp resident on the busiest SM,
`schedulers` warp instructions per `clock` cycle: a row's warps wait on the same loads, so their
instructions follow the round trip rather than hide under it. The last `cached_passes` passes
(rms_norm's scaling loop, re-reading what its first loop loaded) wait on an L2 hit (`l2_latency`)
instead of DRAM. A `two_loops` kernel (rope) sizes its block by the row's first op.n elements (the
query heads) and walks them, then the rest (the key heads), each loop in its own iterations. Few
rows leave the GPU waiting on that chain, not on bandwidth: the operator takes max(waves x one
row's iterations, bytes / bandwidth).

With `rows.inflight` (a measured curve: bytes of loads in flight per SM -> sustained bandwidth),
rows in more than one wave are bound by memory-level parallelism instead (Little's law). The
curve is measured with threads that load once and exit, so each of its loads also pays a block's
launch and retirement (its lowest point is 650 ns per load, against a 405 ns pointer chase); rows
that fit in one wave never retire a block before the end, so their loop's round trips alone bind
them (a grid-stride kernel keeps the curve: index_select's table rows). In waves, the resident threads
each keep `loads` element loads in flight, and the bytes move at the curve's bandwidth for them;
a row that is not a whole number of blocks wide leaves threads idle in its last iteration, so a
block keeps its row's elements / iterations threads busy on average, not all of them.

A `chunk` kernel (PyTorch's vectorized elementwise kernels: the residual add) cuts the flat tensor
into blocks of `chunk` elements instead of one block per row; those blocks then run as rows do,
each thread one iteration: one round trip in one wave, the curve in waves.
A `grid_stride` kernel (PyTorch's index_select) runs min(elements / block, sms x
`blocks_per_sm`) blocks over all elements rather than one block per row; up to `serial_rows`
rows (index_select's small-index kernel) such a grid walks one row after another. Extra round
trips (a position, an index) are loads before the loop, at `latency` too.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from pydantic import field_validator, model_validator

from hwsim.components.analytic.names import known_kinds
from hwsim.config.counts import Count, CountOrZero
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, Duration, Frequency
from hwsim.workload import precision

WARP = 32           # threads per warp


class RowKernel(Strict):
    """One operator kind's kernel: a thread block per row; each loop iteration one round trip, then
    the instructions of its resident warps."""

    block: Count                           # threads per block at most (the kernel's min(work, block))
    passes: Count = 1                      # loops over the row (rms_norm: sum of squares, then scale)
    cached_passes: CountOrZero = 0         # the last passes, whose loads hit the L2 (rms_norm's scaling loop)
    instructions: list[CountOrZero] = []   # per pass, instructions one thread issues per iteration ([]: none)
    elements_per_thread: Count = 1         # row elements one thread handles per iteration (rope: a pair)
    extra_round_trips: CountOrZero = 0     # dependent loads before the loops (rope: the position)
    loads: Count = 1                       # element loads one thread keeps in flight (silu_and_mul: x and y)
    blocks_per_sm: Optional[Count] = None  # the kernel's own cap on blocks per SM (its grid size)
    grid_stride: bool = False              # blocks stride over all elements, not one block per row
    chunk: Optional[Count] = None          # elements per block, cut from the flat tensor instead of by rows
    serial_rows: CountOrZero = 0           # up to this many rows, one strided grid walks them in turn
    two_loops: bool = False                # a row's first op.n elements, then the rest (rope: query, then key heads)

    @model_validator(mode="after")
    def _per_pass(self):
        if self.cached_passes >= self.passes:
            raise ValueError(f"cached_passes ({self.cached_passes}) must leave the first of {self.passes} "
                             "pass(es) to DRAM")
        if self.instructions and len(self.instructions) != self.passes:
            raise ValueError(f"instructions: one count per pass, {self.passes}, got {len(self.instructions)}")
        return self

    def loops(self, op, work: int) -> list[int]:
        """A row's `work` (threads' worth) as the kernel loops over it, in turn, each with the same block:
        with `two_loops`, the first op.n elements and the rest (Sarathi-Serve's rotary_embedding_kernel
        sizes its block by the query heads, walks them, then the key heads); else one loop. An op
        without op.n, or whose op.n covers the row, is one loop."""
        first = math.ceil(op.n / self.elements_per_thread) if self.two_loops else 0
        return [first, work - first] if 0 < first < work else [work]


class Rows(Strict):
    """Vector operators as one-block-per-row kernels (see the module docstring)."""

    source: str                            # where the latency, SM figures and kernel shapes come from
    sms: Count                             # streaming multiprocessors
    threads_per_sm: Count                  # resident threads per SM at most
    latency: Duration                      # one dependent DRAM round trip (s)
    kernels: dict[str, RowKernel]          # operator kind -> its kernel
    inflight: list[tuple[ByteSize, Bandwidth]] = []   # load bytes in flight per SM -> bandwidth (measured)
    l2_latency: Optional[Duration] = None  # one dependent L2 hit (s): the round trip of a cached pass
    clock: Optional[Frequency] = None      # SM clock (Hz) the kernels' instructions issue at
    schedulers: Count = 4                  # warp instructions an SM issues per cycle (one per scheduler)

    _kinds = field_validator("kernels")(classmethod(lambda cls, kernels: known_kinds(kernels)))

    @field_validator("inflight")
    @classmethod
    def _rising(cls, points):
        if any(b[0] <= a[0] for a, b in zip(points, points[1:])):
            raise ValueError("bytes in flight must rise from point to point")
        return points

    @model_validator(mode="after")
    def _needs(self):
        for kind, kernel in self.kernels.items():
            if kernel.cached_passes and self.l2_latency is None:
                raise ValueError(f"kernels.{kind}.cached_passes needs l2_latency")
            if kernel.instructions and self.clock is None:
                raise ValueError(f"kernels.{kind}.instructions needs clock")
        return self

    def iteration_s(self, kernel: RowKernel, warps: int) -> float:
        """One loop iteration of every pass: each pass's round trip (an L2 hit for a cached pass, else
        DRAM), then the instructions of the `warps` resident on the SM, `schedulers` per cycle: the
        warps of a row's blocks wait on the same loads, so their instructions follow them."""
        issue_s = warps / (self.schedulers * self.clock) if self.clock else 0.0
        counts = kernel.instructions or [0] * kernel.passes
        return sum((self.l2_latency if p >= kernel.passes - kernel.cached_passes else self.latency) + issue_s * n
                   for p, n in enumerate(counts))

    def bandwidth(self, inflight_per_sm: float, streaming: float) -> float:
        """Bytes/s the curve gives for `inflight_per_sm` bytes of loads in flight per SM: linear
        between its points, flat below the first (there the latency chain is the bound); past the last,
        loads in flight no longer bind and bytes move at `streaming`, the memory's streaming rate (so a
        machine that extends this one with faster memory streams faster)."""
        if inflight_per_sm > self.inflight[-1][0]:
            return streaming
        return float(np.interp(inflight_per_sm, [p[0] for p in self.inflight], [p[1] for p in self.inflight]))

    def seconds(self, op, streaming: float) -> float:
        """max(waves of resident blocks x the round trips of one block x latency, bytes at the
        bandwidth the resident threads' loads in flight sustain); rows in one wave of a per-row kernel
        pay only the round trips."""
        kernel = self.kernels[op.kind]
        elements = op.act_out_bytes * 8 / precision.BITS[op.compute_dtype]
        all_rows = math.ceil(elements / kernel.chunk) if kernel.chunk else op.m * op.count
        serial = all_rows <= kernel.serial_rows           # one grid walks the rows one after another
        strided = kernel.grid_stride or serial
        rows = 1 if strided else all_rows
        work = math.ceil(elements / (all_rows if serial else rows) / kernel.elements_per_thread)
        loops = kernel.loops(op, work)
        block = min(loops[0], kernel.block)                                  # threads per block
        per_sm = max(self.threads_per_sm // block, 1)
        per_sm = min(per_sm, kernel.blocks_per_sm or per_sm)
        blocks = min(math.ceil(work / kernel.block), self.sms * per_sm) if strided else 1
        threads = min(work, block * blocks)                                   # threads on one row
        steps = math.ceil(rows / (self.sms * per_sm)) * (all_rows if serial else 1)
        iterations = sum(math.ceil(loop / threads) for loop in loops)
        blocks_per_sm = math.ceil((blocks if strided else min(rows, self.sms * per_sm)) / self.sms)
        loop_s = iterations * self.iteration_s(kernel, blocks_per_sm * math.ceil(block / WARP))
        chain_s = steps * (kernel.extra_round_trips * self.latency + loop_s)
        if not self.inflight or (steps == 1 and not strided):    # one wave: no block retires and relaunches
            return chain_s
        resident = min(rows, self.sms * per_sm) * work / iterations     # a short last iteration idles threads
        inflight = resident * kernel.loads * precision.BITS[op.compute_dtype] / 8 / self.sms
        return max(chain_s, op.total_bytes / self.bandwidth(inflight, streaming))
