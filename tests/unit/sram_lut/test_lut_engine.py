"""`lut_engine` component: exact op times by hand, weight formats read from op bytes, machines."""
import pytest

from hwsim.components.base import run_alone
from hwsim.machine import load_machine
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision

ENGINE = {"type": "lut_engine", "source": "test", "clock": "1GHz",
          "unit": {"g": 4, "lanes": 4, "acts_per_cycle": 4, "drain": 1}, "units": 2,
          "memory_bandwidth": "1GB/s", "ternary_planes": 2}


def run(op, **overrides):
    runs, lut = run_alone("lut", {**ENGINE, **overrides}, [op])
    return runs[0], lut


def gemv(bits, name="gemv", n=8, k=16):
    return Op(0, name, "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * bits / 8,
              act_in_bytes=16, act_out_bytes=16, m=1, n=n, k=k)


def test_two_bit_gemv_by_hand():
    # per unit 4 columns: 4 steps x 1 precompute + 2 planes x 4 steps + 1 drain = 13 cycles = 13 ns;
    # DRAM: 8 cols x 4 groups x 4 bits x 2 planes / 8 = 32 B weights + 32 B activations = 64 ns
    execution, lut = run(gemv(2))
    assert (execution.start_ps, execution.end_ps) == (0, 77_000)
    assert lut.statistics()["lookup_cycles"] == 13
    assert execution.bound == "lut.memory"


def test_overlapped_weight_load_takes_the_max():
    assert run(gemv(2), overlap_weight_load=True)[0].end_ps == 64_000


def test_ternary_runs_as_two_planes_like_int2():
    assert run(gemv(1.6))[0].end_ps == run(gemv(2))[0].end_ps


def test_tellme_ternary_patterns_one_lookup_per_three_weights():
    # g=3, 16 lanes, 28 tables, 1 activation/cycle: q-proj 1536x1536 (K padded to 1596 = 19 x 84)
    op = Op(0, "q", "matmul", 0, 2.0 * 1536 * 1536, "int8", weight_bytes=1536 * 1536 * 1.6 / 8,
            m=1, n=1536, k=1536)
    execution, lut = run(op, clock="250MHz", units=1, ternary_planes=1, ternary_index_bits=5,
                         memory_bandwidth="19.2GB/s",
                         unit={"g": 3, "lanes": 16, "tables": 28, "acts_per_cycle": 1, "drain": 1})
    cycles = 19 * 84 + 19 * 96 + 96
    weight_bytes = 1536 * 19 * 28 * 5 / 8
    assert lut.statistics()["lookup_cycles"] == cycles
    assert execution.end_ps == pytest.approx((cycles / 250e6 + weight_bytes / 19.2e9) * 1e12, abs=1)


TLMM = {"clock": "250MHz", "units": 1, "ternary_planes": 1, "ternary_index_bits": 5,
        "memory_bandwidth": "19.2GB/s", "memory_efficiency": 0.75,
        "unit": {"g": 3, "lanes": 16, "tables": 28, "acts_per_cycle": 1, "drain": 1,
                 "weight_banks": 8, "weight_ports": 1},
        "weight_buffer": {"cols": 1536, "steps": 19, "word_bits": 768, "cols_per_word": 5}}


@pytest.mark.parametrize("n, k, regions", [(1536, 1536, 1), (4096, 1536, 3), (1536, 4096, 3)])
def test_tellme_weight_buffer_layout_and_bank_ports(n, k, regions):
    """load_weight.hpp: 19 x 308 words of 96 B per region; DDR at 75% of 19.2 GB/s; II 2 lookups."""
    op = Op(0, "linear", "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * 1.6 / 8, m=1, n=n, k=k)
    execution, lut = run(op, **TLMM)
    steps, cols = -(-(-(-k // 3)) // 28), n // 16
    cycles = steps * 84 + steps * 2 * cols + cols
    words = regions * 19 * 308
    assert lut.statistics()["lookup_cycles"] == cycles
    assert lut.statistics()["dram_bytes"] == words * 96
    assert execution.end_ps == pytest.approx((cycles / 250e6 + words * 96 / 14.4e9) * 1e12, abs=1)


def test_weight_words_bound_the_load_when_dram_is_faster():
    op = Op(0, "linear", "matmul", 0, 2.0 * 1536 * 1536, "int8", weight_bytes=1536 * 1536 * 1.6 / 8,
            m=1, n=1536, k=1536)
    execution, _ = run(op, **{**TLMM, "memory_bandwidth": "1TB/s"})
    cycles = 19 * 84 + 19 * 2 * 96 + 96
    assert execution.end_ps == pytest.approx((cycles + 19 * 308) * 4000, abs=1)


def test_rejects_weights_wider_than_the_engine():
    with pytest.raises(ValueError, match="8-bit weights"):
        run(gemv(8))


@pytest.mark.parametrize("weights", ["int2", "int3", "int4"])
def test_low_bit_dense_model_runs_bit_serial(weights):
    from hwsim.components.sram_lut.timing import LutUnit
    from hwsim.step import simulate
    from hwsim.workload.trace import generate_trace
    from hwsim.workload.model import load_model

    machine = load_machine("tmac_m2ultra")
    precision = Precision(weights, "int8", "int8")
    report = simulate(machine, "llama2-7b", phase="decode", batch=1, context=128, precision=precision)
    unit = LutUnit(g=4, lanes=16, tables=2, acts_per_cycle=4, drain=1)
    bits = int(weights[-1])
    trace = generate_trace(load_model("llama2-7b"), "decode", 1, 128, precision=precision)
    expected = sum(op.count * int(unit.cycles(op.m, -(-op.n // 16), op.k, bits))
                   for op in trace.ops if op.kind == "matmul")
    assert report.components["cpu"]["lookup_cycles"] == expected


def test_tellme_machine_runs_bitnet_within_its_roofline():
    from hwsim.step import simulate
    report = simulate("tellme_kv260", "bitnet-b1.58-0.7b", phase="decode", batch=1, context=64,
                      precision=Precision("ternary", "int8", "fp16"))
    assert report.latency_s >= report.floor_s
    assert {r.component for r in report.ops if r.name == "lm_head"} == {"arm"}


def test_units_tile_rows_and_columns_on_the_best_grid():
    # 4 units, lanes 4: a 4 x 4 (m x n) GEMM over k=16 (4 steps of 1 precompute cycle).
    # 1 x 4 grid: 4 rows x (4 + 4 + 1) = 36 cycles; 2 x 2: 2 x 9 = 18; 4 x 1: 1 x (4 + 4 + 1) = 9.
    op = Op(0, "gemm", "matmul", 0, 2.0 * 4 * 4 * 16, "int8", weight_bytes=4 * 16 / 8, m=4, n=4, k=16)
    _, lut = run(op, units=4, memory_bandwidth="1TB/s")
    assert lut.statistics()["lookup_cycles"] == 9
