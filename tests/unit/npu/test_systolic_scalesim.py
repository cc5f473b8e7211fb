"""Peer check: compute cycles printed by real SCALE-Sim 3.0.0 runs (CALC mode, GEMM input).

Measured once with `pip install scalesim` (numpy 1.26.4, pandas 2.2.3) in a separate venv;
'Total Cycles' of COMPUTE_REPORT.csv. SCALE-Sim is not a project dependency.
"""
import pytest

from hwsim.components.npu.systolic import SystolicArray

# (M, N, K, rows, cols): (ws, os, is)
SCALESIM_CYCLES = {
    (64, 64, 64, 32, 32): (631, 503, 631),
    (100, 37, 50, 8, 8): (4269, 4159, 5368),
    (1, 1, 1, 4, 4): (10, 6, 10),
    (5, 7, 3, 4, 4): (29, 35, 33),
    (33, 17, 65, 16, 8): (1064, 782, 1374),
    (3, 200, 11, 8, 4): (2099, 1049, 435),
    (13, 13, 13, 1, 1): (2365, 2196, 2365),
    (64, 64, 1, 8, 8): (687, 959, 687),
    (24, 81, 38, 2, 5): (10012, 8771, 8359),
    (70, 5, 129, 32, 16): (739, 524, 2074),
}


@pytest.mark.parametrize("shape, cycles", SCALESIM_CYCLES.items(), ids=str)
def test_equals_scalesim(shape, cycles):
    m, n, k, rows, cols = shape
    model = tuple(SystolicArray(rows, cols, df).scalesim_cycles(m, n, k) for df in ("ws", "os", "is"))
    assert model == cycles
