"""Trace generation: FLOP and byte totals against closed forms, DAG shape, MoE expert ops."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.precision import Precision
from hwsim.workload.routing import RoutingSpec, route
from hwsim.workload.trace import generate_trace

H, V, I, L = 64, 100, 96, 2
BF16 = Precision("bf16", "bf16", "bf16")


def spec(attention=None, ffn=None, moe=None, **fields) -> ModelSpec:
    base = dict(name="tiny", source="test", family="test", layers=L, hidden=H, vocab=V, max_position=4096,
                positional="rope", norm="rmsnorm", tied_embeddings=False,
                attention=attention or {"kind": "mha", "heads": 4},
                ffn=ffn or {"activation": "silu", "gated": True, "intermediate": I},
                published={"total_params": 1.0, "source": "test"})
    return ModelSpec.model_validate({**base, "moe": moe, **fields})


def total(trace, field="flops", **match) -> float:
    return sum(getattr(op, field) for op in trace.ops
               if all(getattr(op, key) in (value if isinstance(value, tuple) else (value,))
                      for key, value in match.items()))


GQA_SHAPES = {"mha": {"kind": "mha", "heads": 8}, "gqa": {"kind": "gqa", "heads": 8, "kv_heads": 2},
              "mqa": {"kind": "mqa", "heads": 8}}
MLA = {"kind": "mla", "heads": 4, "q_lora_rank": 24, "kv_lora_rank": 16, "qk_nope_head_dim": 8,
       "qk_rope_head_dim": 4, "v_head_dim": 12}
MOE = {"routed_experts": 8, "top_k": 2, "expert_intermediate": 32, "shared_experts": 2,
       "shared_intermediate": 16, "dense_layers": [0]}


@pytest.mark.parametrize("kind", GQA_SHAPES)
def test_dense_decode_totals_closed_form(kind):
    B, C = 3, 37
    model = spec(GQA_SHAPES[kind])
    h, g, d = 8, model.attention.n_kv_heads, H // 8
    trace = generate_trace(model, "decode", B, C, BF16)
    attn_params = H * (h + 2 * g) * d + h * d * H
    ffn_params = 3 * H * I
    assert total(trace, kind="matmul") == 2 * B * (L * (attn_params + ffn_params) + H * V)
    keys = C + 1
    assert total(trace, kind=("attn_score", "attn_context")) == L * 4 * h * d * keys * B
    vector = (4 * H * B * (2 * L + 1)          # rmsnorm: 2 per layer + final
              + 3 * B * (h + g) * d * L        # rope on Q and K
              + 5 * B * h * keys * L           # softmax
              + 2 * B * H * L                  # residual adds
              + 5 * B * I * L)                 # silu + gated product
    assert trace.totals()["flops"] == total(trace, kind="matmul") + L * 4 * h * d * keys * B + vector


def test_dense_decode_weight_bytes_are_params_plus_embedding_rows_plus_head():
    B = 5
    model = spec({"kind": "gqa", "heads": 4, "kv_heads": 2}, tied_embeddings=True)
    trace = generate_trace(model, "decode", B, 10, Precision("int4", "bf16", "fp8"))
    d, g = H // 4, 2
    non_embedding = L * (H * (4 + 2 * g) * d + 4 * d * H + 3 * H * I + 2 * H) + H   # + norm vectors
    expected = 0.5 * (non_embedding + B * H + V * H)
    assert trace.totals()["weight_bytes"] == expected
    assert total(trace, "weight_bytes", kind="embedding") == 0.5 * B * H


@pytest.mark.parametrize("kind", GQA_SHAPES)
def test_kv_bytes_mha_gqa_mqa(kind):
    B, C = 2, 50
    model = spec(GQA_SHAPES[kind])
    g, d = model.attention.n_kv_heads, H // 8
    trace = generate_trace(model, "decode", B, C, Precision("bf16", "bf16", "fp8"))
    per_token_layer = 2 * g * d * 1                 # fp8: 1 byte
    assert trace.totals()["kv_write_bytes"] == L * B * per_token_layer
    assert trace.totals()["kv_read_bytes"] == L * B * (C + 1) * per_token_layer   # once per kv head


@pytest.mark.parametrize("kind", GQA_SHAPES)
def test_rope_rows_are_tokens_and_its_columns_the_query_heads(kind):
    # m = tokens, each a row of (h + g) d elements, n = the first h d of them (Q's, before K's)
    model = spec(GQA_SHAPES[kind])
    g, d = model.attention.n_kv_heads, H // 8
    rope = next(op for op in generate_trace(model, "decode", 3, 10, BF16).ops if op.kind == "rope")
    assert (rope.m, rope.n, rope.act_out_bytes) == (3, 8 * d, 2 * 3 * (8 + g) * d)


def test_kv_bytes_scale_with_kv_heads_not_query_heads():
    reads = {kind: generate_trace(spec(shape), "decode", 1, 99, BF16).totals()["kv_read_bytes"]
             for kind, shape in GQA_SHAPES.items()}
    assert reads["mha"] == 4 * reads["gqa"] == 8 * reads["mqa"]


def test_prefill_causal_attention_is_exact():
    B, C = 2, 33
    model = spec({"kind": "gqa", "heads": 4, "kv_heads": 2})
    trace = generate_trace(model, "prefill", B, C, BF16)
    pairs = sum(i + 1 for i in range(C))
    d = H // 4
    assert total(trace, kind="attn_score") == L * 2 * 4 * d * pairs * B
    assert total(trace, kind="attn_context") == L * 2 * 4 * d * pairs * B
    assert total(trace, kind="softmax") == L * 5 * 4 * pairs * B
    assert trace.totals()["kv_write_bytes"] == L * B * C * 2 * 2 * d * 2
    head = [op for op in trace.ops if op.name == "lm_head"]
    assert len(head) == 1 and head[0].m == B and head[0].flops == 2 * B * H * V


def test_mla_decode_absorbed_and_prefill_decompressed():
    r, dr, dn, dv, h, rq = 16, 4, 8, 12, 4, 24
    model = spec(MLA)
    B, C = 2, 20
    decode = generate_trace(model, "decode", B, C, BF16)
    keys = C + 1
    assert total(decode, kind="attn_score") == L * 2 * h * (r + dr) * keys * B
    assert total(decode, kind="attn_context") == L * 2 * h * r * keys * B
    assert decode.totals()["kv_write_bytes"] == L * B * (r + dr) * 2
    assert decode.totals()["kv_read_bytes"] == L * B * keys * (2 * r + dr) * 2  # latent for score and context
    prefill = generate_trace(model, "prefill", B, C, BF16)
    pairs = C * (C + 1) // 2
    assert total(prefill, kind="attn_score") == L * 2 * h * (dn + dr) * pairs * B
    assert total(prefill, kind="attn_context") == L * 2 * h * dv * pairs * B
    assert prefill.totals()["kv_write_bytes"] == L * B * C * (r + dr) * 2
    assert prefill.totals()["kv_read_bytes"] == 0
    # both forms touch the same attention parameters
    params = H * rq + rq * h * (dn + dr) + H * (r + dr) + h * r * (dn + dv) + h * dv * H
    for trace, tokens in ((decode, B), (prefill, B * C)):
        attn = [op for op in trace.ops if op.kind == "matmul" and op.layer == 0]
        attn = [op for op in attn if not op.name.startswith("ffn")]
        assert sum(op.weight_bytes for op in attn) == 2 * params
        assert sum(op.flops for op in attn) == 2 * params * tokens


def test_mla_kv_cache_is_576_elements_at_deepseek_shape():
    model = spec({"kind": "mla", "heads": 2, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
                  "qk_rope_head_dim": 64, "v_head_dim": 128})
    trace = generate_trace(model, "decode", 1, 0, BF16)
    assert trace.totals()["kv_write_bytes"] == L * 576 * 2


def test_moe_expert_ops_follow_the_routing():
    model = spec(moe=MOE, layers=3)
    B, C = 2, 9
    T = B * C
    routing = route(model.moe, 2, T, RoutingSpec(kind="zipf", s=1.2), seed=3)
    trace = generate_trace(model, "prefill", B, C, BF16, routing=routing)
    for index, layer in enumerate((1, 2)):
        ups = {op.expert: op.m for op in trace.ops if op.layer == layer and op.name.endswith(".up")}
        shared = ups.pop(-2)
        assert ups == {e: c for e, c in enumerate(np.bincount(routing[index].ravel(), minlength=8)) if c}
        assert sum(ups.values()) == T * 2 and shared == T
    shared_up = [op for op in trace.ops if op.name == "shared.up"][0]
    assert shared_up.count == 2 and shared_up.flops == 2 * 2 * T * H * 2 * 16
    assert not [op for op in trace.ops if op.layer == 0 and op.expert != -1]


def test_moe_decode_flops_closed_form():
    model = spec(moe=MOE, layers=3)
    B, C = 4, 12
    trace = generate_trace(model, "decode", B, C, BF16, routing=RoutingSpec(kind="zipf", s=0.7), seed=2)
    d = H // 4
    attn = H * 3 * 4 * d + 4 * d * H
    dense, expert, shared, router = 3 * H * I, 3 * H * 32, 3 * H * 16, H * 8
    per_token = 3 * attn + dense + 2 * (2 * expert + 2 * shared + router) + H * V
    assert total(trace, kind="matmul") == 2 * B * per_token
    assert trace.routing["kind"] == "zipf" and trace.routing["max_over_mean"] >= 1
    again = generate_trace(model, "decode", B, C, BF16, routing=RoutingSpec(kind="zipf", s=0.7), seed=2)
    assert trace == again


def test_routing_replay_gives_the_same_trace():
    model = spec(moe={**MOE, "groups": 2, "topk_groups": 1, "routing": "group_limited"}, layers=3)
    spec_ = RoutingSpec(kind="affinity", lam=0.5)
    generated = generate_trace(model, "prefill", 2, 6, BF16, routing=spec_, seed=7)
    replay = generate_trace(model, "prefill", 2, 6, BF16, seed=7,
                            routing=route(model.moe, 2, 12, spec_, 7, tokens_per_sequence=6))
    assert generated.ops == replay.ops
    with pytest.raises(ValueError, match="does not match"):
        generate_trace(model, "prefill", 2, 5, BF16, routing=route(model.moe, 2, 12))


def test_dag_is_ordered_and_connected():
    trace = generate_trace(spec(MLA, moe=MOE, layers=3), "decode", 2, 5)
    assert [op.id for op in trace.ops] == list(range(len(trace.ops)))
    assert all(dep < op.id for op in trace.ops for dep in op.deps)
    assert [op.id for op in trace.ops if not op.deps] == [0]        # only the embedding is a source
    used = {dep for op in trace.ops for dep in op.deps}
    sinks = {op.name for op in trace.ops if op.id not in used}
    assert sinks == {"lm_head"}


def test_default_precision_follows_the_model():
    trace = generate_trace(spec(dtype="int4", activation_dtype="int8"), "decode", 1, 4)
    assert trace.precision == Precision("int4", "int8", "int8")
    assert {op.compute_dtype for op in trace.ops if op.kind == "matmul"} == {"int8"}


def test_learned_positions_and_biases_are_counted():
    model = spec({"kind": "mha", "heads": 4, "bias": True}, positional="learned", norm="layernorm",
                 ffn={"activation": "gelu", "gated": False, "intermediate": I, "bias": True})
    trace = generate_trace(model, "decode", 1, 3, BF16)
    assert not [op for op in trace.ops if op.kind == "rope"]
    emb = trace.ops[0]
    assert emb.weight_bytes == 2 * 2 * H and emb.flops == H          # token + position row, one add
    qkv = next(op for op in trace.ops if op.name == "qkv")
    assert qkv.flops == 2 * H * 3 * H + 3 * H and qkv.weight_bytes == 2 * (H + 1) * 3 * H
    norm = next(op for op in trace.ops if op.name == "attn_norm")
    assert norm.flops == 7 * H and norm.weight_bytes == 2 * 2 * H


def test_bad_steps_are_rejected():
    with pytest.raises(ValueError, match="phase"):
        generate_trace(spec(), "train", 1, 4)
    with pytest.raises(ValueError, match="max_position"):
        generate_trace(spec(), "decode", 1, 4096)
    with pytest.raises(ValueError, match="context >= 1"):
        generate_trace(spec(), "prefill", 1, 0)


@st.composite
def small_models(draw):
    heads = draw(st.sampled_from([1, 2, 4]))
    kind = draw(st.sampled_from(["mha", "gqa", "mqa", "mla"]))
    if kind == "mla":
        attention = {"kind": "mla", "heads": heads, "kv_lora_rank": draw(st.integers(1, 8)),
                     "qk_nope_head_dim": draw(st.integers(1, 8)), "qk_rope_head_dim": draw(st.integers(1, 4)),
                     "v_head_dim": draw(st.integers(1, 8)), "q_lora_rank": draw(st.sampled_from([None, 6]))}
    else:
        attention = {"kind": kind, "heads": heads, "head_dim": draw(st.integers(1, 8)),
                     **({"kv_heads": draw(st.sampled_from([h for h in (1, 2, 4) if heads % h == 0]))}
                        if kind == "gqa" else {})}
    moe = None
    if draw(st.booleans()):
        groups = draw(st.sampled_from([1, 2]))
        rule = draw(st.sampled_from(["topk", "one_per_group"] if groups == 2 else ["topk"]))
        moe = {"routed_experts": 4, "groups": groups, "routing": rule, "expert_intermediate": 4,
               "top_k": groups if rule == "one_per_group" else draw(st.integers(1, 4)),
               "shared_experts": draw(st.integers(0, 2)), "dense_layers": draw(st.sampled_from([[], [0]]))}
    return spec(attention, moe=moe, hidden=8, layers=draw(st.integers(1, 3)),
                ffn={"activation": draw(st.sampled_from(["relu", "gelu", "silu"])),
                     "gated": draw(st.booleans()), "intermediate": 8})


@settings(max_examples=40, deadline=None)
@given(small_models(), st.sampled_from(["prefill", "decode"]), st.integers(1, 3), st.integers(1, 20),
       st.sampled_from(["bf16", "int4", "ternary"]))
def test_random_small_shapes_give_finite_non_negative_work(model, phase, batch, context, weights):
    trace = generate_trace(model, phase, batch, context, Precision(weights, "bf16", "fp8"))
    fields = ("flops", "weight_bytes", "act_in_bytes", "act_out_bytes", "kv_read_bytes", "kv_write_bytes")
    values = np.array([[getattr(op, f) for f in fields] for op in trace.ops])
    assert np.isfinite(values).all() and (values >= 0).all()
    assert all(dep < op.id for op in trace.ops for dep in op.deps)
    if model.moe:
        tokens = batch * (context if phase == "prefill" else 1)
        routed = sum(op.m for op in trace.ops if op.expert >= 0 and op.name.endswith(".up"))
        moe_layers = sum(model.is_moe_layer(layer) for layer in range(model.layers))
        assert routed == moe_layers * tokens * model.moe.top_k




@pytest.mark.parametrize("name, active", [("mixtral-8x7b", 12.9e9), ("deepseek-v3", 37.0e9),
                                          ("pangu-pro-moe", 16.0e9), ("llama2-7b", 6.7e9)])
def test_presets_decode_weights_match_published_active_params(name, active):
    model = load_model(name)
    trace = generate_trace(model, "decode", 1, 128)
    bytes_per_param = {"bf16": 2, "fp16": 2, "fp8": 1}[model.dtype]
    touched = trace.totals()["weight_bytes"] / bytes_per_param
    # one embedding row instead of the table: within a few % of the publisher's active count
    assert touched == pytest.approx(active, rel=0.04)


def test_deepseek_v3_preset_mla_cache_and_routing():
    model = load_model("deepseek-v3")
    trace = generate_trace(model, "decode", 8, 1000, routing=RoutingSpec(kind="zipf", s=1.0))
    assert trace.totals()["kv_write_bytes"] == 61 * 8 * 576 * 1          # fp8 latent cache
    experts = [op for op in trace.ops if op.expert >= 0 and op.name.endswith(".up")]
    assert sum(op.m for op in experts) == 58 * 8 * 8


def test_generated_moe_trace_round_trips_through_a_file(tmp_path):
    from hwsim.workload.tracefile import Trace
    trace = generate_trace(spec(MLA, moe=MOE, layers=3), "prefill", 2, 7,
                           routing=RoutingSpec(kind="zipf", s=1.0))
    trace.save(tmp_path / "trace.json")
    assert Trace.load(tmp_path / "trace.json") == trace
