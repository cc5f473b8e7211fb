"""LUT unit RTL vs the Python models: same numbers as `lut_matmul`, same cycles as `LutUnit`.

The cocotb test loads random int8 activation rows and random 1-4-bit weight codes (unsigned and
two's complement) into rtl_models/lut_unit, runs start -> done, and requires every lane's output
to equal `functional.lut_matmul` (itself equal to numpy) and the cycle count to equal
`LutUnit(g=G, lanes=LANES, acts_per_cycle=G, drain=1).cycles(1, LANES, K, bits)`.
Operand loading happens outside start..done.
"""
from pathlib import Path

import numpy as np
import pytest

from hwsim.components.sram_lut import functional as lut
from hwsim.components.sram_lut.timing import LutUnit
from handshake import clock_and_reset, run_until_done, unpack_int32

HDL = Path(__file__).resolve().parents[2] / "rtl_models" / "lut_unit" / "hdl"
UNITS = [{"G": 4, "LANES": 4, "MAX_GROUPS": 16}, {"G": 2, "LANES": 3, "MAX_GROUPS": 8}]
CASES_PER_UNIT = 40


@pytest.mark.rtl
@pytest.mark.parametrize("parameters", UNITS, ids=lambda p: f"g{p['G']}x{p['LANES']}")
def test_lut_unit_rtl(run_cocotb, parameters):
    run_cocotb("lut_unit", sources=[HDL / "lut_unit.v"], toplevel="lut_unit",
               test_module="test_lut_unit", parameters=parameters)


# ---- cocotb side (runs inside the simulator) -------------------------------------------------

def weight_words(q: np.ndarray, bits: int, g: int) -> np.ndarray:
    """(lanes, groups) words: plane p's g bits at [p*g, p*g+g), bit j = activation j of the group."""
    planes = lut.bit_planes(q, bits).astype(np.int64)                  # (bits, lanes, K)
    grouped = planes.reshape(bits, q.shape[0], -1, g)
    shifts = (np.arange(bits)[:, None] * g + np.arange(g)[None, :])    # (bits, g)
    return (grouped << shifts[:, None, None, :]).sum(axis=(0, 3))


def act_words(a: np.ndarray, g: int) -> list[int]:
    return [sum((int(v) & 0xFF) << (8 * j) for j, v in enumerate(group)) for group in a.reshape(-1, g)]


async def run_tile(dut, a, q, bits, signed, g, lanes):
    """Load one tile, run it; return (outputs, cycles from the start edge to done)."""
    from cocotb.triggers import RisingEdge

    for address, word in enumerate(act_words(a, g)):
        dut.a_we.value, dut.a_addr.value, dut.a_data.value = 1, address, word
        await RisingEdge(dut.clk)
    dut.a_we.value = 0
    for lane, row in enumerate(weight_words(q, bits, g)):
        for address, word in enumerate(row):
            dut.w_we.value, dut.w_lane.value, dut.w_addr.value, dut.w_data.value = 1, lane, address, int(word)
            await RisingEdge(dut.clk)
    dut.w_we.value = 0
    dut.bits.value, dut.signed_w.value, dut.n_groups.value = bits, int(signed), a.size // g
    cycles = await run_until_done(dut)
    result = unpack_int32(dut.out_flat.value.to_unsigned(), lanes)
    await RisingEdge(dut.clk)
    return result, cycles


try:
    import cocotb
except ImportError:   # collected by pytest without cocotb: the pytest test above skips
    cocotb = None

if cocotb is not None:
    @cocotb.test()
    async def random_tiles_match_functional_and_cycle_model(dut):
        g, lanes, max_groups = int(dut.G.value), int(dut.LANES.value), int(dut.MAX_GROUPS.value)
        model = LutUnit(g=g, lanes=lanes, acts_per_cycle=g, drain=1)
        await clock_and_reset(dut, dut.rst, 1, (dut.a_we, dut.w_we, dut.start, dut.bits, dut.signed_w, dut.n_groups))
        rng = np.random.default_rng(g * 100 + lanes)
        for case in range(CASES_PER_UNIT):
            bits, signed = int(rng.integers(1, 5)), bool(rng.integers(2))
            groups = max_groups if case == 0 else int(rng.integers(1, max_groups + 1))
            lo, hi = lut.code_range(bits, signed)
            a = rng.integers(-128, 128, (1, groups * g)).astype(np.int8)
            q = rng.integers(lo, hi + 1, (lanes, groups * g))
            if case == 1:   # extremes: -128 activations against the most negative / largest codes
                a[:] = -128
                q[:] = lo if signed else hi
            result, cycles = await run_tile(dut, a, q, bits, signed, g, lanes)
            expected = lut.lut_matmul(a, q, bits, signed=signed, g=g)[0]
            np.testing.assert_array_equal(result, expected, err_msg=f"case {case}: bits {bits} signed {signed}")
            np.testing.assert_array_equal(expected, a.astype(np.int64)[0] @ q.T)
            assert cycles == model.cycles(1, lanes, groups * g, bits), \
                f"case {case}: RTL took {cycles} cycles, model {model.cycles(1, lanes, groups * g, bits)}"
        dut._log.info("%d random tiles on G=%d LANES=%d: values and cycles equal the model",
                      CASES_PER_UNIT, g, lanes)
