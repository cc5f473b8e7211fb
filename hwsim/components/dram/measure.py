"""Measurement experiments on one DRAM channel (Ramulator 2.1's latency-throughput pattern),
run by simulation: `hwsim validate` and the tests compare them with the closed forms."""
from __future__ import annotations

import numpy as np

from hwsim.components.dram.controller import simulate_channel, simulate_stream


def row_conflict_latency_ns(spec) -> float:
    """Latency to the first data beat of a read to a bank open on another row (PRE + ACT + RD),
    issued long after everything else settled."""
    late = 10 * spec["nRC"]
    result = simulate_channel(spec, [0, late], [0, 0], [0, 0], [0, 0], [0, 0], [0, 1], refresh="none")
    if result.kind.tolist() != [1, 2]:
        raise AssertionError(f"expected a row miss then a row conflict, got kinds {result.kind.tolist()}")
    return (result.done_cycle[1] - spec["nBL"] - late) * spec.tCK_ps / 1000


def streaming_GBps(spec, refresh: str) -> float:
    """Sequential reads over one JEDEC channel (both HBM pseudo-channels), spanning ~25 refresh
    intervals; `refresh` is 'none', 'all_bank' or 'per_bank'."""
    n = 25 * spec["nREFI"] // spec["nBL"] * spec.org.pseudo_channels
    result = simulate_stream(spec, np.arange(n) * spec.org.burst_bytes, mapping="RoCoBaBgRaCh", refresh=refresh)
    if (result.stats.refreshes > 0) != (refresh != "none"):
        raise AssertionError(f"refresh={refresh} but {result.stats.refreshes} refreshes issued")
    return result.stats.bandwidth_GBps
