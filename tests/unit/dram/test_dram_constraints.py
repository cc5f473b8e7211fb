"""Every timing constraint, one pair of commands at a time: the kernel's earliest legal cycle for the
second command equals the longest applicable latency of the standard (and hand-checked DDR4 numbers)."""

import pytest

from hwsim.components.dram import timing_kernel as k
from hwsim.components.dram.controller import constraint_table
from hwsim.components.dram.presets import load_preset, preset_names
from hwsim.components.dram.spec import with_overrides
from hwsim.components.dram.standards import COMMANDS, GROUP_SCOPED


def earliest_after(spec, history, follower, target):
    """Earliest cycle of ``follower`` at target (rank, bg, bank) after the (command, target, cycle)
    entries of ``history`` have issued."""
    table, window = constraint_table(spec)
    org = spec.org
    hist = k.new_history(org.ranks, org.bankgroups, org.banks_per_group, len(COMMANDS), window)
    group = org.ranks if spec.standard.refresh_level == "channel" else 1
    for cmd, (r, g, b), t in history:
        if cmd in GROUP_SCOPED:
            k.record(COMMANDS.index(cmd), t, r, r + group, -1, -1, hist, org.bankgroups, org.banks_per_group)
        else:
            k.record(COMMANDS.index(cmd), t, r, r + 1, g, b, hist, org.bankgroups, org.banks_per_group)
    r, g, b = target
    return k.earliest(COMMANDS.index(follower), r, g, b, hist, table, org.ranks, org.bankgroups, org.banks_per_group)


def follower_target(level, sibling, ranks):
    """A target that shares the node of ``level`` with (0, 0, 0) and differs below it."""
    if sibling:
        return (1, 0, 0)
    return {"bank": (0, 0, 0), "bankgroup": (0, 0, 1), "rank": (0, 1, 1),
            "channel": (1, 1, 1) if ranks > 1 else (0, 1, 1)}[level]


def applies(c, target):
    """Does constraint c relate a command at (0,0,0) to one at ``target``?"""
    if c.sibling:
        return target[0] != 0
    depth = {"channel": 0, "rank": 1, "bankgroup": 2, "bank": 3}[c.level]
    return all(v == 0 for v in target[:depth])


def cases():
    for name in preset_names():
        spec = load_preset(name)
        if spec.org.ranks == 1:
            spec = with_overrides(spec, ranks=2)      # so rank-switch rules have a second rank
        for c in spec.standard.constraints:
            if c.window == 1:
                for p in c.preceding:
                    for f in c.following:
                        yield pytest.param(spec, c, p, f, id=f"{name}-{c.level}-{p}-{f}-{c.latency}")


@pytest.mark.parametrize("spec, c, p, f", list(cases()))
def test_single_constraint(spec, c, p, f):
    target = follower_target(c.level, c.sibling, spec.org.ranks)
    if f in GROUP_SCOPED:
        target = (target[0], 0, 0)
    grouped = spec.standard.refresh_level == "channel"
    expected = max(
        spec.latency(o.latency) for o in spec.standard.constraints
        if p in o.preceding and f in o.following and o.window == 1
        and (applies(o, target) or (grouped and (p in GROUP_SCOPED) and o.level == "rank" and not o.sibling))
    )
    got = earliest_after(spec, [(p, (0, 0, 0), 0)], f, target)
    assert got >= spec.latency(c.latency)
    assert got == expected


DDR4 = [  # (preceding, its target, following, its target, cycles) for DDR4_2400R, from the JEDEC names
    ("ACT", (0, 0, 0), "RD", (0, 0, 0), 16),     # nRCD
    ("ACT", (0, 0, 0), "PRE", (0, 0, 0), 39),    # nRAS
    ("ACT", (0, 0, 0), "ACT", (0, 0, 0), 55),    # nRC
    ("ACT", (0, 0, 0), "ACT", (0, 0, 1), 6),     # nRRD_L
    ("ACT", (0, 0, 0), "ACT", (0, 1, 0), 4),     # nRRD_S
    ("PRE", (0, 0, 0), "ACT", (0, 0, 0), 16),    # nRP
    ("RD", (0, 0, 0), "RD", (0, 0, 1), 6),       # nCCD_L
    ("RD", (0, 0, 0), "RD", (0, 1, 0), 4),       # nCCD_S = nBL
    ("RD", (0, 0, 0), "PRE", (0, 0, 0), 9),      # nRTP
    ("RD", (0, 0, 0), "WR", (0, 1, 0), 10),      # nCL + nBL + 2 - nCWL
    ("WR", (0, 0, 0), "RD", (0, 0, 1), 25),      # nCWL + nBL + nWTR_L
    ("WR", (0, 0, 0), "RD", (0, 1, 0), 19),      # nCWL + nBL + nWTR_S
    ("WR", (0, 0, 0), "PRE", (0, 0, 0), 34),     # nCWL + nBL + nWR
    ("PREA", (0, 0, 0), "REF", (0, 0, 0), 16),   # nRP (all-bank)
    ("REF", (0, 0, 0), "ACT", (0, 3, 3), 433),   # nRFC
    ("ACT", (0, 2, 1), "REF", (0, 0, 0), 55),    # nRC before refresh
]


@pytest.mark.parametrize("p, pt, f, ft, cycles", DDR4)
def test_ddr4_2400_hand_checked(p, pt, f, ft, cycles):
    assert earliest_after(load_preset("DDR4_2400R"), [(p, pt, 0)], f, ft) == cycles


def test_four_activate_window():
    """Four ACTs to different bank groups at nRRD_S spacing: the fifth waits for nFAW after the first."""
    spec = load_preset("DDR4_2400R")
    acts = [("ACT", (0, g, 0), 4 * g) for g in range(4)]
    assert earliest_after(spec, acts, "ACT", (0, 0, 1)) == 26          # nFAW = 26 > 12 + nRRD_S
    assert earliest_after(spec, acts[1:], "ACT", (0, 0, 1)) == 16      # three ACTs: nRRD_S after ACT@12
