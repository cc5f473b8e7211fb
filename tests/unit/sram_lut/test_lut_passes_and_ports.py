"""`lut_engine` passes (ops run as column slices, top_bitnet.hpp) and DRAM ports narrower than a weight word."""
import pytest

from hwsim.components.base import run_alone
from hwsim.workload.ops import Op

TLMM = {"type": "lut_engine", "source": "test", "clock": "250MHz", "units": 1, "ternary_planes": 1,
        "ternary_index_bits": 5, "memory_bandwidth": "19.2GB/s", "memory_efficiency": 0.75,
        "unit": {"g": 3, "lanes": 16, "tables": 28, "acts_per_cycle": 1, "drain": 1,
                 "weight_banks": 8, "weight_ports": 1},
        "weight_buffer": {"cols": 1536, "steps": 19, "word_bits": 768, "cols_per_word": 5}}
Q_CYCLES = 19 * 84 + 19 * 2 * 96 + 96      # 19 K blocks: 84 activations in, 96 column blocks at II 2, drain
REGION_BYTES = 19 * 308 * 96               # 19 x 308 words of 768 bit


def linear(name, n, k=1536):
    return Op(0, name, "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * 1.6 / 8,
              act_in_bytes=k, act_out_bytes=n, m=1, n=n, k=k)


def run(op, **overrides):
    runs, lut = run_alone("lut", {**TLMM, **overrides}, [op])
    return runs[0], lut.statistics()


def test_fused_qkv_runs_as_three_q_sized_passes():
    (split, split_stats), (one_q, q_stats) = run(linear("qkv", 4608), passes={"qkv": 3}), run(linear("q", 1536))
    assert split_stats["lookup_cycles"] == 3 * Q_CYCLES == 3 * q_stats["lookup_cycles"]
    assert split_stats["dram_bytes"] == 3 * (REGION_BYTES + 1536 + 1536)
    assert split.end_ps == pytest.approx(3 * one_q.end_ps, abs=3)


def test_passes_cost_one_table_build_per_extra_pass():
    _, fused = run(linear("qkv", 4608))
    _, split = run(linear("qkv", 4608), passes={"qkv": 3})
    assert split["lookup_cycles"] - fused["lookup_cycles"] == 2 * 19 * 84


def test_ops_not_named_run_whole():
    assert run(linear("o_proj", 1536), passes={"qkv": 3})[0].end_ps == run(linear("o_proj", 1536))[0].end_ps


def test_passes_must_split_the_columns_evenly():
    with pytest.raises(ValueError, match="not 5 equal passes"):
        run(linear("qkv", 4608), passes={"qkv": 5})


def test_narrow_ports_stretch_each_word_load():
    # 768-bit words through 3 x 128-bit ports: 2 cycles a word; DRAM made fast so the ports bound the load
    buffer = {**TLMM["weight_buffer"], "port_bits": 384}
    execution, _ = run(linear("q", 1536), memory_bandwidth="1TB/s", weight_buffer=buffer)
    assert execution.end_ps == pytest.approx((Q_CYCLES + 2 * 19 * 308) * 4000, abs=1)


def test_ports_as_wide_as_the_word_change_nothing():
    buffer = {**TLMM["weight_buffer"], "port_bits": 768}
    assert run(linear("q", 1536), weight_buffer=buffer)[0].end_ps == run(linear("q", 1536))[0].end_ps


def test_tellme_decode_engine_time_in_closed_form():
    """One decode token on tellme_kv260: per layer Q, K, V, O (1536 x 1536), gate and up (4096 x 1536),
    down (1536 x 4096, 49 K blocks), each call clearing 256 accumulator blocks first; 13 regions of
    19 x 308 words, 2 cycles a word; 4 ns cycles."""
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    report = simulate("tellme_kv260", "bitnet-b1.58-0.7b", phase="decode", batch=1, context=64,
                      precision=Precision("ternary", "int8", "fp16"))
    up = 19 * 84 + 19 * 2 * 256 + 256
    down = 49 * 84 + 49 * 2 * 96 + 96
    lookups = 24 * (4 * Q_CYCLES + 2 * up + down + 7 * 256)
    tlmm = report.components["tlmm"]
    assert tlmm["lookup_cycles"] == lookups
    assert tlmm["busy_s"] == pytest.approx((lookups + 2 * 24 * 13 * 19 * 308) * 4e-9, rel=1e-12)
