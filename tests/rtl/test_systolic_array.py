"""Systolic array RTL vs the Python models: same numbers as numpy, same cycles as the cycle model.

The cocotb test folds random int8 GEMMs with `iter_folds` (the model's schedule), runs every fold
on rtl_models/systolic_array, and requires each fold's start -> done cycles to equal
`SystolicArray.fold_cycles(T)`, their sum to equal `compute_cycles(M, N, K)` and the assembled
output to equal numpy's. Operand loading and result reading happen outside start..done (as in
SCALE-Sim's compute cycles, which exclude SRAM prefetch). Input-stationary runs as weight-
stationary on the transposed product, as `iter_folds` schedules it.
"""
from pathlib import Path

import numpy as np
import pytest

from hwsim.components.npu.systolic import Dataflow, SystolicArray
from hwsim.components.npu.systolic_folds import Fold, iter_folds
from handshake import clock_and_reset, run_until_done, unpack_int32

cocotb = pytest.importorskip("cocotb", reason="cocotb 2.x is not installed (pip install -e .[dev])")
from cocotb.triggers import ReadOnly, RisingEdge  # noqa: E402

HDL = Path(__file__).resolve().parents[2] / "rtl_models" / "systolic_array" / "hdl"

# (M, N, K): multiples of the array, ragged edges, vectors, a single element, long streams.
SHAPES = [(4, 4, 4), (8, 8, 8), (5, 7, 3), (10, 6, 9), (1, 1, 1), (1, 9, 13), (17, 5, 11), (13, 1, 40),
          (64, 6, 7), (6, 7, 64)]
ARRAYS = [{"ROWS": 4, "COLS": 4, "DEPTH": 64}, {"ROWS": 3, "COLS": 5, "DEPTH": 64}]


@pytest.mark.rtl
@pytest.mark.parametrize("parameters", ARRAYS, ids=lambda p: f"{p['ROWS']}x{p['COLS']}")
def test_systolic_array_rtl(run_cocotb, parameters):
    run_cocotb("systolic_array", sources=[HDL / "systolic_pe.sv", HDL / "systolic_array.sv"],
               toplevel="systolic_array", test_module="test_systolic_array", parameters=parameters)


# ---- cocotb side (runs inside the simulator) -------------------------------------------------

def pack(values, bits):
    return sum((int(v) & ((1 << bits) - 1)) << (bits * i) for i, v in enumerate(values))


async def run_fold_on_rtl(dut, fold: Fold, cols: int):
    """Load the fold, run it; return (result, cycles from the start edge to done)."""
    for name, vectors in (("left", fold.left), ("top", fold.top)):
        for address, vector in enumerate(vectors):
            getattr(dut, f"{name}_we").value = 1
            getattr(dut, f"{name}_addr").value = address
            getattr(dut, f"{name}_data").value = pack(vector, 8)
            await RisingEdge(dut.clk)
        getattr(dut, f"{name}_we").value = 0
    dut.os_mode.value = int(fold.mode is Dataflow.OS)
    dut.len.value = fold.t
    cycles = await run_until_done(dut)
    rows_out = fold.t if fold.mode is Dataflow.WS else fold.left.shape[1]
    result = []
    for address in range(rows_out):
        await RisingEdge(dut.clk)
        dut.out_addr.value = address
        await RisingEdge(dut.clk)
        await ReadOnly()
        result.append(unpack_int32(dut.out_data.value.to_unsigned(), cols))
    await RisingEdge(dut.clk)
    return np.array(result), cycles


@cocotb.test()
async def random_gemms_match_numpy_and_cycle_model(dut):
    rows, cols = len(dut.left_data) // 8, len(dut.top_data) // 8
    await clock_and_reset(dut, dut.rst_n, 0, (dut.left_we, dut.top_we, dut.start, dut.os_mode, dut.len, dut.out_addr))
    rng = np.random.default_rng(rows * 10 + cols)
    for m, n, k in SHAPES:
        for dataflow in Dataflow:
            a = rng.integers(-128, 128, (m, k), dtype=np.int8)
            b = rng.integers(-128, 128, (k, n), dtype=np.int8)
            model = SystolicArray(rows, cols, dataflow)
            out = np.zeros((m, n), np.int32)
            total = 0
            for fold in iter_folds(a, b, rows, cols, dataflow):
                result, cycles = await run_fold_on_rtl(dut, fold, cols)
                assert cycles == model.fold_cycles(fold.t), \
                    f"{dataflow.value} {m}x{n}x{k}: fold took {cycles}, model {model.fold_cycles(fold.t)}"
                fold.place(out, result)
                total += cycles
            assert total == model.compute_cycles(m, n, k)
            np.testing.assert_array_equal(out, a.astype(np.int64) @ b.astype(np.int64),
                                          err_msg=f"{dataflow.value} {m}x{n}x{k}")
            dut._log.info("%s %dx%dx%d on %dx%d: %d cycles = model", dataflow.value, m, n, k, rows, cols, total)
