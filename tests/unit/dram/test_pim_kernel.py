"""PIM command streams: exact issue cycles from the AiM timings, illegal commands flagged, refresh
inserted, and random legal streams accepted by the independent log checker."""

import numpy as np
import pytest

from hwsim.components.dram import load_preset, with_overrides
from hwsim.components.dram.log_checker import check_log
from hwsim.components.dram.pim_random import random_legal_stream
from hwsim.components.dram.pim_stream import IllegalCommand, simulate_commands

AIM = load_preset("GDDR6_AiM")


def one_row(macs=64, gb=4):
    cmds = ["WR_GB"] * gb + ["ACT_ABK"] + ["MAC_ABK"] * macs + ["RD_MAC", "PREA"]
    rows = [-1] * gb + [3] + [3] * macs + [-1, -1]
    return cmds, rows


def test_all_bank_row_cycle_closed_form():
    cmds, rows = one_row()
    r = simulate_commands(AIM, cmds, row=rows, refresh=False)
    t = AIM.timings
    act = 4 * t["nBL"] - 1                                      # WR_GBs back to back on the pins, then ACT_ABK
    first_mac = act + t["nRCDRDMAC"]
    last_mac = first_mac + 63 * t["nCCDAB"]
    prea = max(last_mac + t["nRTP"], act + t["nRAS"])
    assert r.issue_cycle[4] == act == 7
    assert list(r.issue_cycle[5:69]) == list(range(first_mac, last_mac + 1, t["nCCDAB"]))
    assert r.issue_cycle[69] == last_mac + t["nCCDL"]           # RD_MAC
    assert r.issue_cycle[70] == prea == 201
    assert r.done_cycle == prea + t["nRPab"]
    assert r.open_cycles == prea - act
    assert check_log(AIM, r.log) == []


def test_power_limited_mac_spacing():
    hbm3 = load_preset("HBM3_PIM")
    cmds, rows = one_row(macs=16, gb=0)
    spans = {}
    for ccdab in (6, 4):
        r = simulate_commands(with_overrides(hbm3, nCCDAB=ccdab), cmds, row=rows, refresh=False)
        spans[ccdab] = r.issue_cycle[16] - r.issue_cycle[1]
    assert spans == {6: 15 * 6, 4: 15 * 4}


@pytest.mark.parametrize("cmds, rows, index, reason", [
    (["MAC_ABK"], [0], 0, "bank is closed"),
    (["ACT_ABK", "ACT_ABK"], [1, 2], 1, "ACT_ABK while a bank is open"),
    (["ACT_ABK", "MAC_ABK"], [1, 2], 1, "another row"),
    (["ACT", "RD"], [1, 2], 1, "column command"),
    (["ACT_ABK", "ACT"], [1, 1], 1, "ACT to an open bank"),
    (["ACT_ABK", "REF"], [1, -1], 1, "REF while a bank is open"),
    (["PRE"], [0], 0, "PRE to a closed bank"),
])
def test_illegal_commands_are_flagged(cmds, rows, index, reason):
    with pytest.raises(IllegalCommand) as err:
        simulate_commands(AIM, cmds, row=rows)
    assert err.value.index == index and reason in str(err.value)
    r = simulate_commands(AIM, cmds, row=rows, raise_illegal=False)
    assert list(r.issue_cycle[index:]) == [-1] * (len(cmds) - index)


def test_refresh_is_inserted_and_rows_reopened():
    cmds, rows = one_row(gb=0)
    n_rows = 60                                                   # ~60 x 200 cycles >> nREFI = 3333
    r = simulate_commands(AIM, cmds * n_rows, row=rows * n_rows)
    assert check_log(AIM, r.log) == []
    assert r.command_counts["REF"] == r.done_cycle // AIM["nREFI"]
    plain = simulate_commands(AIM, cmds * n_rows, row=rows * n_rows, refresh=False)
    assert r.done_cycle > plain.done_cycle + r.command_counts["REF"] * AIM["nRFC"]


@pytest.mark.parametrize("preset", ["GDDR6_AiM", "HBM2_PIM"])
@pytest.mark.parametrize("seed", range(4))
def test_random_legal_streams_pass_the_independent_checker(preset, seed):
    spec = load_preset(preset)
    stream = random_legal_stream(np.random.default_rng(seed), 400, spec)
    c, g, b, row = zip(*stream)
    r = simulate_commands(spec, c, 0, g, b, row, refresh=True, refresh_due=300)
    assert (r.issue_cycle >= 0).all() and (np.diff(r.issue_cycle) > 0).all()
    assert check_log(spec, r.log) == []


def test_exact_issue_cycles_are_checked_against_the_timing():
    cmds, rows = one_row(macs=2)
    free = simulate_commands(AIM, cmds, row=rows, refresh=False).issue_cycle
    assert list(simulate_commands(AIM, cmds, row=rows, refresh=False, at=free).issue_cycle) == list(free)
    early = free.copy()
    early[4] -= 1                                                 # ACT_ABK one cycle before it may issue
    with pytest.raises(IllegalCommand, match="timing constraint") as err:
        simulate_commands(AIM, cmds, row=rows, refresh=False, at=early)
    assert err.value.index == 4


def test_host_refresh_does_not_turn_refresh_on():
    r = simulate_commands(AIM, ["REF"] + ["WR_GB"] * 4000, refresh=False)
    assert r.command_counts["REF"] == 1
