"""Iteration traces: today's phases are special cases op by op, mixed batches add up their parts,
multi-device plans and MoE routing run iterations."""
import numpy as np
import pytest

from hwsim.mapping.parallel import ParallelPlan, parallelize, parallelize_iteration
from hwsim.workload.iteration import Iteration, Seq
from hwsim.workload.model import load_model
from hwsim.workload.trace import Trace, generate_trace, iteration_trace

MODELS = ["llama2-7b", "llama3-8b", "deepseek-v2-lite", "mixtral-8x7b"]   # dense MHA, GQA, MLA + MoE, MoE


def attention_flops(trace) -> float:
    return sum(op.flops for op in trace.ops if op.kind in ("attn_score", "softmax", "attn_context"))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("phase, batch, context", [("decode", 3, 100), ("decode", 1, 0), ("prefill", 2, 17)])
def test_phases_are_iterations_op_by_op(model, phase, batch, context):
    seq = Seq(1, context) if phase == "decode" else Seq(context, 0)
    built = iteration_trace(model, Iteration((seq,) * batch))
    step = generate_trace(model, phase, batch, context)
    assert built.ops == step.ops
    assert built.routing == step.routing
    assert (built.phase, built.batch, built.tokens) == (phase, batch, step.tokens)


@pytest.mark.parametrize("model", MODELS)
def test_a_mixed_iteration_adds_up_its_parts(model):
    spec = load_model(model)
    decode, prompt, chunk = Seq(1, 300), Seq(40, 0), Seq(16, 64, False)
    mixed = iteration_trace(spec, Iteration((prompt, decode, decode, chunk)))
    parts = [iteration_trace(spec, Iteration(seqs)) for seqs in ((prompt,), (decode, decode), (chunk,))]
    assert mixed.phase == "mixed" and mixed.tokens == 40 + 2 + 16 and mixed.context == 300 + 1
    assert attention_flops(mixed) == pytest.approx(sum(attention_flops(part) for part in parts))
    head = [op for op in mixed.ops if op.name == "lm_head"]
    assert len(head) == 1 and head[0].m == 3                     # the mid-prompt chunk samples nothing
    if spec.moe is None:                                         # dense matmuls: linear in tokens
        matmul = lambda t: sum(op.flops for op in t.ops if op.kind == "matmul" and op.layer >= 0)
        assert matmul(mixed) == pytest.approx(sum(matmul(part) for part in parts))


def test_prompt_chunks_attend_to_exactly_the_whole_prompts_pairs():
    spec = load_model("llama3-8b")
    whole = iteration_trace(spec, Iteration((Seq(96, 0),)))
    chunks = [iteration_trace(spec, Iteration((Seq(32, cached, cached == 64),))) for cached in (0, 32, 64)]
    pairs = lambda t: sum(op.flops for op in t.ops if op.kind == "attn_score")
    assert pairs(whole) == pytest.approx(sum(pairs(c) for c in chunks))


def test_bad_iterations_are_one_line_errors():
    with pytest.raises(ValueError, match="new >= 1"):
        Iteration((Seq(0, 5),))
    with pytest.raises(ValueError, match="at least one"):
        Iteration(())
    with pytest.raises(ValueError, match="max_position"):
        iteration_trace("llama2-7b", Iteration((Seq(1, 4096),)))


def test_an_iteration_trace_file_keeps_its_sequences(tmp_path):
    trace = iteration_trace("llama2-7b", Iteration((Seq(8, 0), Seq(1, 20), Seq(4, 4, False))))
    trace.save(tmp_path / "it.json")
    loaded = Trace.load(tmp_path / "it.json")
    assert loaded.sequences == trace.sequences and loaded.tokens == 13 and loaded.ops == trace.ops


PLANS = [dict(tp=2, pp=2), dict(dp=2, ep=2, placement="load_balanced"), dict(dp=2, overlap="token_split")]


@pytest.mark.parametrize("plan", PLANS, ids=str)
@pytest.mark.parametrize("model", ["mixtral-8x7b", "deepseek-v2-lite"])
def test_plans_run_iterations(plan, model):
    plan, spec = ParallelPlan(**plan), load_model(model)
    decode = parallelize_iteration(plan, spec, Iteration((Seq(1, 50),) * 4))
    step = parallelize(plan, spec, "decode", 4, 50)
    assert decode.trace.ops == step.trace.ops
    assert {k: v.tolist() for k, v in decode.traffic.items()} == {k: v.tolist() for k, v in step.traffic.items()}
    mixed = parallelize_iteration(plan, spec, Iteration((Seq(12, 0), Seq(1, 30), Seq(5, 7, False), Seq(1, 9))))
    work = lambda t: sum(op.flops for op in t.ops if op.kind in ("attn_score", "attn_context"))
    alone = iteration_trace(spec, Iteration((Seq(12, 0), Seq(1, 30), Seq(5, 7, False), Seq(1, 9))))
    assert mixed.trace.phase == "mixed"
    assert work(mixed.trace) == pytest.approx(work(alone))   # attention is split, never lost
    assert np.all([op.device >= 0 for op in mixed.trace.ops])


@pytest.mark.parametrize("model", ["llama2-7b", "llama3-8b", "deepseek-v2-lite"])
def test_each_kernel_form_is_one_attention_op_per_layer_with_the_summed_work(model):
    seqs = (Seq(1, 100), Seq(1, 37), Seq(1, 512), Seq(40, 0), Seq(16, 64, False), Seq(1, 9))
    merged = iteration_trace(model, Iteration(seqs))
    spec = load_model(model)
    scores = [op for op in merged.ops if op.kind == "attn_score"]
    assert len(scores) == 2 * spec.layers                  # decode kernel + prefill/chunk (MLA: whole, rest)
    parts = [iteration_trace(model, Iteration((seq,))) for seq in seqs]
    for field in ("flops", "kv_read_bytes"):
        total = sum(getattr(op, field) for op in merged.ops if op.op_class == "attention")
        assert total == pytest.approx(sum(getattr(op, field) for t in parts for op in t.ops
                                          if op.op_class == "attention"), rel=1e-12)
    padded = max(op.n for op in scores)
    assert padded == 513                                   # padded shape: the longest keys


@pytest.mark.parametrize("model", MODELS)
def test_iterations_with_equal_work_keys_have_equal_operators(model):
    from hwsim.workload.trace import work_key
    spec = load_model(model)
    a = Iteration((Seq(1, 100), Seq(1, 50), Seq(1, 75), Seq(9, 0)))
    b = Iteration((Seq(1, 75), Seq(1, 100), Seq(1, 50), Seq(9, 0)))       # the same sequences reordered
    assert work_key(spec, a) == work_key(spec, b)
    assert iteration_trace(spec, a).ops == iteration_trace(spec, b).ops
    # equal summed work, other contexts: attention ops list each sequence's shape (PIM times them one by one)
    assert work_key(spec, a) != work_key(spec, Iteration((Seq(1, 62), Seq(1, 100), Seq(1, 63), Seq(9, 0))))
    assert work_key(spec, a) != work_key(spec, Iteration((Seq(1, 101), Seq(1, 49), Seq(1, 75), Seq(9, 0))))
