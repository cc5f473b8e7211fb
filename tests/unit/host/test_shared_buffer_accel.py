"""CENT's shared-buffer accelerator: cycle counts equal CENT's own formulas (cent_power_calculator.py,
run_sim.py calculate_acc_latency) for Llama2-13B at sequence length 2304."""

import pytest

from hwsim.components.base import run_alone
from hwsim.components.host.shared_buffer_accel import SharedBufferTiming
from hwsim.workload.ops import Op

CENT = SharedBufferTiming(clock="2GHz")          # defaults are CENT's values
HEADS, TOKENS, DIM = 40, 2304, 5120


def vector_op(kind, elements, **fields):
    return Op(0, kind, kind, 0, 1.0 * elements, "bf16", act_out_bytes=2.0 * elements, **fields)


def test_pass_rounds_read_every_units_vector_through_one_buffer_port():
    # 92160 scores = 5760 vectors = 180 rounds of 32: EXP 32 x 1 + 11 + 1, ADD 32 x 2 + 1 + 1
    assert CENT.pass_cycles(HEADS * TOKENS, 1, 11) == 180 * 44
    assert CENT.pass_cycles(HEADS * TOKENS, 2, 1) == 180 * 66
    assert CENT.pass_cycles(16 * 33, 1, 11) == 44 + (1 + 11 + 1)          # a partial last round


def test_softmax_matches_cent_formula_when_rounds_are_whole():
    cent = TOKENS * HEADS / 16 / 32 * (44 + 66) + HEADS * 1 + HEADS * (16 + 2 / 8 + 1)
    assert CENT.op_cycles(vector_op("softmax", HEADS * TOKENS, count=HEADS, m=1)) == pytest.approx(cent)
    assert cent / 2e9 == pytest.approx(10.265e-6)


def test_norm_reduces_pim_partials_then_rsqrt_on_riscv():
    # 5120 / 16 = 320 partials = 20 vectors in one round: 20 x 2 + 1 + 1; RED + SB RD + SB WR + 26
    assert CENT.op_cycles(vector_op("norm", DIM)) == 42 + 3 + 26


def test_rope_runs_three_cycles_per_element_over_eight_cores():
    assert CENT.op_cycles(vector_op("rope", 2 * DIM)) == 2 * DIM * 3 / 8          # CENT RotEmbed: 1.92 us


def test_component_times_ops_in_order_and_rejects_unknown_kinds():
    raw = {"type": "shared_buffer_accel", "source": "t", "timing": {"clock": "2GHz"}, "power": "2W"}
    runs, accel = run_alone("accel", raw, [vector_op("rope", 2 * DIM), vector_op("norm", DIM)])
    assert [r.end_ps for r in runs] == [3840 * 500, (3840 + 71) * 500]
    assert runs[0].energy_j == pytest.approx(2.0 * 3840 * 500e-12)
    assert accel.statistics()["buffer_used"] == 3840 + 71
    with pytest.raises(ValueError, match="no program for topk"):
        CENT.op_cycles(vector_op("topk", 8))
