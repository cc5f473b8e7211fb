"""Controller behaviour: exact command sequences, FR-FCFS, row policies, refresh, and every command of
random mixed runs checked against the standard by the independent log checker."""

import numpy as np
import pytest

from hwsim.components.dram.controller import simulate_channel, simulate_stream
from hwsim.components.dram.log_checker import check_log
from hwsim.components.dram.presets import load_preset, preset_names
from hwsim.components.dram.spec import with_overrides

DDR4 = load_preset("DDR4_2400R")


def one_bank(spec, rows, arrivals, writes=None, **kw):
    n = len(rows)
    zeros = np.zeros(n, np.int64)
    return simulate_channel(spec, arrivals, zeros if writes is None else writes, zeros, zeros, zeros, rows, **kw)


def test_single_read_to_closed_bank():
    r = one_bank(DDR4, [7], [0], refresh="none")
    assert r.log.names() == ["ACT", "RD"]
    assert r.log.cycle.tolist() == [0, 16]
    assert r.done_cycle.tolist() == [16 + 16 + 4]          # nRCD + nCL + nBL
    assert r.kind.tolist() == [1]                          # row miss


def test_row_conflict_sequence_and_latency():
    r = one_bank(DDR4, [1, 2], [0, 1000], refresh="none")
    assert r.log.names() == ["ACT", "RD", "PRE", "ACT", "RD"]
    assert r.log.cycle.tolist() == [0, 16, 1000, 1016, 1032]
    assert r.kind.tolist() == [1, 2]


def test_fr_fcfs_serves_younger_row_hit_first():
    """Bank open on row 1; an older request to row 2 waits while a younger row-1 hit is served."""
    r = one_bank(DDR4, [1, 2, 1], [0, 1, 2], refresh="none")
    assert r.done_cycle[2] < r.done_cycle[1]
    assert r.kind.tolist() == [1, 2, 0]
    assert r.log.names() == ["ACT", "RD", "RD", "PRE", "ACT", "RD"]
    fcfs = one_bank(DDR4, [1, 2, 1], [0, 1, 2], refresh="none", queue_size=1)
    assert fcfs.done_cycle[1] < fcfs.done_cycle[2]         # a queue of one cannot reorder


def test_closed_row_policy_precharges_after_access():
    r = one_bank(DDR4, [3], [0], refresh="none", row_policy="closed")
    assert r.log.names() == ["ACT", "RD", "PRE"]
    assert r.log.cycle.tolist() == [0, 16, 39]             # PRE waits for nRAS (39 > 16 + nRTP)
    again = one_bank(DDR4, [3, 3], [0, 500], refresh="none", row_policy="closed")
    assert again.kind.tolist() == [1, 1]                   # closed again: a miss, not a hit
    opened = one_bank(DDR4, [3, 3], [0, 500], refresh="none", row_policy="open")
    assert opened.kind.tolist() == [1, 0]


def test_write_completion_uses_write_latency():
    r = one_bank(DDR4, [0], [0], writes=[1], refresh="none")
    assert r.log.names() == ["ACT", "WR"]
    assert r.done_cycle.tolist() == [16 + 12 + 4]          # nRCDWR + nCWL + nBL


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("mode", ["all_bank", "per_bank"])
def test_refresh_really_happens(name, mode):
    spec = load_preset(name)
    if mode == "per_bank" and not spec.standard.supports_per_bank_refresh:
        with pytest.raises(ValueError, match="per-bank"):
            simulate_stream(spec, [0], refresh=mode)
        return
    n = 3 * spec["nREFI"] // spec["nBL"] * spec.org.pseudo_channels
    res = simulate_stream(spec, np.arange(n) * spec.org.burst_bytes, refresh=mode)
    span = min(r.done_cycle.max() for r in res.channels.values())
    assert span > 2 * spec["nREFI"]
    groups = 1 if spec.standard.refresh_level == "channel" else spec.org.ranks
    per_interval = groups * (spec.org.banks_per_rank * spec.org.ranks // groups if mode == "per_bank" else 1)
    for r in res.channels.values():
        refreshes = r.command_counts["REF"] + r.command_counts["REFpb"]
        assert refreshes > 0
        assert refreshes >= per_interval * (span // spec["nREFI"]) - groups
    assert simulate_stream(spec, np.arange(n) * spec.org.burst_bytes, refresh="none").stats.refreshes == 0


def mixed_stream(spec, n, seed):
    """Reads and writes with some row locality, bursty arrivals spanning two refresh intervals."""
    rng = np.random.default_rng(seed)
    bursts = spec.org.bursts_per_row * spec.org.banks_per_rank * spec.org.ranks
    rows = rng.integers(0, 4, n) * bursts * spec.org.channels * spec.org.pseudo_channels
    addr = (rows + rng.integers(0, bursts * spec.org.pseudo_channels, n)) * spec.org.burst_bytes
    arrival = np.sort(rng.integers(0, 2 * spec["nREFI"] + 1, n))
    return addr, rng.random(n) < 0.3, arrival


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("policy, refresh", [("open", "all_bank"), ("closed", "per_bank")])
def test_every_command_is_legal(name, policy, refresh):
    spec = load_preset(name)
    if not spec.standard.supports_per_bank_refresh:
        refresh = "all_bank"
    addr, writes, arrival = mixed_stream(spec, 1200, seed=len(name))
    res = simulate_stream(spec, addr, writes, arrival, row_policy=policy, refresh=refresh, mapping="RoBaRaCoCh")
    assert res.stats.row_hits > 0 and res.stats.row_conflicts > 0 and res.stats.refreshes > 0
    for r in res.channels.values():
        assert check_log(spec, r.log) == []


def test_log_checker_catches_a_violation():
    r = one_bank(DDR4, [1, 2], [0, 1000], refresh="none")
    cycles = r.log.cycle.copy()
    cycles[3] -= 1                                          # ACT one cycle before PRE + nRP
    bad = type(r.log)(cycles, r.log.command, r.log.rank, r.log.bankgroup, r.log.bank, r.log.row)
    errors = check_log(DDR4, bad)
    assert len(errors) == 1 and "nRP = 16" in errors[0]


def test_rank_switch_costs_bus_cycles():
    """Two ranks: reads from different ranks are at least nBL + nCS apart on the data bus."""
    spec = with_overrides(DDR4, ranks=2)
    zeros = np.zeros(4, np.int64)
    r = simulate_channel(spec, zeros, zeros, [0, 1, 0, 1], [0, 1, 2, 3], zeros, zeros, refresh="none")
    reads = np.array(r.log.names()) == "RD"
    cycles, ranks = r.log.cycle[reads], r.log.rank[reads]
    switch = ranks[1:] != ranks[:-1]
    assert switch.any() and np.diff(cycles)[switch].min() == 4 + 2
    assert check_log(spec, r.log) == []
