"""Cycle counts of a LUT unit running one matmul tile (m x k activations, n x k weight codes).

The unit (LUT Tensor Core / T-MAC / TeLLMe shape, one lookup datapath):
  - precompute: tables of `g` activations each are built from an activation stream of
    `acts_per_cycle` values per cycle, `tables` groups per step: P = ceil(g*tables / acts_per_cycle)
    cycles per step, S = ceil(ceil(k/g) / tables) steps per row block;
  - lookup: each cycle, `lanes` output columns x `rows` activation rows each look up `tables`
    table entries with their own g weight bits and accumulate; a weight of `bits` bits takes
    `bits` cycles (bit-serial, shift-accumulate) so time is linear in the weight width;
  - drain: `drain` cycles per column block to finish and write the accumulators;
  - `fixed` cycles per row block (start / pipeline fill).
Row blocks (ceil(m/rows)) run one after another, reusing the weights held in the unit.
Without overlap, a row block takes S*P + C*(bits*S + drain) + fixed cycles, C = ceil(n/lanes).
With `overlap` (double-buffered tables, TeLLMe's dataflow) the next step's precompute hides
under the current step's lookups: P + (S-1)*max(P, C*bits) + C*bits + C*drain + fixed.
All counts are closed forms over numpy arrays (vectorised over many tiles at once).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ceil_div(a, b):
    return -(-np.asarray(a, dtype=np.int64) // b)


@dataclass(frozen=True)
class LutUnit:
    """Shape of one LUT unit; see the module docstring for what each field counts."""

    g: int = 4                  # activations per table (T-MAC / LUT TC K = 4; TeLLMe 3)
    lanes: int = 1              # output columns per cycle (MUX units a table entry is broadcast to)
    tables: int = 1             # activation groups looked up per cycle per lane (K-parallelism)
    rows: int = 1               # activation rows sharing one weight index per cycle (LUT TC M)
    acts_per_cycle: int = 4     # activation values entering the table builder per cycle
    drain: int = 1              # cycles per column block to finish accumulators
    fixed: int = 0              # cycles per row block (start, pipeline fill)
    overlap: bool = False       # double-buffered tables: precompute hides under lookups
    entry_bits: int = 8         # bits per stored table entry
    half: bool = True           # store 2^(g-1) entries (odd-symmetric table) instead of 2^g

    def steps(self, k):
        """Lookup steps S over K."""
        return ceil_div(ceil_div(k, self.g), self.tables)

    @property
    def precompute_cycles_per_step(self) -> int:
        return int(ceil_div(self.g * self.tables, self.acts_per_cycle))

    def precompute_cycles(self, m, k):
        """Cycles spent building tables for a whole tile (exposed or not)."""
        return ceil_div(m, self.rows) * self.steps(k) * self.precompute_cycles_per_step

    def lookup_cycles(self, m, n, k, bits):
        """Cycles spent in lookups (bit-serial: linear in `bits`)."""
        return ceil_div(m, self.rows) * ceil_div(n, self.lanes) * np.asarray(bits) * self.steps(k)

    def cycles(self, m, n, k, bits):
        """Cycles from start to done for an (m, n, k) tile of `bits`-bit weights."""
        s, p = self.steps(k), self.precompute_cycles_per_step
        cols = ceil_div(n, self.lanes)
        look = cols * np.asarray(bits, dtype=np.int64)
        if self.overlap:
            per_row_block = p + (s - 1) * np.maximum(p, look) + look
        else:
            per_row_block = s * p + look * s
        return ceil_div(m, self.rows) * (per_row_block + cols * self.drain + self.fixed)

    @property
    def entries_per_table(self) -> int:
        return 1 << (self.g - 1 if self.half else self.g)

    def table_bits(self, k) -> np.ndarray:
        """Table storage a row block needs if every table of K stays live: rows x K/g x entries x bits."""
        return self.rows * ceil_div(k, self.g) * self.entries_per_table * self.entry_bits

    def macs_per_cycle(self, bits: int = 1) -> float:
        """Peak multiply-accumulates per cycle for `bits`-bit weights (lookups only)."""
        return self.rows * self.lanes * self.tables * self.g / bits
