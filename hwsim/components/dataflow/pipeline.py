"""A fused kernel as a spatial streaming pipeline on the SN40L's tiles of PCUs and PMUs: whether a chain
of operators fits on chip as one, and how long it takes.

The SN40L (arXiv 2405.07518; Prabhakar, Hot Chips 2024, slides 4-8) is a mesh of 1,040 pattern compute
units (PCUs: a systolic array or SIMD pipeline) and 1,040 pattern memory units (PMUs: programmer-managed
scratchpads, together the chip's 520 MB of SRAM); the AGCUs are the portals to HBM and DDR, and the PCUs
read and write only the PMUs (slide 8). A fused kernel places every operator of the chain on its own
PCUs as one pipeline stage, all stages running at once; tensors between stages exist only as tiles in
PMU buffers, written by one stage while the next reads the previous tile (double buffering). So:

- working set: each stage holds its output double-buffered, at least one row of it (one token of one
  of its products: a softmax normalises over a head's whole row of scores, so a row is the smallest
  tile), ``max(1, ceil(2 x row bytes / PMU bytes))`` PMUs, and one more PMU for each off-chip stream
  it reads (weights or KV cache land in a PMU before a PCU reads them, slide 8). The chain fits when
  those PMUs are no more than the chip's and it has no more stages than PCUs (one PCU a stage at
  least). Whole tensors never need to fit: a 4k prefill's scores and their softmax are 1 GiB a layer,
  a row of them at most 8 KiB.
- PCUs: the compiler balances the pipeline [I: the sources show the mapping, not its rule], giving
  each stage one PCU and sharing the rest in proportion to the stages' FLOPs (rounded down); a stage
  computes at its PCUs' share of the peak.
- time: the stages overlap, so the stream takes as long as its slowest stage (its FLOPs on its PCUs,
  or its own off-chip bytes at the full HBM bandwidth) or as the kernel's HBM bytes, shared by all
  stages, take at the bandwidth, whichever is longer; plus the pipeline fill: the first tile passes
  every stage before the last one runs, ``sum(stage time / stage tiles)``. A stage reads its inputs
  (activations, weights, KV) in tiles of half a PMU (one buffer of a double-buffered PMU [I]), or of
  one output row if a row is larger.

PMU bytes are the SRAM over the PMUs (520 MB / 1,040 = 0.5 MB [I]: the slides give the total and the
count, not one unit's size). Off-chip traffic is what the fused operator carries (weights, KV cache,
the kernel's input and output); a stage's own HBM time counts its weights and KV cache. Not modelled:
per-kernel launch and synchronisation costs (none published for the RDU), the mesh network's
bandwidth between stages, and streams from DDR (a step's bytes live in HBM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.workload.ops import Op


@dataclass(frozen=True)
class Fabric:
    """One chip's streaming resources: compute units, memory units, and the rates they share."""

    pcus: int            # pattern compute units
    pmus: int            # pattern memory units
    sram: float          # bytes of all PMUs together
    peak: float          # FLOP/s of all PCUs together
    hbm: float           # B/s of the off-chip memory the kernel streams from

    @property
    def pmu_bytes(self) -> float:
        return self.sram / self.pmus


def rows(stages: list[Op]) -> int:
    """Rows (tokens) the chain streams: its largest operator row count (1 if none says)."""
    return max([op.m for op in stages] + [1])


def row_bytes(op: Op, nrows: int) -> float:
    """Bytes of one row of a stage's output: one token of one of its ``count`` products (a head's
    scores for one query), or one of the chain's ``nrows`` rows for an operator that gives no shape."""
    return op.act_out_bytes / (op.m * op.count if op.m else nrows)


def offchip(op: Op) -> float:
    """A stage's own off-chip bytes: its weights and KV cache read and written."""
    return op.weight_bytes + op.kv_read_bytes + op.kv_write_bytes


def stage_pmus(op: Op, nrows: int, fabric: Fabric) -> int:
    """PMUs one stage holds: its output row double-buffered (one PMU at least), plus one per
    off-chip stream (weights, KV cache) it reads."""
    buffer = max(1, math.ceil(2 * row_bytes(op, nrows) / fabric.pmu_bytes))
    return buffer + (op.weight_bytes > 0) + (op.kv_read_bytes > 0)


def fits(stages: list[Op], fabric: Fabric) -> bool:
    """Whether the chain streams as one kernel: its stages' PMUs and PCUs are on the chip."""
    nrows = rows(stages)
    return (len(stages) <= fabric.pcus
            and sum(stage_pmus(op, nrows, fabric) for op in stages) <= fabric.pmus)


def pcu_shares(stages: list[Op], fabric: Fabric) -> list[int]:
    """PCUs of each stage: one each, the rest in proportion to the stages' FLOPs, rounded down."""
    spare, total = fabric.pcus - len(stages), sum(op.flops for op in stages)
    return [1 + (math.floor(spare * op.flops / total) if total else 0) for op in stages]


def stage_seconds(stages: list[Op], fabric: Fabric) -> list[float]:
    """Each stage's time over the whole stream: its FLOPs on its PCUs, or its off-chip bytes at the
    full bandwidth, whichever is longer."""
    per_pcu = fabric.peak / fabric.pcus
    return [max(op.flops / (share * per_pcu), offchip(op) / fabric.hbm)
            for op, share in zip(stages, pcu_shares(stages, fabric))]


def tiles(op: Op, nrows: int, fabric: Fabric) -> int:
    """Tiles a stage's inputs stream in: half a PMU each, or one output row if a row is larger."""
    tile = max(fabric.pmu_bytes / 2, row_bytes(op, nrows))
    return max(1, math.ceil((op.act_in_bytes + op.weight_bytes + op.kv_read_bytes) / tile))


def fill_seconds(stages: list[Op], fabric: Fabric) -> float:
    """The pipeline fill: one tile's time in every stage, one after the other."""
    nrows = rows(stages)
    return sum(seconds / tiles(op, nrows, fabric) for op, seconds in zip(stages, stage_seconds(stages, fabric)))


def kernel_seconds(stages: list[Op], hbm_bytes: float, fabric: Fabric) -> tuple[float, str]:
    """(seconds, bound) of the fused kernel moving ``hbm_bytes`` off chip: the slowest stage or the
    shared HBM stream, plus the fill; bound is 'compute' when a stage's PCUs set the pace."""
    slowest = max(stage_seconds(stages, fabric))
    memory = hbm_bytes / fabric.hbm
    return max(slowest, memory) + fill_seconds(stages, fabric), "compute" if slowest > memory else "memory"
