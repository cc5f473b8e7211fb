"""PIM DRAM bank group RTL vs the Python models: same issue legality, same completion cycles, same data.

A random stream, legal in bank state (`pim_random`), alternating with AiM GEMV tiles (GB writes, an
all-bank row of MACs, sometimes EWMUL and AF, RD_MAC), is scheduled by the timing model (`pim_stream`,
GDDR6_AiM rules on one bank group): each command issues at its earliest cycle or a few cycles later,
found by asking the model for the earliest cycle after the commands before it. The cocotb test drives
that schedule into rtl_models/dram_bank_group and requires every command to be accepted, RD and RD_MAC
data to come out at issue + completion with the values of `PimBankGroupData`, and `idle` to rise at
the model's done cycle. Between commands it drives probes the model calls illegal, each command
itself one cycle before its earliest cycle (too early) and random commands (wrong bank state or too
early); the RTL must reject each with the model's reason code and stay unchanged.
"""
import os
from pathlib import Path

import numpy as np
import pytest

from hwsim.components.dram import load_preset, with_overrides
from hwsim.components.dram.pim_functional import PimBankGroupData
from hwsim.components.dram.pim_kernel import ILLEGAL, OK, TOO_EARLY
from hwsim.components.dram.pim_random import random_legal_stream
from hwsim.components.dram.pim_stream import IllegalCommand, completion_cycles, simulate_commands
from hwsim.components.dram.standards import COMMANDS

HDL = Path(__file__).resolve().parents[2] / "rtl_models" / "dram_bank_group" / "hdl"
SIZE_NAMES = ("BANKS", "ROWS", "COLS", "LANES")
RTL_TIMINGS = ("nBL", "nCL", "nCWL", "nRCD", "nRCDWR", "nRP", "nRPab", "nRAS", "nRC", "nWR", "nRTP", "nCCDS",
               "nCCDL", "nRRDS", "nRRDL", "nWTRS", "nWTRL", "nFAW", "nRFC", "nRCDRDMAC", "nCCDAB", "nRCDRDAF",
               "nRCDEWMUL")
# small, pairwise different timings (so that a swapped rule shows), and the real AiM cycles
SMALL = dict(nBL=2, nCL=5, nCWL=3, nRCD=4, nRCDWR=3, nRP=4, nRPab=5, nRAS=8, nRC=12, nWR=4, nRTP=2, nCCDS=1,
             nCCDL=2, nRRDS=2, nRRDL=3, nWTRS=2, nWTRL=3, nFAW=10, nRFC=15, nRFCpb=8, nREFI=1000,
             nRCDRDMAC=6, nCCDAB=3, nRCDRDAF=7, nRCDEWMUL=5)
CASES = {"small": (dict(BANKS=4, ROWS=4, COLS=4, LANES=4), SMALL, 16),       # segments of the stream
         "aim": (dict(BANKS=16, ROWS=4, COLS=4, LANES=4), {}, 6)}
ENV = "HWSIM_DRAM_BANK_GROUP_CASE"


def case_spec(case: str):
    """The model's spec for a case: GDDR6_AiM rules, one rank of one bank group of BANKS banks."""
    sizes, timings, _ = CASES[case]
    return with_overrides(load_preset("GDDR6_AiM"), bankgroups=1, banks_per_group=sizes["BANKS"],
                          rows=sizes["ROWS"], **timings)


@pytest.mark.rtl
@pytest.mark.parametrize("case", CASES)
def test_dram_bank_group_rtl(run_cocotb, monkeypatch, case):
    spec = case_spec(case)
    parameters = {**CASES[case][0], **{name: spec[name] for name in RTL_TIMINGS}}
    monkeypatch.setenv(ENV, case)
    run_cocotb("dram_bank_group", sources=[HDL / "dram_bank_group.sv"], toplevel="dram_bank_group",
               test_module="test_dram_bank_group", parameters=parameters)


# ---- model side: stream, schedule and legality ------------------------------------------------

def gemv_tile(rng, row: int, cols: int):
    """One AiM output tile: the input vector into the GB, one all-bank row of MACs, results out."""
    tile = [("WR_GB", 0, 0, -1, c) for c in range(cols)] + [("ACT_ABK", 0, 0, row, 0)]
    for c in range(cols):
        tile.append(("MAC_ABK", 0, 0, row, c))
        if rng.random() < 0.2:
            tile.append(("EWMUL", 0, 0, row, c))
    return tile + [("AF", 0, 0, row, 0)] * int(rng.random() < 0.5) + [("RD_MAC", 0, 0, -1, 0), ("PREA", 0, 0, -1, 0)]


def mixed_stream(rng, spec, segments: int, rows: int, cols: int):
    """(command, bankgroup, bank, row, column) list: random legal commands, then a GEMV tile, repeated."""
    out = []
    for _ in range(segments):
        out += [(*cmd, int(rng.integers(cols))) for cmd in random_legal_stream(rng, 20, spec, rows)]
        out += [("PREA", 0, 0, -1, 0)] + gemv_tile(rng, int(rng.integers(rows)), cols)
    return out


def model_code(spec, stream, at) -> int:
    """Reason code (pim_kernel.ILLEGAL index) of the model for the last command of `stream` at `at`."""
    c, g, b, row, _ = zip(*stream)
    try:
        simulate_commands(spec, c, 0, g, b, row, refresh=False, at=at)
    except IllegalCommand as err:
        assert err.index == len(stream) - 1
        return ILLEGAL.index(err.reason)
    return OK


def schedule(spec, stream, rng):
    """Issue cycles: each command at its earliest cycle after the ones before it, or 1-4 cycles later."""
    at = []
    for i in range(len(stream)):
        c, g, b, row, _ = zip(*stream[: i + 1])
        earliest = simulate_commands(spec, c, 0, g, b, row, refresh=False, at=at + [-1]).issue_cycle[i]
        at.append(int(earliest) + (0 if rng.random() < 0.6 else int(rng.integers(1, 5))))
    return at


def probes(spec, stream, at, rng):
    """{cycle: (command, bank, row, expected code)} of illegal commands between the stream's commands."""
    out = {}
    for i in range(1, len(stream)):
        if at[i] - 1 <= at[i - 1]:
            continue
        candidates = [(at[i] - 1, stream[i])]
        candidates.append((int(rng.integers(at[i - 1] + 1, at[i])),
                           (COMMANDS[rng.integers(len(COMMANDS))], 0, int(rng.integers(spec.org.banks_per_group)),
                            int(rng.integers(spec.org.rows)), 0)))
        cycle, probe = candidates[rng.integers(2)]
        code = model_code(spec, stream[:i] + [probe], at[:i] + [cycle])
        if code != OK:
            out[cycle] = (probe[0], probe[2], probe[3], code)
    return out


# ---- cocotb side (runs inside the simulator) -------------------------------------------------

def pack(words) -> int:
    return sum((int(w) & 0xFFFF) << (16 * k) for k, w in enumerate(words))


def unpack(word: int, count: int, bits: int) -> np.ndarray:
    values = np.array([(word >> (bits * k)) & ((1 << bits) - 1) for k in range(count)], np.int64)
    return np.where(values >= 1 << (bits - 1), values - (1 << bits), values)


try:
    import cocotb
except ImportError:   # collected by pytest without cocotb: the pytest test above skips
    cocotb = None

if cocotb is not None:
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, RisingEdge

    @cocotb.test()
    async def random_streams_match_the_timing_and_data_models(dut):
        case = os.environ[ENV]
        sizes, _, segments = CASES[case]
        banks, rows, cols, lanes = (sizes[k] for k in SIZE_NAMES)
        spec = case_spec(case)
        rng = np.random.default_rng(len(case))
        memory = rng.integers(-(1 << 15), 1 << 15, (banks, rows, cols, lanes))
        data = PimBankGroupData(banks, rows, cols, lanes, memory)

        stream = mixed_stream(rng, spec, segments, rows, cols)
        at = schedule(spec, stream, rng)
        c, g, b, row, _ = zip(*stream)
        result = simulate_commands(spec, c, 0, g, b, row, refresh=False, at=at)
        assert list(result.issue_cycle) == at
        completion = completion_cycles(spec)
        drive, expected_rd, expected_mac = {}, [], []
        for (name, _, bank, r, col), t in zip(stream, at):
            words = rng.integers(-(1 << 15), 1 << 15, lanes)
            out = data.apply(name, bank, r, col, words)
            if name == "RD":
                expected_rd.append((t + int(completion[COMMANDS.index("RD")]), out.tolist()))
            elif name == "RD_MAC":
                expected_mac.append((t + int(completion[COMMANDS.index("RD_MAC")]), out.tolist()))
            drive[t] = (name, bank, max(r, 0), col, pack(words), OK)
        for t, (name, bank, r, code) in probes(spec, stream, at, rng).items():
            drive[t] = (name, bank, max(r, 0), 0, 0, code)
        counts = {name: c.count(name) for name in ("MAC_ABK", "MAC_SBK", "EWMUL", "AF", "RD_MAC", "RD", "WR")}
        n_early = sum(1 for v in drive.values() if v[5] == TOO_EARLY)
        n_state = sum(1 for v in drive.values() if v[5] not in (OK, TOO_EARLY))

        Clock(dut.clk, 10, unit="ns").start()
        for signal in (dut.cmd_valid, dut.cmd, dut.cmd_bank, dut.cmd_row, dut.cmd_col, dut.cmd_data, dut.load_we):
            signal.value = 0
        dut.rst_n.value = 0
        for bank in range(banks):                      # fill the array through the back door
            for r in range(rows):
                for col in range(cols):
                    dut.load_we.value, dut.load_bank.value, dut.load_row.value = 1, bank, r
                    dut.load_col.value, dut.load_data.value = col, pack(memory[bank, r, col])
                    await RisingEdge(dut.clk)
        dut.load_we.value = 0
        await FallingEdge(dut.clk)
        dut.rst_n.value = 1

        responses, rd, mac, first_idle = {}, [], [], None
        for cycle in range(result.done_cycle + 3):
            if cycle:
                await FallingEdge(dut.clk)               # outputs during `cycle`; inputs for `cycle`
            if dut.resp_valid.value:
                responses[cycle - 1] = int(dut.resp_code.value)
            if dut.rd_valid.value:
                rd.append((cycle, unpack(dut.rd_data.value.to_unsigned(), lanes, 16).tolist()))
            if dut.mac_valid.value:
                mac.append((cycle, unpack(dut.mac_data.value.to_unsigned(), banks, 32).tolist()))
            if first_idle is None and cycle > at[-1] and dut.idle.value:
                first_idle = cycle
            name, bank, r, col, words, _ = drive.get(cycle, ("ACT", 0, 0, 0, 0, OK))
            dut.cmd_valid.value = int(cycle in drive)
            dut.cmd.value, dut.cmd_bank.value, dut.cmd_row.value = COMMANDS.index(name), bank, r
            dut.cmd_col.value, dut.cmd_data.value = col, words

        for t, (name, *_, code) in sorted(drive.items()):
            assert responses.get(t) == code, \
                f"{case}: {name} at cycle {t}: RTL says {ILLEGAL[responses.get(t, 0)]!r}, model {ILLEGAL[code]!r}"
        assert rd == expected_rd, f"{case}: RD data or completion cycles differ"
        assert mac == expected_mac, f"{case}: RD_MAC results or completion cycles differ"
        assert first_idle == result.done_cycle, f"{case}: RTL idle at {first_idle}, model done {result.done_cycle}"
        dut._log.info("%s: %d commands over %d cycles (%s), %d too-early and %d bank-state probes rejected as "
                      "the model does", case, len(stream), result.done_cycle, counts, n_early, n_state)
