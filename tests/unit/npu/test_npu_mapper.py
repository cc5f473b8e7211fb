"""Tiling mapper: exact plans on small cases; search never worse than the heuristic."""
import numpy as np
import pytest

from hwsim.components.npu.mapper import GemmWork, plan_gemm, streaming_dataflow
from hwsim.components.npu.systolic import Dataflow, SystolicArray

FAST_NOC = 1e12   # bytes per cycle: the on-chip network never limits


def work(m, n, k, count=1, e=1.0):
    return GemmWork(m, n, k, count, e * count * m * k, e * count * k * n, e * count * m * n)


def test_one_tile_runs_the_systolic_closed_form():
    for df in ("ws", "os", "is"):
        plan = plan_gemm(work(100, 70, 50), 1, 8, 8, 1, FAST_NOC, df)
        assert plan.tiles_used == 1
        assert plan.tile_cycles == SystolicArray(8, 8, df).compute_cycles(100, 70, 50)


def test_products_are_dealt_to_tiles_first():
    plan = plan_gemm(work(64, 64, 64, count=4), 4, 8, 8, 1, FAST_NOC, "ws")
    assert (plan.split_count, plan.split_m, plan.split_n) == (4, 1, 1)
    assert plan.tile_cycles == SystolicArray(8, 8, "ws").compute_cycles(64, 64, 64)


def test_output_grid_split_over_tiles():
    # ws on 8x8: cycles = ceil(k/8) ceil(n_t/8) (m_t + 22); splitting n by 4 cuts the column folds 4x
    plan = plan_gemm(work(16, 64, 8), 4, 8, 8, 1, FAST_NOC, "ws")
    assert plan.tile_cycles == 2 * (16 + 22)
    assert (plan.split_m, plan.split_n) == (1, 4)


def test_heuristic_streams_the_longest_extent():
    assert streaming_dataflow(2048, 64, 64) is Dataflow.WS
    assert streaming_dataflow(1, 64, 4096) is Dataflow.OS
    assert streaming_dataflow(1, 12288, 4096) is Dataflow.IS


def test_noc_bytes_count_operand_replication():
    plan = plan_gemm(work(16, 64, 8), 4, 8, 8, 1, FAST_NOC, "ws")
    w = work(16, 64, 8)
    assert plan.noc_bytes == w.a_bytes * plan.split_n + w.b_bytes * plan.split_m + w.c_bytes


def test_slow_network_pushes_the_split_to_less_replication():
    fast = plan_gemm(work(256, 256, 8), 16, 8, 8, 1, FAST_NOC, "ws", "search")
    slow = plan_gemm(work(256, 256, 8), 16, 8, 8, 1, 1.0, "ws", "search")
    assert slow.noc_bytes < fast.noc_bytes or slow.tiles_used < fast.tiles_used


@pytest.mark.parametrize("shape", [(1, 4096, 4096, 1), (2048, 12288, 4096, 1), (1, 2049, 128, 32),
                                   (37, 53, 91, 3), (2048, 128, 1024, 32)])
def test_search_never_worse_than_heuristic(shape):
    w = work(*shape, e=2.0)
    for noc in (FAST_NOC, 64.0):
        heuristic = plan_gemm(w, 64, 16, 16, 1, noc, "auto", "heuristic")
        search = plan_gemm(w, 64, 16, 16, 1, noc, "auto", "search")
        cost = lambda p: max(p.tile_cycles, p.noc_bytes / noc)  # noqa: E731
        assert cost(search) <= cost(heuristic)
        assert search.tiles_used <= 64


def test_busiest_tile_never_beats_perfect_balance():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m, n, k, count, tiles = (int(x) for x in rng.integers(1, 300, 5))
        plan = plan_gemm(work(m, n, k, count), tiles, 4, 4, 1, FAST_NOC, "auto", "search")
        assert plan.tile_cycles * tiles * 16 >= m * n * k * count
