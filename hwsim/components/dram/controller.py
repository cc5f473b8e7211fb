"""Memory controller front end: compiles a spec's constraint table and runs the numba channel kernel.

``simulate_channel`` takes already-split addresses of one channel; ``simulate_stream`` takes byte
addresses, splits them with an address-mapping scheme and runs every channel (an HBM pseudo-channel
is a channel with its own command and data bus). Arrival and completion times are in DRAM cycles;
multiply by ``spec.tCK_ps`` for picoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import timing_kernel as k
from .address_mapping import decode
from .spec import DramSpec
from .standards import BANK, CHANNEL, COMMANDS, LEVELS, RANK, BANKGROUP

assert COMMANDS[:7] == ("ACT", "PRE", "PREA", "RD", "WR", "REF", "REFpb")
assert (CHANNEL, RANK, BANKGROUP, BANK) == (k.CHANNEL, k.RANK, k.BANKGROUP, k.BANK)

ROW_POLICIES = {"open": k.OPEN_ROW, "closed": k.CLOSED_ROW}
REFRESH_MODES = {"none": k.NO_REFRESH, "all_bank": k.ALL_BANK, "per_bank": k.PER_BANK}


@lru_cache(maxsize=64)
def constraint_table(spec: DramSpec) -> tuple[tuple[np.ndarray, ...], int]:
    """Flatten the standard's constraints into kernel arrays grouped by following command.
    Returns ((start, level, prev, latency, window, sibling), max window)."""
    rows = sorted(
        (COMMANDS.index(f), LEVELS.index(c.level), COMMANDS.index(p), spec.latency(c.latency), c.window, int(c.sibling))
        for c in spec.standard.constraints for p in c.preceding for f in c.following
    )
    cols = np.array(rows, dtype=np.int64).reshape(-1, 6)
    start = np.searchsorted(cols[:, 0], np.arange(len(COMMANDS) + 1)).astype(np.int64)
    return (start, *(np.ascontiguousarray(cols[:, i]) for i in range(1, 6))), int(cols[:, 4].max())


@dataclass(frozen=True)
class CommandLog:
    """Every issued command of one channel: cycle, command id (see ``COMMANDS``) and target.
    ``rank`` is -1 for a channel-wide refresh, ``bankgroup``/``bank`` are -1 for PREA/REF and
    ``row`` is -1 for commands not issued on behalf of a request."""

    cycle: np.ndarray
    command: np.ndarray
    rank: np.ndarray
    bankgroup: np.ndarray
    bank: np.ndarray
    row: np.ndarray

    def names(self) -> list[str]:
        return [COMMANDS[c] for c in self.command]


@dataclass(frozen=True)
class ChannelResult:
    """Outcome of one channel. ``done_cycle[i]``: cycle the last data beat of request i is on the bus
    (RD: issue + nCL + nBL, WR: issue + nCWL + nBL)."""

    done_cycle: np.ndarray
    kind: np.ndarray            # 0 row hit, 1 row miss (bank closed), 2 row conflict
    log: CommandLog
    command_counts: dict[str, int]


@dataclass(frozen=True)
class StreamStats:
    """Totals over all channels of one run. Bandwidth counts one burst per request over the span
    from the first arrival to the last data beat."""

    requests: int
    row_hits: int
    row_misses: int
    row_conflicts: int
    command_counts: dict[str, int]
    refreshes: int
    span_cycles: int
    span_ps: int
    bytes: int

    @property
    def bandwidth_GBps(self) -> float:
        return self.bytes / self.span_ps * 1000 if self.span_ps else 0.0

    @property
    def row_hit_rate(self) -> float:
        return self.row_hits / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class StreamResult:
    done_cycle: np.ndarray      # per request, in the input order
    channel: np.ndarray         # per request
    stats: StreamStats
    channels: dict[int, ChannelResult]

    def done_ps(self, spec: DramSpec) -> np.ndarray:
        return self.done_cycle * spec.tCK_ps


def simulate_channel(spec: DramSpec, arrival, is_write, rank, bankgroup, bank, row, *,
                     queue_size: int = 32, row_policy: str = "open", refresh: str = "all_bank") -> ChannelResult:
    """Cycle-exact schedule of one channel's requests (arrays of equal length, sorted by arrival)."""
    if row_policy not in ROW_POLICIES:
        raise ValueError(f"row_policy {row_policy!r}: choose one of {list(ROW_POLICIES)}")
    if refresh not in REFRESH_MODES:
        raise ValueError(f"refresh {refresh!r}: choose one of {list(REFRESH_MODES)}")
    if refresh == "per_bank" and not spec.standard.supports_per_bank_refresh:
        raise ValueError(f"{spec.name}: {spec.standard.name} has no per-bank refresh in hwsim")
    if queue_size < 1:
        raise ValueError("queue_size must be >= 1")
    arrays = [np.ascontiguousarray(a, dtype=np.int64) for a in (arrival, is_write, rank, bankgroup, bank, row)]
    if np.any(np.diff(arrays[0]) < 0):
        raise ValueError("requests must be sorted by arrival cycle")
    org = spec.org
    for name, a, size in (("rank", arrays[2], org.ranks), ("bankgroup", arrays[3], org.bankgroups),
                          ("bank", arrays[4], org.banks_per_group), ("row", arrays[5], org.rows)):
        if a.size and (a.min() < 0 or a.max() >= size):
            raise ValueError(f"{spec.name}: {name} index out of range 0..{size - 1}")
    table, window = constraint_table(spec)
    done, kind, log_t, log_c, log_a, counts = k.run_channel(
        *arrays, table, len(COMMANDS), window, org.ranks, org.bankgroups, org.banks_per_group,
        queue_size, ROW_POLICIES[row_policy], REFRESH_MODES[refresh],
        spec.standard.refresh_level == "channel", spec["nREFI"], spec["nCL"], spec["nCWL"], spec["nBL"])
    log = CommandLog(log_t, log_c, *(np.ascontiguousarray(log_a[:, i]) for i in range(4)))
    return ChannelResult(done, kind, log, dict(zip(COMMANDS, counts.tolist())))


def simulate_stream(spec: DramSpec, addresses, is_write=None, arrival_cycle=None, *,
                    mapping: str = "RoCoBaBgRaCh", queue_size: int = 32, row_policy: str = "open",
                    refresh: str = "all_bank") -> StreamResult:
    """Run a request stream (byte addresses; optional write flags and arrival cycles, default all
    reads arriving at cycle 0) through ``spec.org.channels * pseudo_channels`` independent channels."""
    addresses = np.asarray(addresses, dtype=np.int64)
    n = addresses.size
    is_write = np.zeros(n, np.int64) if is_write is None else np.asarray(is_write, dtype=np.int64)
    arrival = np.zeros(n, np.int64) if arrival_cycle is None else np.asarray(arrival_cycle, dtype=np.int64)
    order = np.argsort(arrival, kind="stable")
    f = decode(addresses, spec.org, mapping)
    done = np.zeros(n, np.int64)
    kind = np.zeros(n, np.int8)
    per_channel = {}
    for ch in np.unique(f["channel"]):
        idx = order[f["channel"][order] == ch]
        res = simulate_channel(spec, arrival[idx], is_write[idx], f["rank"][idx], f["bankgroup"][idx],
                               f["bank"][idx], f["row"][idx], queue_size=queue_size,
                               row_policy=row_policy, refresh=refresh)
        done[idx], kind[idx] = res.done_cycle, res.kind
        per_channel[int(ch)] = res
    counts = {c: sum(r.command_counts[c] for r in per_channel.values()) for c in COMMANDS}
    span = int(done.max() - arrival.min()) if n else 0
    stats = StreamStats(
        requests=n, row_hits=int(np.sum(kind == k.HIT)), row_misses=int(np.sum(kind == k.MISS)),
        row_conflicts=int(np.sum(kind == k.CONFLICT)), command_counts=counts,
        refreshes=counts["REF"] + counts["REFpb"], span_cycles=span, span_ps=span * spec.tCK_ps,
        bytes=n * spec.org.burst_bytes)
    return StreamResult(done, f["channel"], stats, per_channel)
