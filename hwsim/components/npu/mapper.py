"""Tiling mapper: how one GEMM-like operator spreads over an NPU's tiles, and in which dataflow.

A `Plan` runs `count` independent (m x k) @ (k x n) products on `tiles` identical R x C arrays:
the products are dealt to `split_count` groups of tiles, and each product's output is cut into a
`split_m` x `split_n` grid, one cell per tile. A tile runs ceil(count / split_count) products of
ceil(m / split_m) x ceil(n / split_n) x k back to back (the reduction k is never split, so no
cross-tile sum is needed); the busiest tile sets the compute time.

Tiles read their operand slices from the shared scratchpad over the on-chip network: A once per
column of the grid, B once per row, C written once. A plan's cost is the larger of its busiest
tile's cycles and those on-chip bytes over the network's bytes per cycle.

Two policies: `heuristic` (fast default) fixes the dataflow to the one that streams the longest
extent through the array and deals products first; `search` tries every dataflow and every
(split_count, split_m) pair with split_n filling the remaining tiles, vectorized in numpy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwsim.components.npu.systolic import Dataflow, SystolicArray, ceil_div

POLICIES = ("heuristic", "search")


@dataclass(frozen=True)
class Plan:
    dataflow: Dataflow
    split_count: int
    split_m: int
    split_n: int
    tile_cycles: int      # compute cycles of the busiest tile
    noc_bytes: float      # bytes tiles read from / write to the scratchpad

    @property
    def tiles_used(self) -> int:
        return self.split_count * self.split_m * self.split_n


@dataclass(frozen=True)
class GemmWork:
    """One GEMM-like operator as the mapper sees it: shape plus bytes of A, B and C (all products)."""

    m: int
    n: int
    k: int
    count: int
    a_bytes: float
    b_bytes: float
    c_bytes: float


def streaming_dataflow(m: int, n: int, k: int) -> Dataflow:
    """The dataflow whose temporal extent (ws: m, os: k, is: n) is longest: fill and drain amortize best."""
    return max((Dataflow.WS, Dataflow.OS, Dataflow.IS), key=lambda d: {Dataflow.WS: m, Dataflow.OS: k,
                                                                        Dataflow.IS: n}[d])


def _candidates(work: GemmWork, tiles: int, split_counts: np.ndarray):
    """All (split_count, split_m, split_n) with split_n = tiles // (split_count * split_m), capped by n."""
    pc, pm = np.meshgrid(split_counts, np.arange(1, min(work.m, tiles) + 1), indexing="ij")
    pc, pm = pc.ravel(), pm.ravel()
    keep = pc * pm <= tiles
    pc, pm = pc[keep], pm[keep]
    pn = np.minimum(tiles // (pc * pm), work.n)
    return pc, pm, pn


def _evaluate(array: SystolicArray, work: GemmWork, pc, pm, pn, noc_bytes_per_cycle: float):
    cycles = ceil_div(work.count, pc) * array.compute_cycles(ceil_div(work.m, pm), ceil_div(work.n, pn), work.k)
    noc = work.a_bytes * pn + work.b_bytes * pm + work.c_bytes
    return cycles, noc, np.maximum(cycles, noc / noc_bytes_per_cycle)


@lru_cache(maxsize=4096)
def plan_gemm(work: GemmWork, tiles: int, rows: int, cols: int, macs_per_pe_cycle: int,
              noc_bytes_per_cycle: float, dataflow: str = "auto", policy: str = "heuristic") -> Plan:
    """The plan with the lowest cost under `policy`; `dataflow` 'auto' lets the mapper choose."""
    if policy not in POLICIES:
        raise ValueError(f"mapper policy must be one of {POLICIES}, got {policy!r}")
    if dataflow != "auto":
        dataflows = [Dataflow(dataflow)]
    elif policy == "heuristic":
        dataflows = [streaming_dataflow(work.m, work.n, work.k)]
    else:
        dataflows = list(Dataflow)
    if policy == "heuristic":
        split_counts = np.array([min(work.count, tiles)])
    else:
        split_counts = np.arange(1, min(work.count, tiles) + 1)
    best = None
    for df in dataflows:
        array = SystolicArray(rows, cols, df, macs_per_pe_cycle)
        pc, pm, pn = _candidates(work, tiles, split_counts)
        cycles, noc, cost = _evaluate(array, work, pc, pm, pn, noc_bytes_per_cycle)
        i = int(np.argmin(cost))   # first minimum: fewest split_count, then fewest split_m
        if best is None or cost[i] < best[0]:
            best = (cost[i], Plan(df, int(pc[i]), int(pm[i]), int(pn[i]), int(cycles[i]), float(noc[i])))
    return best[1]
