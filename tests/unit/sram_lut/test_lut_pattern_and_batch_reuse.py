"""Pattern reuse and batched LUT-GEMV (SAIL): closed forms, a Monte Carlo check, the engine by hand."""
import numpy as np
import pytest

from hwsim.components.base import run_alone
from hwsim.components.sram_lut.timing import LutUnit, distinct_patterns
from hwsim.step import simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision

SAIL_UNIT = {"g": 4, "rows": 8, "lanes": 1, "acts_per_cycle": 1, "drain": 1, "overlap": True}


def test_expected_distinct_patterns_closed_form():
    assert distinct_patterns(1, 4) == 1.0
    assert distinct_patterns(8, 4) == pytest.approx(16 * (1 - (15 / 16) ** 8))      # 6.452
    assert distinct_patterns(10_000, 4) == pytest.approx(16)


def test_expected_distinct_patterns_match_random_activation_bits():
    rng = np.random.default_rng(0)
    for draws in (2, 8, 32):
        indices = rng.integers(0, 16, size=(20_000, draws))
        counted = np.mean([len(np.unique(row)) for row in indices])
        assert counted == pytest.approx(distinct_patterns(draws, 4), rel=0.01)


def test_pattern_reuse_cuts_batch_1_int8_lookups_from_8_to_7():
    plain, reuse = LutUnit(**SAIL_UNIT), LutUnit(**SAIL_UNIT, pattern_reuse=True)
    assert plain.step_lookup_cycles(1, 8) == 8
    assert reuse.step_lookup_cycles(1, 8) == 7                       # ceil(6.452)
    bits = np.arange(1, 17)
    assert np.all(reuse.step_lookup_cycles(np.arange(1, 17), bits) <= plain.step_lookup_cycles(np.arange(1, 17), bits))
    assert reuse.step_lookup_cycles(64, 8) == 16                     # never more than 2^g patterns


def test_batched_tokens_reuse_the_tables_built_once():
    # tables of weights: rows = 8 weight rows, columns = tokens; K = 64 -> S = 16 steps, P = 4 cycles
    unit = LutUnit(**SAIL_UNIT)
    n_weights, k, bits = 16, 64, 8
    for tokens in (1, 4):
        look = tokens * bits
        per_row_block = 4 + 15 * max(4, look) + look + tokens * 1
        assert unit.cycles(n_weights, tokens, k, bits) == 2 * per_row_block
        assert unit.precompute_cycles(n_weights, k) == 2 * 16 * 4    # independent of the tokens
    assert unit.cycles(16, 4, 64, 8) < 4 * unit.cycles(16, 1, 64, 8)


def run_engine(op, **overrides):
    engine = {"type": "lut_engine", "source": "t", "clock": "1GHz", "table_of": "weights",
              "unit": SAIL_UNIT, "units": 2, "memory_bandwidth": "1GB/s", "overlap_weight_load": True}
    runs, lut = run_alone("lut", {**engine, **overrides}, [op])
    return runs[0], lut


def test_tables_of_weights_engine_by_hand():
    # 16 weight rows over 2 units (8 rows each, one row block), 1 token of int8, K = 64:
    # 4 + 15 x 8 + 8 + 1 = 133 cycles; DRAM: 16 x 64 int4 weights = 512 B + 64 B in + 16 B out = 592 ns
    op = Op(0, "gemv", "matmul", 0, 2.0 * 16 * 64, "int8", weight_bytes=16 * 64 / 2,
            act_in_bytes=64, act_out_bytes=16, m=1, n=16, k=64)
    execution, lut = run_engine(op)
    assert lut.statistics()["lookup_cycles"] == 133
    assert (execution.end_ps, execution.bound) == (592_000, "lut.memory")
    fast, _ = run_engine(op, memory_bandwidth="1TB/s")
    assert fast.end_ps == 133_000


def test_tables_of_weights_need_whole_activation_bits():
    op = Op(0, "gemv", "matmul", 0, 2.0 * 16 * 64, "int8", weight_bytes=512, act_in_bytes=60, m=1, n=16, k=64)
    with pytest.raises(ValueError, match="activations"):
        run_engine(op)


def test_sail_machine_runs_llama2_7b_and_batches_reuse_tables():
    precision = Precision("int4", "int8", "fp16")
    one = simulate("sail_n1", "llama2-7b", phase="decode", batch=1, context=256, precision=precision)
    eight = simulate("sail_n1", "llama2-7b", phase="decode", batch=8, context=256, precision=precision)
    assert one.latency_s >= one.floor_s
    assert {r.component for r in one.ops if r.kind == "matmul"} == {"sail"}
    assert one.components["sail"]["lookup_cycles"] < eight.components["sail"]["lookup_cycles"] \
        < 8 * one.components["sail"]["lookup_cycles"]
