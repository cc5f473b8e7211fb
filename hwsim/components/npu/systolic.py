"""Closed-form cycle model of an R x C systolic array running a GEMM C[M,N] = A[M,K] @ B[K,N].

The schedule is SCALE-Sim v3's (CALC mode, no memory stalls), derived from its compute model
and checked against real SCALE-Sim 3.0.0 runs for all three dataflows:

  dataflow  rows of the array (Sr)  columns (Sc)  streamed in time (T)  stationary in the PEs
  ws        K                       N             M                     B (weights)
  os        M                       N             K                     C (partial sums)
  is        K                       M             N                     A (inputs)

The GEMM is cut into folds of R x C over (Sr, Sc); every fold occupies the full array (a partial
fold is zero-padded, it does not run faster) and folds run back to back with no overlap:

  fold_cycles = T + R + C - 2          stream T vectors, skewed over R rows, through C columns
              + R   (ws, is only)     shift the stationary R x C operand in, one row a cycle
  compute_cycles = ceil(Sr/R) * ceil(Sc/C) * fold_cycles

SCALE-Sim reports the index of the last cycle (0-based), i.e. `compute_cycles - 1`; see
`scalesim_cycles`. All functions accept numpy integer arrays as well as ints (vectorized sweeps).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class Dataflow(str, Enum):
    """Which operand stays in the PEs while the others stream through."""

    WS = "ws"   # weight-stationary
    OS = "os"   # output-stationary
    IS = "is"   # input-stationary


def ceil_div(a, b):
    """Integer ceil(a / b) for ints or numpy integer arrays."""
    return -(-a // b)


def spatio_temporal(m, n, k, dataflow: Dataflow | str):
    """(Sr, Sc, T): the GEMM extents mapped onto array rows, array columns and time."""
    return {Dataflow.WS: (k, n, m), Dataflow.OS: (m, n, k), Dataflow.IS: (k, m, n)}[Dataflow(dataflow)]


@dataclass(frozen=True)
class SystolicArray:
    """An R x C array of PEs; each PE reduces `macs_per_pe_cycle` products per cycle.

    `macs_per_pe_cycle` models precision: a PE built for one bf16 MAC often does 2 (or 4) int8
    MACs per cycle on consecutive reduction (k) elements. It shortens the reduction extent K to
    ceil(K / macs_per_pe_cycle); every other dimension is unchanged. SCALE-Sim's model is 1.
    """

    rows: int
    cols: int
    dataflow: Dataflow = Dataflow.WS
    macs_per_pe_cycle: int = 1

    def __post_init__(self):
        if self.rows < 1 or self.cols < 1 or self.macs_per_pe_cycle < 1:
            raise ValueError(f"rows, cols and macs_per_pe_cycle must be >= 1, got {self}")
        object.__setattr__(self, "dataflow", Dataflow(self.dataflow))

    def mapped(self, m, n, k):
        """(Sr, Sc, T) after packing the reduction dimension by `macs_per_pe_cycle`."""
        return spatio_temporal(m, n, ceil_div(k, self.macs_per_pe_cycle), self.dataflow)

    def folds(self, m, n, k):
        """(row folds, column folds): how many R x C tiles cover Sr x Sc."""
        sr, sc, _ = self.mapped(m, n, k)
        return ceil_div(sr, self.rows), ceil_div(sc, self.cols)

    def fold_cycles(self, t):
        """Cycles one fold takes when it streams `t` vectors (weight load + fill + stream + drain)."""
        load = self.rows if self.dataflow in (Dataflow.WS, Dataflow.IS) else 0
        return load + t + self.rows + self.cols - 2

    def compute_cycles(self, m, n, k):
        """Cycles from the first weight/operand entering the array to the last output produced."""
        row_folds, col_folds = self.folds(m, n, k)
        _, _, t = self.mapped(m, n, k)
        return row_folds * col_folds * self.fold_cycles(t)

    def scalesim_cycles(self, m, n, k):
        """The number SCALE-Sim v3 prints as compute cycles ('Total Cycles', last cycle index)."""
        return self.compute_cycles(m, n, k) - 1

    def utilization(self, m, n, k):
        """Fraction of peak MAC throughput the GEMM achieves (mapping + fill/drain losses)."""
        peak = self.rows * self.cols * self.macs_per_pe_cycle
        return np.asarray(m) * n * k / (peak * np.asarray(self.compute_cycles(m, n, k)))
