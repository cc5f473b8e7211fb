"""Synthetic traffic: Bernoulli packet injection per terminal and cycle, as BookSim2 generates it.

``uniform``: each packet picks a destination uniformly among all terminals (itself included, as
BookSim2's ``uniform`` does). ``transpose``: terminal (x, y) sends to (y, x) on a square grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Packets:
    """Packets sorted by creation cycle (then source); ``flits`` per packet."""

    src: np.ndarray
    dst: np.ndarray
    created: np.ndarray
    flits: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


def destinations(pattern: str, src: np.ndarray, terminals: int, rng: np.random.Generator) -> np.ndarray:
    if pattern == "uniform":
        return rng.integers(0, terminals, size=len(src))
    if pattern == "transpose":
        k = int(round(np.sqrt(terminals)))
        if k * k != terminals:
            raise ValueError(f"transpose needs a square number of terminals, got {terminals}")
        return (src % k) * k + src // k
    raise ValueError(f"unknown traffic pattern {pattern!r}; known: uniform, transpose")


def bernoulli_packets(terminals: int, cycles: int, rate: float, flits: int, pattern: str,
                      seed: int = 0) -> Packets:
    """Each terminal creates a packet in each of ``cycles`` cycles with probability ``rate``
    (packets per cycle per terminal)."""
    if not 0 <= rate <= 1:
        raise ValueError(f"injection rate must be in [0, 1] packets/cycle, got {rate}")
    rng = np.random.default_rng(seed)
    created, src = np.nonzero(rng.random((cycles, terminals)) < rate)
    dst = destinations(pattern, src, terminals, rng)
    return Packets(src.astype(np.int64), dst.astype(np.int64), created.astype(np.int64),
                   np.full(len(src), flits, dtype=np.int64))
