"""mapping.kv_prefetch: cached K/V loads move to `kv_load` ops that wait only for the layer's input,
so they overlap the Q/K/V projections (Cambricon-LLM Fig. 5). The rewrite conserves work, keeps the
trace well formed, and on a two-device machine saves exactly the overlapped time."""
import pytest

from hwsim.machine import Mapping, load_machine, machine_from_dict
from hwsim.mapping.kv_prefetch import prefetch_kv
from hwsim.mapping.offload import decode_steps
from hwsim.step import run_trace, simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import Trace, generate_trace

INT8 = Precision("int8", "int8", "int8")
FIELDS = ("flops", "weight_bytes", "act_in_bytes", "act_out_bytes", "kv_write_bytes")
CASES = [("gpt2-small", "decode", 2, 64), ("llama3-8b", "decode", 1, 100), ("deepseek-v2-lite", "decode", 2, 30),
         ("llama3-8b", "prefill", 1, 16), ("deepseek-v2-lite", "prefill", 1, 8)]


def with_prefetch(name: str):
    data = load_machine(name).spec.model_dump(mode="json")
    data["mapping"]["kv_prefetch"] = True
    return machine_from_dict(data)


def trace_layers(trace: Trace) -> int:
    return len({op.layer for op in trace.ops if op.layer >= 0})


@pytest.mark.parametrize("model, phase, batch, context", CASES)
def test_rewrite_conserves_work_per_kind_and_keeps_the_trace_well_formed(model, phase, batch, context):
    trace = generate_trace(model, phase, batch, context)
    moved, new_id = prefetch_kv(trace)
    before, after = trace.totals_by("kind"), moved.totals_by("kind")
    for kind, totals in before.items():
        for name in FIELDS:
            assert after[kind][name] == pytest.approx(totals[name], rel=1e-12)
    kv_read = sum(before.get(kind, {}).get("kv_read_bytes", 0.0) for kind in ("attn_score", "attn_context"))
    kv_moved = sum(after.get(kind, {}).get("kv_read_bytes", 0.0) for kind in ("attn_score", "attn_context", "kv_load"))
    assert kv_moved == pytest.approx(kv_read, rel=1e-12)
    assert moved.totals()["total_bytes"] == pytest.approx(trace.totals()["total_bytes"], rel=1e-12)
    assert [op.id for op in moved.ops] == list(range(len(moved.ops)))
    assert all(d < op.id for op in moved.ops for d in op.deps)
    assert [moved.ops[i] for i in new_id] == [op for op in moved.ops if op.kind != "kv_load"]


@pytest.mark.parametrize("model, phase, batch, context", CASES)
def test_a_load_precedes_exactly_the_attention_ops_that_read_earlier_tokens(model, phase, batch, context):
    trace = generate_trace(model, phase, batch, context)
    moved, new_id = prefetch_kv(trace)
    readers = [op for op in trace.ops if op.kv_read_bytes > 0]
    loads = [op for op in moved.ops if op.kind == "kv_load"]
    if phase == "prefill":                     # every key attended is this step's own: nothing to fetch early
        assert not loads and moved.ops == trace.ops
        return
    assert len(loads) == len(readers) == 2 * trace_layers(trace)
    layer_input = {op.layer: op.deps for op in trace.ops if op.name == "attn_norm"}
    for op in readers:
        reader = moved.ops[new_id[op.id]]
        load = moved.ops[reader.deps[-1]]
        assert load.kind == "kv_load" and load.op_class == "memory" and load.layer == op.layer
        # context of context + 1 keys come from the cache; the new token's stays with attention
        assert load.kv_read_bytes == pytest.approx(op.kv_read_bytes * context / (context + 1), rel=1e-12)
        assert reader.kv_read_bytes == pytest.approx(op.kv_read_bytes / (context + 1), rel=1e-12)
        assert load.deps == tuple(new_id[d] for d in layer_input[op.layer])    # the layer's input only


def test_each_decode_step_of_a_multi_step_trace_loads_its_own_context():
    trace = decode_steps("gpt2-small", batch=1, context=10, steps=3)
    moved, _ = prefetch_kv(trace)
    loads = [op for op in moved.ops if op.kind == "kv_load" and op.layer == 0]
    whole = [op.kv_read_bytes for op in trace.ops if op.kind == "attn_score" and op.layer == 0]
    assert [load.kv_read_bytes for load in loads[::2]] == pytest.approx(
        [b * (10 + s) / (11 + s) for s, b in enumerate(whole)], rel=1e-12)
    embeddings = [op.id for op in moved.ops if op.kind == "embedding"]
    assert [load.deps for load in loads[::2]] == [(e,) for e in embeddings]


def two_device_machine(kv_prefetch: bool):
    """`mat` runs matmuls, `vec` everything else; both read memory at 1 GB/s (1 byte = 1000 ps)."""
    device = {"type": "analytic_device", "source": "test", "peak": {"int8": "1TOPS"},
              "memory": {"capacity": "1GB", "bandwidth": "1GB/s"}}
    return machine_from_dict({"name": "two", "description": "test", "source": "test",
                              "components": {"mat": device, "vec": device},
                              "mapping": {"default": "vec", "gemm": "mat", "kv_prefetch": kv_prefetch}})


def toy_trace(qkv_weight_bytes: float) -> Trace:
    """embedding (100 B on vec) -> qkv (weights on mat) -> attn_score over 8 keys of 100 B, 7 cached."""
    ops = (Op(0, "embedding", "embedding", -1, 0.0, "int8", act_out_bytes=100),
           Op(1, "qkv", "matmul", 0, 0.0, "int8", weight_bytes=qkv_weight_bytes, deps=(0,)),
           Op(2, "attn_score", "attn_score", 0, 0.0, "int8", kv_read_bytes=800, m=1, n=8, deps=(1,)))
    return Trace(ops, "toy", "decode", 1, 7, INT8)


@pytest.mark.parametrize("qkv_bytes", [1000, 500])
def test_the_load_overlaps_qkv_and_saves_exactly_the_overlapped_time(qkv_bytes):
    trace = toy_trace(qkv_bytes)
    serial = run_trace(two_device_machine(False), trace)
    overlapped = run_trace(two_device_machine(True), trace)
    ns = 1e-9            # 1 byte at 1 GB/s
    assert serial.latency_s == pytest.approx((100 + qkv_bytes + 800) * ns, rel=1e-12)
    assert overlapped.latency_s == pytest.approx((100 + max(qkv_bytes, 700) + 100) * ns, rel=1e-12)
    assert serial.latency_s - overlapped.latency_s == pytest.approx(min(qkv_bytes, 700) * ns, rel=1e-12)
    load = next(r for r in overlapped.ops if r.kind == "kv_load")
    assert (load.start_ps, load.end_ps) == (100_000, 800_000)     # starts when the layer's input is ready


def test_flag_is_off_by_default_and_then_the_trace_runs_as_generated():
    assert Mapping(default="x").kv_prefetch is False
    trace = toy_trace(1000)
    report = run_trace(two_device_machine(False), trace)
    assert sorted(r.name for r in report.ops) == sorted(op.name for op in trace.ops)


def test_cambricon_machines_prefetch_and_stay_above_their_roofline(tmp_path):
    for config in "sml":
        assert load_machine(f"cambricon_llm_{config}").spec.mapping.kv_prefetch
    report = simulate("cambricon_llm_s", "opt-6.7b", context=256, precision=INT8)   # run_trace checks the roofline
    assert report.latency_s >= report.floor_s
    assert sum(r.kind == "kv_load" for r in report.ops) == 2 * 32
    path = tmp_path / "opt.json"                                     # a replayed trace is rewritten the same way
    generate_trace("opt-6.7b", "decode", 1, 256, precision=INT8).save(path)
    assert run_trace(load_machine("cambricon_llm_s"), Trace.load(path)).latency_s == report.latency_s
    steps = simulate("cambricon_llm_s", "opt-6.7b", context=256, precision=INT8, steps=2)
    assert sum(r.kind == "kv_load" for r in steps.ops) == 2 * 2 * 32


def test_parallel_runs_keep_their_routed_traffic_on_the_renumbered_ops():
    def collectives(report):
        return sorted((r.name, r.layer, r.end_ps - r.start_ps) for r in report.ops if r.op_class == "communication")
    off = simulate("h100_8gpu_nvlink", "mixtral-8x7b", batch=8, context=64)
    on = simulate(with_prefetch("h100_8gpu_nvlink"), "mixtral-8x7b", batch=8, context=64)
    assert sum(r.kind == "kv_load" for r in on.ops) == 8 * 2 * 32
    assert collectives(on) == collectives(off)
