"""MTP speculative decoding (hwsim.mapping.mtp): tokens per step in closed form, DeepSeek-V3's MTP
module counted parameter by parameter, and a step made of its verify and draft passes."""
import pytest

from hwsim.mapping.mtp import accepted_tokens, mtp_module, mtp_step
from hwsim.step import simulate, simulate_iteration
from hwsim.workload.iteration import Iteration, Seq
from hwsim.workload.model import load_model
from hwsim.workload.params import count_params


@pytest.mark.parametrize("acceptance, drafts, tokens", [(0.7, 1, 1.7), (0.5, 3, 1.875), (1.0, 2, 3.0), (0.0, 4, 1.0)])
def test_tokens_per_step_is_the_geometric_sum_of_kept_drafts(acceptance, drafts, tokens):
    assert accepted_tokens(acceptance, drafts) == pytest.approx(tokens, rel=1e-12)


@pytest.mark.parametrize("acceptance, drafts", [(1.2, 1), (-0.1, 1), (0.7, 0)])
def test_impossible_speculation_is_a_one_line_error(acceptance, drafts):
    with pytest.raises(ValueError, match="MTP needs"):
        accepted_tokens(acceptance, drafts)


def test_deepseek_v3_mtp_module_is_one_moe_block_with_the_shared_embedding_and_head():
    h, v, inter, experts = 7168, 129280, 2048, 256
    mla = (h * 1536 + 1536 + 1536 * 128 * 192 + h * (512 + 64) + 512 + 512 * 128 * (128 + 128) + 128 * 128 * h)
    moe = (experts + 1) * 3 * h * inter + experts * h          # routed + shared experts, router
    expected = 2 * v * h + mla + moe + 3 * h                   # embedding, head; three RMSNorms (attn, ffn, final)
    module = mtp_module(load_model("deepseek-v3"))
    assert module.layers == 1 and module.is_moe_layer(0)
    assert count_params(module).total == pytest.approx(expected, rel=1e-4)


def test_a_dense_model_has_no_deepseek_mtp_module():
    with pytest.raises(ValueError, match="MoE block"):
        mtp_module(load_model("llama2-7b"))


def test_an_mtp_step_is_its_verify_pass_plus_one_module_pass_per_draft():
    from hwsim.machine import load_machine
    machine, model = load_machine("nvidia_h100_sxm"), load_model("deepseek-v2-lite")
    one, two = (mtp_step(machine, model, 4, 256, acceptance=0.7, drafts=d) for d in (1, 2))
    precision = machine.precision_for(model)
    verify = simulate_iteration(machine, model, Iteration((Seq(2, 256),) * 4), precision).latency_s
    plain = simulate(machine, model, phase="decode", batch=4, context=256).latency_s
    assert one.verify_s == verify and one.tokens_per_sequence == pytest.approx(1.7)
    assert two.draft_s == pytest.approx(2 * one.draft_s, rel=1e-12) and two.verify_s > one.verify_s
    assert plain <= verify < 2 * plain       # a second token per sequence reuses the weights it reads
    assert one.latency_s == one.verify_s + one.draft_s and 0 < one.draft_s < plain
