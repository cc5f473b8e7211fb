"""Parallelism plans: work is conserved across devices, collectives are where each plan needs
them and take their closed forms when alone, token splitting overlaps communication with compute."""
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from hwsim.components.interconnect.presets import link_preset
from hwsim.config.errors import ConfigError
from hwsim.machine import ARCHITECTURES_DIR, load_machine, machine_from_dict
from hwsim.mapping.parallel import ParallelPlan, parallelize, tp_share
from hwsim.mapping.placement import device_load, place
from hwsim.step import simulate
from hwsim.workload.model import load_model
from hwsim.workload.routing import route
from hwsim.workload.trace import generate_trace


def _node(gpus: int = 8, **plan):
    """The 8-GPU H100 node with `plan`; with `gpus=1`, one of its datasheet GPUs on its own (no per-kernel
    fixed costs, which every rank would pay again)."""
    data = yaml.safe_load(Path(ARCHITECTURES_DIR, "h100_8gpu_nvlink.yaml").read_text())
    data["components"]["gpu"]["count"] = gpus
    data.pop("parallelism")
    if plan:
        data["parallelism"] = plan
    return machine_from_dict(data)


def _flops(ops, kind="matmul"):
    return sum(op.flops for op in ops if op.kind == kind)


def test_expert_parallel_trace_conserves_work_and_routes_the_dispatch_bytes():
    model = load_model("deepseek-v3")
    ids = route(model.moe, 58, 16, seed=3)
    single = generate_trace(model, "decode", 16, 128, routing=ids)
    plan = ParallelPlan(dp=8, ep=8)
    placed = parallelize(plan, model, "decode", 16, 128, routing=ids)
    ops = placed.trace.ops
    assert _flops(ops) == pytest.approx(_flops(single.ops), rel=1e-12)
    experts = [op for op in ops if op.expert >= 0 and op.name.endswith(".up")]
    served = np.zeros(8, dtype=int)
    for op in experts:
        served[op.device] += op.m
    assert served.tolist() == device_load(place("round_robin", 8, 256, 58), ids).sum(axis=0).tolist()
    dispatches = [op for op in ops if op.kind == "dispatch"]
    combines = [op for op in ops if op.kind == "combine"]
    assert len(dispatches) == len(combines) == 58
    hidden_bytes = 7168 * 1                                   # fp8 activations
    for dispatch, combine in zip(dispatches, combines):
        matrix = placed.traffic[dispatch.id]
        assert matrix.sum() == dispatch.act_out_bytes and (matrix % hidden_bytes == 0).all()
        assert (placed.traffic[combine.id] == matrix.T).all()
        assert (dispatch.device, dispatch.group, dispatch.collective) == (0, 8, "all_to_all")
    assert {op.device for op in ops if op.name == "qkv" or op.name == "q_a"} == set(range(8))


def test_tensor_parallel_all_reduces_take_their_closed_form_when_alone():
    report = simulate(_node(tp=8), "llama2-7b", phase="decode", batch=1, context=512)
    reduces = [r for r in report.ops if r.kind == "collective"]
    assert len(reduces) == 2 * 32                             # after o_proj and ffn.down in every layer
    nvlink = link_preset("nvlink4_h100")
    shard = 4096 * 2 // 8                                     # one token's hidden vector in bf16, over 8 ranks
    # ring all-reduce through the switch with NCCL's LL protocol (the machine's protocols): 6.6 us base
    # + 14 steps x 0.6 us, then 14 serialisations of the shard at 87.7 GB/s (LL's cap, under a quarter
    # of 378), i.e. the shard inflated by 378 / 87.7 at the link's sustained rate
    inflated = math.ceil(shard * 378e9 / 87.7e9)
    for record in reduces:
        assert record.end_ps - record.start_ps == round((6.6e-6 + 14 * 0.6e-6) * 1e12) \
            + 14 * nvlink.serialisation_ps(inflated)
    single = simulate(_node(gpus=1), "llama2-7b", phase="decode", batch=1, context=512)   # the node's GPU, alone
    # ranks are identical and nothing overlaps: the step is one rank's compute plus the all-reduces
    busy = report.device_busy_s()
    assert report.latency_s == pytest.approx(busy[0] + sum(r.duration_s for r in reduces), rel=1e-9)
    assert sum(busy.values()) == pytest.approx(single.latency_s, rel=0.02)   # work is split, not added


@pytest.mark.parametrize("model, tp, query, key", [("llama2-7b", 8, 4, 4), ("llama3-8b", 8, 4, 1),
                                                   ("llama3-8b", 2, 16, 4)])
def test_a_tensor_parallel_rank_ropes_its_own_query_and_key_heads(model, tp, query, key):
    # rope is split by heads: each rank's row is its query heads' and KV heads' elements (128 each),
    # and n, the query columns the kernel walks first, is its query heads'
    rope = next(op for op in generate_trace(load_model(model), "decode", 4, 16).ops if op.kind == "rope")
    share = tp_share(rope, tp)
    assert (share.m, share.n) == (4, query * 128)
    assert share.act_out_bytes == rope.act_out_bytes / tp == 4 * (query + key) * 128 * 2


@pytest.mark.parametrize("model, tp", [("llama2-7b", 4), ("llama3-8b", 8)])
def test_a_tensor_parallel_ranks_attention_has_its_own_heads_shape(model, tp):
    # the attention kernels' count (sequences x heads) and kv_write's K/V elements per token are
    # split with their work, so a rank's op is the shape of a model with heads / tp, not the whole
    # model's shape with fewer FLOPs
    spec = load_model(model)
    ops = {op.kind: op for op in generate_trace(spec, "decode", 4, 16).ops if op.layer == 0}
    for kind in ("attn_score", "softmax", "attn_context"):
        share = tp_share(ops[kind], tp)
        assert share.count == 4 * spec.attention.heads // tp
        assert share.flops / share.count == ops[kind].flops / ops[kind].count       # per head: unchanged
    write = tp_share(ops["kv_write"], tp)
    assert write.n == 2 * spec.attention.n_kv_heads // tp * spec.head_dim
    assert write.kv_write_bytes / (write.m * write.n) == ops["kv_write"].kv_write_bytes / (ops["kv_write"].m * ops["kv_write"].n)


def test_pipeline_stages_hand_off_the_hidden_state():
    model = load_model("llama2-7b")
    placed = parallelize(ParallelPlan(pp=2, dp=2), model, "decode", 4, 64)
    ops = placed.trace.ops
    sends = [op for op in ops if op.collective == "send"]
    assert [(op.device, op.device + op.group - 1) for op in sends] == [(0, 2), (1, 3)]
    assert all(op.act_out_bytes == 2 * 4096 * 2 for op in sends)     # 2 tokens per replica, bf16
    assert {op.device for op in ops if op.layer == 31} == {2, 3} and {op.device for op in ops if op.layer == 0} == {0, 1}
    assert _flops(ops) == pytest.approx(_flops(generate_trace(model, "decode", 4, 64).ops), rel=1e-12)


def test_token_split_overlaps_one_halfs_all_reduce_with_the_other_halfs_compute():
    plain = simulate(_node(tp=8), "llama2-7b", phase="prefill", batch=2, context=1024)
    split = simulate(_node(tp=8, overlap="token_split"), "llama2-7b", phase="prefill", batch=2, context=1024)
    assert split.latency_s < plain.latency_s
    compute = [(r.start_ps, r.end_ps) for r in split.ops if r.component == "gpu[0]"]
    overlapped = [r for r in split.ops if r.kind == "collective"
                  and any(start < r.end_ps and r.start_ps < end for start, end in compute)]
    assert len(overlapped) > 32


def test_deepseek_v3_decode_on_the_8_gpu_node_reports_per_layer_compute_dispatch_and_imbalance():
    # fp8 weights need 92 GiB per GPU (a replicated dense part plus 1/8 of the experts): int4 fits in 80 GB
    machine, model = load_machine("h100_8gpu_nvlink"), load_model("deepseek-v3")
    report = simulate(machine, model, phase="decode", batch=32, context=1024,
                      precision=machine.precision_for(model, weights="int4"))
    rows = {row["layer"]: row for row in report.layer_breakdown()}
    assert rows[0]["dispatch_s"] == 0 and rows[0]["compute_s"] > 0           # dense layers 0-2
    for layer in range(3, 61):
        assert rows[layer]["dispatch_s"] > 0 and rows[layer]["combine_s"] > 0 and rows[layer]["imbalance_s"] >= 0
    assert sum(row["imbalance_s"] for row in rows.values()) > 0
    data = report.to_dict()
    assert len(data["devices"]["busy_s"]) == 8 and data["parallel"]["expert_load"]["imbalance_mean"] > 1
    assert "per layer" in report.summary() and "device busy max/mean" in report.summary()


def test_pangu_on_grouped_placement_loads_every_device_equally():
    report = simulate(_node(dp=8, ep=8, placement="grouped"), "pangu-pro-moe", batch=8, context=256)
    pairs = report.parallel["expert_load"]["per_device_pairs"]
    assert pairs == [8 * 48] * 8 and report.parallel["expert_load"]["imbalance_worst"] == 1.0


def test_plans_and_counts_that_do_not_fit_are_config_errors():
    with pytest.raises(ConfigError, match="needs ep == dp and tp == 1"):
        _node(tp=2, dp=4, ep=8)
    with pytest.raises(ConfigError, match="8 copies, but the parallelism plan uses 4 devices"):
        _node(tp=4)
    with pytest.raises(ValueError, match="does not split into 8 replicas x 2 halves"):
        simulate(_node(dp=8, overlap="token_split"), "llama2-7b", batch=8, context=16)
