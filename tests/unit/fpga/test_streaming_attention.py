"""TeLLMe's attention units (hwsim/components/fpga/attention.py): the closed forms against a walk of
the HLS loops (reverse_attention.hpp, decode_attention.hpp) one iteration at a time, the component's
op times, and the unit in the tellme_kv260 machine."""
import math

import pytest

from hwsim.components.base import run_alone
from hwsim.components.fpga.attention import decode_cycles, prefill_cycles
from hwsim.workload.ops import Op

UNIT = {"type": "streaming_attention", "source": "test", "clock": "250MHz", "heads": 16, "lanes": 16,
        "parallel": 8, "adders": 32, "memory_bandwidth": "19.2GB/s"}


def walk_prefill(tokens, blocks=96, heads=16, lanes=16, parallel=8, adders=32):
    """fuse_qkv_pe_bundle_block_stream, loop by loop: VEC_COMPUTE iterations each wait for their half
    adds on the shared adders, VEC_REDUCE a cycle a head, PARTIAL_SOFT_MAX and OUTPUT one a cycle."""
    score = softmax = context = 0
    for q_dim in range(0, tokens, parallel):                  # Q_DIM
        for _kv_dim in range(q_dim, tokens):                  # KV_DIM
            for _block in range(blocks):                      # VEC_COMPUTE
                adds = parallel * (lanes + 1)                 # 16-term dot product + attn_dim_block +=
                score += -(-adds // adders)
            softmax += heads                                  # VEC_REDUCE
            context += parallel * heads                       # PARTIAL_SOFT_MAX
        context += parallel * blocks                          # OUTPUT
    return {"attn_score": score, "softmax": softmax, "attn_context": context}


@pytest.mark.parametrize("tokens", [1, 7, 8, 16, 64, 100, 128])
def test_prefill_closed_form_matches_the_loop_walk(tokens):
    assert prefill_cycles(tokens, 96, 16, 16, 8, 32) == walk_prefill(tokens)


def test_prefill_by_hand_16_tokens():
    # 2 groups: 16 + 8 = 24 query-group x key pairs; II = ceil(8 x 17 / 32) = 5
    assert prefill_cycles(16, 96, 16, 16, 8, 32) == {"attn_score": 24 * 96 * 5, "softmax": 24 * 16,
                                                     "attn_context": 24 * 8 * 16 + 2 * 8 * 96}


def test_decode_score_pass_then_output_pass():
    assert decode_cycles(65, 96, 16) == {"attn_score": 65 * 112, "softmax": 0, "attn_context": 65 * 112 + 96}


def _op(kind, queries, keys, sequences=1, head_dim=96):
    heads = 16 * sequences
    shape = dict(m=queries, k=keys, n=head_dim) if kind == "attn_context" else dict(m=queries, k=head_dim, n=keys)
    return Op(0, kind, kind, 0, 2.0 * queries * keys * head_dim * heads, "fp16", count=heads, **shape)


def test_op_time_is_cycles_over_clock_and_a_batch_runs_its_sequences_in_turn():
    runs, unit = run_alone("attention", UNIT, [_op("attn_score", 1, 65), _op("attn_context", 1, 65, sequences=2)])
    assert runs[0].end_ps - runs[0].start_ps == math.ceil(65 * 112 / 250e6 * 1e12)
    assert runs[1].end_ps - runs[1].start_ps == math.ceil(2 * (65 * 112 + 96) / 250e6 * 1e12)
    assert unit.statistics()["cycles"] == 65 * 112 + 2 * (65 * 112 + 96)


@pytest.mark.parametrize("op, message", [
    (_op("attn_score", 5, 9), "5 queries over 9 keys"),
    (Op(0, "attn_score", "attn_score", 0, 1.0, "fp16", count=12, m=1, n=4, k=96), "not a multiple of the unit's 16"),
    (Op(0, "qkv", "matmul", 0, 1.0, "fp16", m=1, n=4, k=96), "runs attention ops"),
])
def test_ops_the_unit_cannot_run_are_one_line_errors(op, message):
    with pytest.raises(ValueError, match=message):
        run_alone("attention", UNIT, [op])


def test_tellme_decode_runs_its_attention_on_the_unit():
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    report = simulate("tellme_kv260", "bitnet-b1.58-0.7b", phase="decode", batch=1, context=64,
                      precision=Precision("ternary", "int8", "fp16"))
    assert {r.component for r in report.ops if r.kind in ("attn_score", "softmax", "attn_context")} == {"attention"}
    assert report.components["attention"]["cycles"] == 24 * (65 * 112 + 65 * 112 + 96)
