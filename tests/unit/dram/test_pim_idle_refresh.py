"""Refreshes that come due while PIM channels idle between ops (host link transfers, host or
accelerator work) are issued during the idle time, as a DRAM controller does, instead of being
owed and paid back REF after REF by the next op's command stream."""
import numpy as np

from hwsim.components.base import build_component
from hwsim.components.dram.presets import load_preset
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

PIM = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 8,
       "reduction": {"clock": "1GHz", "lanes": 128}}
SPEC = load_preset("GDDR6_AiM")
NREFI, NRFC, TCK = SPEC["nREFI"], SPEC["nRFC"], SPEC.tCK_ps
GEMV = Op(0, "fc", "matmul", 0, 2.0 * 4096 * 1024, "bf16", weight_bytes=2.0 * 4096 * 1024, m=1, n=4096, k=1024)


def durations_after_idle(gap_cycles: int, refresh: bool = True) -> tuple[list[int], list[int]]:
    """(op durations in ps, REFs the op streams issued) of GEMV, an idle gap, GEMV."""
    sim = Simulator()
    pim = build_component("pim", {**PIM, "refresh": refresh}, SourceMap("<test>"), ("pim",), sim)
    spans, refs = [], []

    def done(op, run):
        spans.append(run.end_ps - run.start_ps)
        refs.append(pim.statistics().get("cmd_REF", 0.0))

    pim.submit(GEMV, done)
    sim.run()
    sim.schedule_at(sim.now + gap_cycles * TCK, lambda: pim.submit(GEMV, done))
    sim.run()
    return spans, [int(refs[0]), int(refs[1] - refs[0])]


def test_a_long_idle_gap_costs_the_next_op_no_owed_refreshes():
    spans, refs = durations_after_idle(100 * NREFI)
    short, short_refs = durations_after_idle(0)
    # REFs are counted over the 8 channels: at most one more each, not the ~100 that came due in the gap
    assert refs[1] <= short_refs[1] + 8
    assert abs(spans[1] - short[1]) <= 2 * NRFC * TCK   # a refresh phase apart, not 100 nRFC


def test_idle_refreshes_move_the_phase_by_whole_intervals():
    sim = Simulator()
    pim = build_component("pim", PIM, SourceMap("<test>"), ("pim",), sim)
    pim._refresh_due, pim._idle_cycle = 1000, 500
    pim._refresh_while_idle(1000 + NRFC - 1)          # the due REF would still run at the start
    assert pim._refresh_due == 1000
    pim._refresh_while_idle(1000 + 5 * NREFI + NRFC)  # REFs at 1000, +nREFI, ..., +5 nREFI all complete
    assert pim._refresh_due == 1000 + 6 * NREFI
    pim._refresh_due, pim._idle_cycle = 100, 4000     # two REFs owed (due 100 and 100 + nREFI) at idle
    pim._refresh_while_idle(4000 + 2 * NRFC)          # issued back to back from cycle 4000
    assert pim._refresh_due == 100 + 2 * NREFI


def test_without_refresh_nothing_moves():
    spans, refs = durations_after_idle(100 * NREFI, refresh=False)
    assert refs == [0, 0] and spans[0] == spans[1]


def one_by_one(due, idle, first, n_refi=NREFI, n_rfc=NRFC):
    """The idle refreshes REF by REF: each issues when due and the previous one is done."""
    at = max(due, idle)
    while at + n_rfc <= first:
        due += n_refi
        at = max(due, at + n_rfc)
    return due


def test_idle_refresh_counting_equals_issuing_them_one_by_one():
    rng = np.random.default_rng(5)
    sim = Simulator()
    pim = build_component("pim", PIM, SourceMap("<test>"), ("pim",), sim)
    for _ in range(3000):
        due, idle = (int(v) for v in rng.integers(0, 2_000_000, 2))
        first = idle + int(rng.integers(0, 3_000_000))
        pim._refresh_due, pim._idle_cycle = due, idle
        pim._refresh_while_idle(first)
        assert pim._refresh_due == one_by_one(due, idle, first)
