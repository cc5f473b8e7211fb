"""GEMV and attention layouts: command counts of the streams follow from the shapes."""

import math

import numpy as np
import pytest

from hwsim.components.dram import load_preset
from hwsim.components.dram.log_checker import check_log
from hwsim.components.dram.pim_mapping import Layout, bank_access_stream, gemv_stream, split_work
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.components.dram.standards import COMMANDS

AIM = load_preset("GDDR6_AiM")
LAYOUT = Layout(columns_per_row=64, lanes=16, gb_elements=1024, banks=16, banks_per_group=4)


def counts(stream):
    return {c: int(np.sum(stream.cmd == i)) for i, c in enumerate(COMMANDS)}


@pytest.mark.parametrize("k, neurons", [(768, 3), (2048, 4), (3000, 5), (64, 40)])
def test_gemv_command_counts(k, neurons):
    s = counts(gemv_stream(LAYOUT, k, neurons))
    chunks = [min(1024, k - c) for c in range(0, k, 1024)]
    columns = sum(neurons * math.ceil(c / 16) for c in chunks)
    assert s["MAC_ABK"] == columns
    assert s["RD_MAC"] == neurons * len(chunks)
    assert s["WR_GB"] == sum(math.ceil(c / 16) for c in chunks)
    assert s["ACT_ABK"] == s["PREA"] == math.ceil(columns / 64)     # packed rows: every row opened once


def test_head_concatenation_raises_the_row_hit_rate():
    """K of one head, 64-dim keys (4 columns each): packed, 16 keys share a row; unpacked, one each."""
    packed = counts(gemv_stream(LAYOUT, 64, 32))
    unpacked = counts(gemv_stream(Layout(64, 16, 1024, 16, 4, pack_rows=False), 64, 32))
    assert packed["ACT_ABK"] == 2 and unpacked["ACT_ABK"] == 32
    fast = simulate_commands(AIM, *_fields(gemv_stream(LAYOUT, 64, 32)), refresh=False).done_cycle
    slow = simulate_commands(AIM, *_fields(gemv_stream(Layout(64, 16, 1024, 16, 4, pack_rows=False), 64, 32)),
                             refresh=False).done_cycle
    assert slow > fast + 30 * AIM["nRCDRDMAC"]


def _fields(s):
    return s.cmd, 0, s.bankgroup, s.bank, s.row


@pytest.mark.parametrize("write", [False, True])
def test_bank_access_streams_are_legal_and_cover_every_burst(write):
    s = bank_access_stream(LAYOUT, 150, write)
    assert counts(s)["WR" if write else "RD"] == 150
    r = simulate_commands(AIM, *_fields(s))
    assert check_log(AIM, r.log) == []


def test_gemv_streams_are_legal():
    r = simulate_commands(AIM, *_fields(gemv_stream(LAYOUT, 2500, 7)))
    assert check_log(AIM, r.log) == []


@pytest.mark.parametrize("units, items, channels, expected", [
    (40, 4096, 8, (5, 4096, 1)), (12, 129, 128, (1, 13, 10)), (1, 2304, 8, (1, 288, 8))])
def test_split_work(units, items, channels, expected):
    assert split_work(units, items, channels) == expected


def test_streams_are_memoised_read_only():
    """Every layer asks for the same streams: they are built once and shared, so nobody may write them."""
    layout = Layout(64, 16, 1024, 16, 4)
    first = gemv_stream(layout, 5120, 3)
    assert gemv_stream(layout, 5120, 3) is first
    with pytest.raises(ValueError):
        first.cmd[0] = 0
