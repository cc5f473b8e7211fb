"""Clock, reset and the start -> done handshake the RTL units share, driven from cocotb testbenches.

A unit is loaded outside start..done, started by a one-cycle `start` pulse, holds `busy` while it
works and raises `done` when its result is ready. Imported by the testbenches in this folder
(the simulator finds it on the path tests/rtl/conftest.py sets).
"""
from __future__ import annotations

import numpy as np


async def clock_and_reset(dut, reset, active: int, inputs) -> None:
    """Start a 10 ns clock on `clk`, drive `inputs` to 0 and hold `reset` at level `active` for two edges."""
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge

    Clock(dut.clk, 10, unit="ns").start()
    for signal in inputs:
        signal.value = 0
    reset.value = active
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    reset.value = 1 - active


async def run_until_done(dut, limit: int = 10_000) -> int:
    """Pulse `start` (operands and modes already set), return the cycles from the start edge to `done`.

    Returns in the read-only phase of the done cycle, so the outputs can be read at once.
    """
    from cocotb.triggers import ReadOnly, RisingEdge

    dut.start.value = 1
    await RisingEdge(dut.clk)          # the start edge
    dut.start.value = 0
    cycles = 0
    while True:
        await RisingEdge(dut.clk)
        cycles += 1
        await ReadOnly()
        if dut.done.value:
            return cycles
        assert dut.busy.value, "busy dropped before done"
        assert cycles < limit, "done never came"


def unpack_int32(word: int, count: int) -> np.ndarray:
    """`count` signed 32-bit lanes of a packed output bus, lane 0 in the low bits."""
    return np.array([(word >> (32 * i)) & 0xFFFFFFFF for i in range(count)], np.uint32).view(np.int32)
