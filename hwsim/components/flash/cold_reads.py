"""PowerInfer-2's reads of cold FFN neurons from UFS flash (Xue et al., arXiv 2406.06282 v3).

Two measured mechanisms of the paper, each a small closed form:

- `RangeCurve`: UFS random-read throughput depends on the span of addresses the reads fall in (section
  2.3.2, "Data Range Sensitivity": 4 KB random reads within a 128 MB range reach about 1 GB/s, 1,076 MB/s
  on a big core in Table 1, and drop below 850 MB/s across 512 MB). The reads of one FFN's cold neurons
  fall within that FFN's stored bundles, so their span is the FFN's neuron count times the bundle size.
- `TwoPhaseBundle`: a neuron's gate, up and down rows are stored together as one bundle (section 4.3),
  read in two fixed-size phases: the gate part first for every predicted neuron, the up/down part only
  when the gate's output is non-zero, which happens for the bundles' co-activation share (80%). The
  expected bytes read per loaded neuron are read x (1 + coactivation) instead of the whole bundle.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import confloat, model_validator

from hwsim.config.counts import COUNT_LIMIT, bounded
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize


class RangeCurve(Strict):
    """Measured throughput of random `chunk`-byte reads by the address span they are drawn from."""

    source: str
    chunk: ByteSize                   # the read size the curve was measured at
    ranges: list[ByteSize]            # ascending address spans
    throughput: list[Bandwidth]       # B/s at each span

    @model_validator(mode="after")
    def _paired(self):
        if len(self.ranges) != len(self.throughput) or list(self.ranges) != sorted(set(self.ranges)):
            raise ValueError("range_curve: ranges (ascending, distinct) and throughput need one entry each")
        return self

    def bandwidth(self, span: float) -> float:
        """B/s of random reads within `span` bytes: the curve interpolated in log(span), clamped at its
        ends (a span below the smallest measured one is read at that one's rate, not faster)."""
        return float(np.interp(math.log2(span), np.log2(self.ranges), self.throughput))


class TwoPhaseBundle(Strict):
    """One neuron's rows of every FFN matrix stored together and read in two phases of `read` bytes."""

    rows: bounded(COUNT_LIMIT, 2)     # matrix rows per neuron in the bundle (gate, up, down: 3)
    read: ByteSize                    # bytes of one phase's read (half the stored bundle)
    coactivation: confloat(gt=0, le=1)   # share of gate reads followed by the up/down read

    @property
    def stored(self) -> int:
        """Bytes one neuron's bundle occupies in flash: the two phases' reads."""
        return 2 * self.read

    def read_bytes(self) -> float:
        """Expected bytes read per neuron loaded from flash: the gate phase always, the up/down phase
        for the co-activated share."""
        return self.read * (1 + self.coactivation)

    def fit(self, row_bytes: float) -> None:
        """Reject a model whose neuron (rows x `row_bytes`) does not fit the stored bundle."""
        if self.rows * row_bytes > self.stored:
            raise ValueError(f"two_phase: a neuron's {self.rows} rows of {row_bytes:.0f} B do not fit a "
                             f"{self.stored} B bundle (two reads of {self.read} B)")
