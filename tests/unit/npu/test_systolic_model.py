"""Systolic array: closed-form cycles vs the per-cycle reference, fold counts, exact numbers."""
import numpy as np
import pytest

from hwsim.components.npu.systolic import Dataflow, SystolicArray, spatio_temporal
from hwsim.components.npu.systolic_folds import gemm, iter_folds
from systolic_reference import run_fold

# (M, N, K, rows, cols): multiples and non-multiples of the array, 1 x 1 arrays, skinny GEMMs.
SHAPES = [(8, 8, 8, 4, 4), (5, 7, 3, 4, 4), (10, 6, 9, 3, 5), (1, 1, 1, 2, 2), (7, 3, 11, 1, 1),
          (1, 9, 13, 4, 2), (12, 1, 5, 2, 3), (6, 5, 1, 4, 4), (9, 9, 9, 8, 2)]


def random_int8(rng, shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def run_reference(a, b, rows, cols, dataflow):
    """(C, cycles) of the whole GEMM on the per-cycle reference, folded like the hardware."""
    out = np.zeros((a.shape[0], b.shape[1]), np.int32)
    cycles = 0
    for fold in iter_folds(a, b, rows, cols, dataflow):
        result, fold_cycles = run_fold(fold)
        fold.place(out, result)
        cycles += fold_cycles
    return out, cycles


@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("m, n, k, rows, cols", SHAPES)
def test_closed_form_equals_per_cycle_reference(m, n, k, rows, cols, dataflow):
    rng = np.random.default_rng(m * 1000 + n * 100 + k)
    a, b = random_int8(rng, (m, k)), random_int8(rng, (k, n))
    out, cycles = run_reference(a, b, rows, cols, dataflow)
    np.testing.assert_array_equal(out, a.astype(np.int64) @ b.astype(np.int64))
    assert cycles == SystolicArray(rows, cols, dataflow).compute_cycles(m, n, k)


@pytest.mark.parametrize("dataflow, expected", [("ws", (3, 2)), ("os", (2, 2)), ("is", (3, 3))])
def test_fold_counts(dataflow, expected):
    # M=7, N=5, K=9 on 4 x 3. Rows hold K (ws, is) or M (os); columns hold N (ws, os) or M (is).
    array = SystolicArray(4, 3, dataflow)
    assert array.folds(7, 5, 9) == expected
    folds = list(iter_folds(np.zeros((7, 9), np.int8), np.zeros((9, 5), np.int8), 4, 3, dataflow))
    assert len(folds) == expected[0] * expected[1]
    assert {f.t for f in folds} == {spatio_temporal(7, 5, 9, dataflow)[2]}


def test_fold_cycles_by_hand():
    # 32 x 32 weight-stationary fold streaming 512 rows: 32 load + 512 + 32 + 32 - 2.
    assert SystolicArray(32, 32, "ws").fold_cycles(512) == 606
    assert SystolicArray(32, 32, "os").fold_cycles(512) == 574
    assert SystolicArray(32, 32, "ws").compute_cycles(512, 512, 512) == 16 * 16 * 606


def test_vectorized_over_shapes():
    array = SystolicArray(16, 8, "os")
    m = np.array([1, 16, 17, 100])
    expected = [array.compute_cycles(int(x), 40, 30) for x in m]
    np.testing.assert_array_equal(array.compute_cycles(m, 40, 30), expected)


def test_macs_per_pe_cycle_packs_the_reduction_dimension():
    int8 = SystolicArray(8, 8, "os", macs_per_pe_cycle=2)
    assert int8.compute_cycles(64, 64, 100) == SystolicArray(8, 8, "os").compute_cycles(64, 64, 50)
    ws = SystolicArray(8, 8, "ws", macs_per_pe_cycle=4)
    assert ws.folds(64, 64, 64) == (2, 8)   # K = 64 packs into 16 PE rows -> 2 row folds
    assert ws.utilization(64, 64, 64) == pytest.approx(64**3 / (8 * 8 * 4 * 16 * (8 + 64 + 8 + 8 - 2)))


def test_gemm_is_int8_in_int32_accumulate_with_wraparound():
    a = np.full((1, 2**17 + 4), -128, np.int8)
    b = np.full((2**17 + 4, 1), -128, np.int8)
    exact = (2**17 + 4) * 2**14
    assert gemm(a, b)[0, 0] == exact - 2**32   # int32 accumulators wrap
    assert gemm(a, b).dtype == np.int32
    with pytest.raises(ValueError):
        gemm(np.array([[200]]), np.array([[1]]))
