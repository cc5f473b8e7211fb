"""Flash die RTL vs the flash channel kernel: same schedule, same GEMV results, same page data.

Random command sequences (read-compute pages on plane 0, page reads with sliced data-out on the
other plane, on two or three dies sharing one bus, with Slice Control's bus priority or a FIFO bus)
are timed by `simulate_channel` with the KernelTimes that
`in_flash_compute.kernel_times` derives from a scaled-down geometry (1 cycle = 1 ns: an 8-bit bus at
1000 MT/s moves a byte per cycle; tR, core rate, buffers and command lengths are the RTL's
parameters). The testbench replays the kernel's bus log on rtl_models/flash_die cycle by cycle;
the die must be ready for every bus job exactly when the kernel starts it (status pins), every page
must enter the cache register and every core must finish a page in the very cycle the kernel says
(event pins), the read-out partial sums must equal numpy's int8 GEMV and the data-out bytes the
programmed pages.
"""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hwsim.components.flash.channel_kernel import simulate_channel
from hwsim.components.flash.in_flash_compute import ComputeCore, Policy, kernel_times
from hwsim.components.flash.page_reads import KernelTimes
from hwsim.components.flash.presets import flash_preset

cocotb = pytest.importorskip("cocotb", reason="cocotb 2.x is not installed (pip install -e .[dev])")
from cocotb.clock import Clock  # noqa: E402
from cocotb.triggers import FallingEdge, ReadOnly  # noqa: E402

HDL = Path(__file__).resolve().parents[2] / "rtl_models" / "flash_die" / "hdl"
# read-bound (tR 300 > core 64 cycles) and core-bound (core 128 > tR 100, 1-8 input and 1-8 output slots)
BUILDS = [{"DIES": 2, "PAGE_BYTES": 256, "PAGES": 8, "PLANES": 2, "T_READ": 300, "MACS": 4, "IBUF_BYTES": 256,
           "OBUF_BYTES": 256, "MIN_COLS": 8},
          {"DIES": 3, "PAGE_BYTES": 128, "PAGES": 4, "PLANES": 2, "T_READ": 100, "MACS": 1, "IBUF_BYTES": 64,
           "OBUF_BYTES": 64, "MIN_COLS": 8}]
CMD_CYCLES = 5                     # opcode, plane, page, column, confirm
NS = 1000                          # ps per cycle


@pytest.mark.rtl
@pytest.mark.parametrize("parameters", BUILDS, ids=["read_bound", "core_bound"])
def test_flash_die_rtl(run_cocotb, parameters):
    run_cocotb("flash_die", sources=[HDL / "flash_die.sv", HDL / "flash_channel.sv"], toplevel="flash_channel",
               test_module="test_flash_die", parameters=parameters)


def cycle_times(p: dict, cols: int, n_slices: int) -> KernelTimes:
    """The model's KernelTimes for the RTL's parameters `p`, in cycles."""
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=p["DIES"], dies_per_chip=1,
                     planes_per_die=p["PLANES"], page_size=f"{p['PAGE_BYTES']}B", t_read=f"{p['T_READ']}ns",
                     command_overhead=f"{CMD_CYCLES}ns")
    core = ComputeCore(throughput=f"{p['MACS']}GB/s", input_buffer=f"{p['IBUF_BYTES']}B",
                       output_buffer=f"{p['OBUF_BYTES']}B", result_bytes=4)
    policy = Policy(slice_size=f"{p['PAGE_BYTES'] // n_slices}B", slice_overhead=f"{CMD_CYCLES}ns")
    t = kernel_times(g, core, policy, p["PAGE_BYTES"] // cols, cols, 1)
    fields = {k: v for k, v in vars(t).items()}
    for name in ("command", "read", "core", "input", "result", "slice"):
        assert fields[name] % NS == 0, (name, fields[name])
        fields[name] //= NS
    return KernelTimes(**fields)


def test_scaled_model_matches_the_rtl_protocol():
    t = cycle_times(BUILDS[0], cols=32, n_slices=4)
    assert (t.command, t.read, t.core, t.input, t.result, t.slice, t.n_slices, t.input_slots, t.output_slots) == \
        (5, 300, 64, 5 + 32, 5 + 8 * 4, 5 + 64, 4, 8, 8)
    t = cycle_times(BUILDS[1], cols=16, n_slices=2)
    assert (t.read, t.core, t.input, t.result, t.slice, t.input_slots, t.output_slots) == \
        (100, 128, 5 + 16, 5 + 8 * 4, 5 + 64, 4, 2)


# ---- cocotb side (runs inside the simulator) -------------------------------------------------

def command(op, a, b, c, confirm):
    return [(1, 0, v) for v in (op, a, b, c, confirm)]


class Scenario:
    """Random pages, vectors and page counts, and the kernel's schedule for them."""

    def __init__(self, rng, p: dict):
        self.p = p
        self.dies, self.planes, self.page_bytes = p["DIES"], p["PLANES"], p["PAGE_BYTES"]
        self.cols = int(rng.choice([c for c in (8, 16, 32, 64, 128) if p["MIN_COLS"] <= c <= p["IBUF_BYTES"]]))
        self.n_slices = int(rng.choice([2, 4, 8]))
        self.pages = rng.integers(-128, 128, (self.dies, self.planes, p["PAGES"], self.page_bytes), dtype=np.int8)
        self.n_rc = rng.integers(0, 5, self.dies)
        self.n_norm = rng.integers(0, 4, (self.dies, self.planes))
        self.n_norm[self.n_rc > 0, 0] = 0                  # plane 0 feeds the core when the die computes
        self.rc_pages = [rng.integers(0, p["PAGES"], n) for n in self.n_rc]
        self.read_pages = [[rng.integers(0, p["PAGES"], n) for n in row] for row in self.n_norm]
        self.vectors = rng.integers(-128, 128, (max(self.n_rc.max(), 1), self.cols), dtype=np.int8)
        self.priority = bool(rng.integers(2))                # Slice Control's bus priority, or a FIFO bus
        t = replace(cycle_times(p, self.cols, self.n_slices), priority=self.priority)
        out = simulate_channel(self.n_rc, self.n_norm, t.command, t.read, t.core, t.input, t.result, t.slice,
                               t.n_slices, True, True, t.input_slots, t.output_slots, t.priority)
        self.end, self.bus_log, self.events = out[0], out[5], out[6]

    def program(self):
        """(die, address, byte) of every page the scenario reads."""
        for d in range(self.dies):
            for p in range(self.planes):
                for page in set(self.read_pages[d][p].tolist()) | set(self.rc_pages[d].tolist() if p == 0 else []):
                    base = (p * self.p["PAGES"] + page) * self.page_bytes
                    for i, v in enumerate(self.pages[d, p, page]):
                        yield d, base + i, int(v) & 0xFF

    def jobs(self):
        """(start, ce mask, bus cycles, status check, tag) per bus job of the kernel's log."""
        issued, sliced = {}, {}
        col_log2 = self.cols.bit_length() - 1
        rows = self.page_bytes // self.cols
        step = self.page_bytes // self.n_slices
        inputs = 0
        for kind, d, p, _ready, start, stop in self.bus_log.tolist():
            if kind == 0:
                q = inputs
                inputs += 1
                mask = sum(1 << die for die in range(self.dies) if self.n_rc[die] > q)
                cycles = command(0x8C, 0, 0, col_log2, 0x1C) + [(0, 1, int(v) & 0xFF) for v in self.vectors[q]]
                check, tag = ("input_ready", mask), None
            elif kind == 1:
                i = issued.setdefault((d, "rc"), 0)
                issued[(d, "rc")] += 1
                mask, cycles = 1 << d, command(0x0C, 0, int(self.rc_pages[d][i]), col_log2, 0x3C)
                check, tag = ("plane_ready", 1 << (d * self.planes)), None
            elif kind == 2:
                mask = 1 << d
                cycles = command(0x0E, 0, 0, 0, 0xE1) + [(0, 0, 0)] * (4 * rows)
                check, tag = ("result_ready", mask), ("result", d)
            elif kind == 3:
                i = issued.setdefault((d, p), 0)
                issued[(d, p)] += 1
                mask, cycles = 1 << d, command(0x00, p, int(self.read_pages[d][p][i]), 0, 0x30)
                check, tag = ("plane_ready", 1 << (d * self.planes + p)), None
            else:
                k = sliced.setdefault((d, p), 0)
                sliced[(d, p)] += 1
                column = (k % self.n_slices) * step
                mask = 1 << d
                cycles = command(0x05, p, column >> 8, column & 0xFF, 0xE0) + [(0, 0, 0)] * step
                check, tag = ("data_ready", 1 << (d * self.planes + p)), ("page", d, p)
            assert stop - start == len(cycles), f"kernel job {kind} lasts {stop - start} cycles, protocol {len(cycles)}"
            yield start, mask, cycles, check, tag

    def expected_events(self):
        moves, done = {}, {}
        for what, d, p, t in self.events.tolist():
            (done if what == 1 else moves).setdefault((d, p) if what != 1 else d, []).append(t)
        return {k: sorted(v) for k, v in moves.items()}, {k: sorted(v) for k, v in done.items()}


def bits(signal) -> int:
    return signal.value.to_unsigned()


async def run_scenario(dut, s: Scenario):
    dut.rst_n.value = 0
    for d, address, byte in s.program():
        await FallingEdge(dut.clk)
        dut.prog_we.value, dut.prog_die.value, dut.prog_addr.value, dut.prog_data.value = 1, d, address, byte
    await FallingEdge(dut.clk)
    dut.prog_we.value = 0
    await FallingEdge(dut.clk)
    dut.rst_n.value = 1
    plan = {}                                         # cycle -> (ce, (cmd, we, byte), tag)
    for start, mask, cycles, check, tag in s.jobs():
        for i, c in enumerate(cycles):
            assert start + i not in plan, "the kernel overlapped two bus jobs"
            plan[start + i] = (mask, c, tag, check if i == 0 else None)
    moves, done = {}, {}
    read_bytes = {}
    for t in range(s.end + 2):
        await FallingEdge(dut.clk)                    # cycle t: state after edge t, drive the bus
        move, core_done = bits(dut.ev_move), bits(dut.ev_core_done)
        for d in range(s.dies):
            if core_done >> d & 1:
                done.setdefault(d, []).append(t)
            for p in range(s.planes):
                if move >> (d * s.planes + p) & 1:
                    moves.setdefault((d, p), []).append(t)
        if t not in plan:
            dut.bus_valid.value = 0
            continue
        mask, (is_cmd, we, byte), tag, check = plan[t]
        if check is not None:
            name, need = check
            assert bits(getattr(dut, name)) & need == need, f"cycle {t}: {name} not set for the kernel's job"
        dut.ce.value, dut.bus_valid.value, dut.bus_cmd.value, dut.bus_we.value = mask, 1, is_cmd, we
        dut.bus_din.value = byte
        if tag is not None and not is_cmd:
            await ReadOnly()
            read_bytes.setdefault(tag, []).append(bits(dut.bus_dout))
    assert bits(dut.error) == 0, "the die flagged a protocol violation"
    want_moves, want_done = s.expected_events()
    assert moves == want_moves, f"cache-register moves: RTL {moves} vs model {want_moves}"
    assert done == want_done, f"core completions: RTL {done} vs model {want_done}"
    rows = s.page_bytes // s.cols
    for d in range(s.dies):
        got = np.array(read_bytes.get(("result", d), []), np.uint8).view("<i4").reshape(-1, rows)
        want = np.stack([s.pages[d, 0, page].reshape(rows, s.cols).astype(np.int64) @ s.vectors[j].astype(np.int64)
                         for j, page in enumerate(s.rc_pages[d])]) if s.n_rc[d] else np.zeros((0, rows))
        np.testing.assert_array_equal(got, want, err_msg=f"die {d} partial sums")
        for p in range(s.planes):
            got = np.array(read_bytes.get(("page", d, p), []), np.uint8).view(np.int8)
            want = np.concatenate([s.pages[d, p, page] for page in s.read_pages[d][p]] or [np.zeros(0, np.int8)])
            np.testing.assert_array_equal(got, want, err_msg=f"die {d} plane {p} data-out")


@cocotb.test()
async def random_command_sequences_match_the_kernel(dut):
    Clock(dut.clk, 10, unit="ns").start()
    params = {name: int(getattr(dut, name).value) for name in BUILDS[0]}
    for signal in (dut.ce, dut.bus_valid, dut.bus_cmd, dut.bus_we, dut.bus_din, dut.prog_we, dut.prog_die,
                   dut.prog_addr, dut.prog_data):
        signal.value = 0
    rng = np.random.default_rng(7)
    for n in range(16):
        s = Scenario(rng, params)
        await run_scenario(dut, s)
        dut._log.info("scenario %d: cols %d, %d slices, %s bus, rc %s, reads %s: %d cycles, schedule and data = "
                      "model", n, s.cols, s.n_slices, "priority" if s.priority else "FIFO", s.n_rc.tolist(),
                      s.n_norm.tolist(), s.end)
