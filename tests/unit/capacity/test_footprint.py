"""Footprints checked by hand: a dense model on one GPU, an MoE model with its experts in flash
behind an expert cache, and a tensor-parallel pair of GPUs (per-device bytes)."""
from pathlib import Path

import pytest
import yaml

from hwsim.capacity import footprint
from hwsim.engine import Simulator
from hwsim.machine import ARCHITECTURES_DIR, load_machine, machine_from_dict
from hwsim.mapping.parallel import device_trace
from hwsim.workload.model import load_model
from hwsim.workload.params import count_params
from hwsim.workload.precision import Precision

GiB = 2 ** 30


def bytes_of(machine, model, phase="decode", batch=1, context=2048, precision=None):
    """{memory: Usage} of one step, without simulating it."""
    model = load_model(model)
    precision = precision or machine.precision_for(model)
    placed = device_trace(machine.spec.parallelism, model, phase, batch, context, precision)
    fp = footprint(machine, machine.build(Simulator()), placed.trace, model, placed.placement)
    return {u.memory: u for u in fp.usages}, fp


def test_dense_llama2_7b_fp16_on_the_a100():
    usage, fp = bytes_of(load_machine("nvidia_a100_80gb"), "llama2-7b", batch=2, context=2048)
    gpu = usage["gpu.memory"]
    # weights: 6,738,415,616 parameters (HF checkpoint) x 2 B (fp16)
    assert count_params(load_model("llama2-7b")).total == 6_738_415_616
    assert gpu.weights == 6_738_415_616 * 2
    # KV: K and V x 32 layers x 32 kv heads x 128 head dim x 2 B, for 2 sequences x (2048 + 1) tokens
    assert gpu.kv == 2 * 32 * 32 * 128 * 2 * 2 * 2049
    # activations: softmax reads and writes the scores, 2 sequences x 32 heads x 2049 keys x 2 B each
    assert gpu.activations == 2 * (2 * 32 * 2049 * 2)
    assert gpu.capacity == 80 * GiB and fp.fits and (fp.batch, fp.keys) == (2, 2049)


def test_moe_with_experts_in_flash_behind_an_expert_cache():
    """edge_moe_flash, Mixtral-8x7B with int4 weights: every routed expert lives in the flash
    backing store, the rest of the weights, the KV cache and the 10 GB cache in the 16 GB LPDDR."""
    machine = load_machine("edge_moe_flash")
    usage, fp = bytes_of(machine, "mixtral-8x7b", context=2048,
                         precision=Precision(weights="int4", activations="bf16", kv_cache="bf16"))
    store, soc = usage["soc.backing"], usage["soc.memory"]
    # 32 layers x 8 experts x 3 matrices of 4096 x 14336, 0.5 B per int4 weight (not only the routed 2)
    assert store.experts == 32 * 8 * 3 * 4096 * 14336 // 2 and store.capacity is None
    # dense: token table + LM head 2 x 32000 x 4096; per layer Q, O 4096^2 and K, V 4096 x 1024 (8 kv
    # heads x 128), router 4096 x 8; norms (2 x 32 + 1) x 4096; all at 0.5 B
    dense = 2 * 32000 * 4096 + 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 4096 * 8) + 65 * 4096
    assert soc.weights == dense / 2 and soc.experts == 0
    assert soc.kv == 2 * 32 * 8 * 128 * 2 * 2049
    assert soc.reserved == 10 * GiB and soc.capacity == 16 * GiB
    assert soc.needs == pytest.approx(10 * GiB + dense / 2 + 2 * 32 * 8 * 128 * 2 * 2049 + soc.activations)
    assert fp.fits


def _tp2():
    data = yaml.safe_load(Path(ARCHITECTURES_DIR, "h100_8gpu_nvlink.yaml").read_text())
    data["name"] = "h100-tp2"
    data["components"]["gpu"]["count"] = 2
    data["components"]["nvlink"]["ranks"] = 2
    data["parallelism"] = {"tp": 2}
    return machine_from_dict(data)


def test_tensor_parallel_splits_matrices_and_the_kv_cache_but_not_norms_or_the_embedding():
    usage, fp = bytes_of(_tp2(), "llama2-7b", batch=4, context=1024)
    H, I, V, L = 4096, 11008, 32000, 32
    matrices = L * (4 * H * H + 3 * H * I) + V * H          # attention, FFN, LM head: split in 2
    whole = V * H + (2 * L + 1) * H                         # token table and norms: on both ranks
    for rank in (0, 1):
        gpu = usage[f"gpu[{rank}].memory"]
        assert gpu.weights == 2 * (matrices / 2 + whole)
        # 16 of the 32 kv heads per rank: 2 x 32 layers x 16 x 128 x 2 B x 4 sequences x 1025 tokens
        assert gpu.kv == 2 * 32 * 16 * 128 * 2 * 4 * 1025
    assert fp.fits


def test_pipeline_stages_hold_their_layers_and_token_split_counts_weights_once():
    data = yaml.safe_load(Path(ARCHITECTURES_DIR, "h100_8gpu_nvlink.yaml").read_text())
    data["components"]["gpu"]["count"] = 2
    data["components"]["nvlink"]["ranks"] = 2
    data["parallelism"] = {"pp": 2, "overlap": "token_split"}
    usage, _ = bytes_of(machine_from_dict(data), "llama2-7b", batch=2, context=16)
    H, I, V = 4096, 11008, 32000
    layer = 4 * H * H + 3 * H * I + 2 * H
    assert usage["gpu[0].memory"].weights == 2 * (V * H + 16 * layer)
    assert usage["gpu[1].memory"].weights == 2 * (16 * layer + H + V * H)   # final norm, LM head
    assert usage["gpu[0].memory"].kv == 2 * 16 * 32 * 128 * 2 * 2 * 17      # both halves' sequences


def test_expert_parallel_devices_hold_their_placed_experts():
    machine = load_machine("h100_8gpu_nvlink")
    usage, _ = bytes_of(machine, "deepseek-v2-lite", batch=8, context=64)
    model = load_model("deepseek-v2-lite")
    counts = count_params(model)
    per_device = [usage[f"gpu[{d}].memory"].experts for d in range(8)]
    assert sum(per_device) == counts.experts_routed * 2            # round robin: each expert once
    assert len(set(per_device)) == 1


def test_components_sharing_a_memory_are_checked_against_it_once():
    """TeLLMe on the KV260: the LUT engine, the ARM cores and the fabric share the K26's 4 GB DDR4."""
    usage, _ = bytes_of(load_machine("tellme_kv260"), "bitnet-b1.58-0.7b", context=1000)
    assert list(usage) == ["fabric.memory"] and usage["fabric.memory"].capacity == 4 * GiB
    model = load_model("bitnet-b1.58-0.7b")
    counts = count_params(model)
    # every parameter once, ternary (1.6 bits) as the run's weight format
    assert usage["fabric.memory"].weights == pytest.approx(counts.total * 1.6 / 8)


def test_memory_of_a_missing_component_is_a_clear_error():
    data = yaml.safe_load(Path(ARCHITECTURES_DIR, "tmac_m2ultra.yaml").read_text())
    data["components"]["cpu"]["memory_of"] = "gpu"
    with pytest.raises(ValueError, match="component 'cpu' keeps its bytes in 'gpu' \\(memory_of\\), which the machine"):
        bytes_of(machine_from_dict(data), "llama2-7b", context=16)


def test_llm_in_a_flash_keeps_the_ffn_in_flash_and_the_rest_in_the_dram_budget():
    usage, fp = bytes_of(load_machine("llm_in_a_flash"), "opt-6.7b", context=1000)
    counts = count_params(load_model("opt-6.7b"))
    assert usage["weights.flash"].weights == counts.ffn_dense * 2 and usage["weights.flash"].capacity is None
    host = usage["host.memory"]
    assert host.weights == (counts.total - counts.ffn_dense) * 2 and host.capacity == 6.5 * GiB
    assert host.kv == 2 * 32 * 4096 * 2 * 1001 and fp.fits       # 32 layers, MHA 32 x 128, fp16


def test_kv_of_a_kernel_form_at_unequal_contexts_is_the_sum_over_its_sequences():
    from hwsim.workload.iteration import Iteration, Seq
    from hwsim.workload.trace import iteration_trace
    machine, model = load_machine("nvidia_a100_80gb"), load_model("llama2-7b")
    trace = iteration_trace(model, Iteration((Seq(1, 100), Seq(1, 900), Seq(30, 0))), machine.precision_for(model))
    fp = footprint(machine, machine.build(Simulator()), trace, model)
    per_token = 2 * model.layers * model.attention.n_kv_heads * model.head_dim * 2     # K and V, bf16
    assert sum(u.kv for u in fp.usages) == per_token * (101 + 901 + 30)
