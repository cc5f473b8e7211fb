"""mapping.offload: spilled weights / KV come back over a link one `host_load` per layer; with prefetch
the copy of layer l + 1 overlaps layer l's compute. Closed forms: the offload_memory's copy time, and
the step time t + (L - 1) max(c, t) + c (prefetch 1) or L (t + c) (on demand) of a chain of layers."""
import math

import pytest

from hwsim.components.base import run_alone
from hwsim.config.errors import ConfigError
from hwsim.machine import load_machine, machine_from_dict
from hwsim.mapping.host_offload import Offload, spill
from hwsim.mapping.offload import decode_steps
from hwsim.step import run_trace, simulate
from hwsim.workload.model import load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import Trace, generate_trace

FP16 = Precision("fp16", "fp16", "fp16")
HBM, LINK, LATENCY = 1000e9, 100e9, 1e-6          # B/s, B/s, s: a made-up machine with round numbers
HOST = {"type": "offload_memory", "source": "test", "capacity": "1TB", "bandwidth": "200GB/s",
        "link": {"source": "test", "bandwidth": "100GB/s", "latency": "1us"}}


def ceil_ps(seconds: float) -> int:
    return math.ceil(round(seconds * 1e12, 6))


def test_a_copy_takes_the_link_message_time_or_the_memory_read_whichever_is_slower():
    nbytes = 10**9
    (run,), memory = run_alone("host", HOST, [Op(0, "host_load", "host_load", 0, 0.0, "fp16", weight_bytes=nbytes)])
    assert run.end_ps == ceil_ps(nbytes / LINK) + ceil_ps(LATENCY) and run.bound == "host.link"
    (run,), _ = run_alone("host", {**HOST, "bandwidth": "50GB/s"},
                          [Op(0, "host_load", "host_load", 0, 0.0, "fp16", kv_read_bytes=nbytes)])
    assert run.end_ps == ceil_ps(nbytes / 50e9) and run.bound == "host.memory"
    assert {r.name: r.used for r in memory.resources()} == {"host.link": nbytes, "host.memory": nbytes}


def test_computation_on_the_offload_memory_is_an_error():
    with pytest.raises(ValueError, match="copies spilled bytes"):
        run_alone("host", HOST, [Op(0, "mm", "matmul", 0, 1.0, "fp16", weight_bytes=8)])


def chain(layers: int, weight_bytes: float) -> Trace:
    """``layers`` memory-bound matmuls, one per layer, each waiting for the one before."""
    ops = tuple(Op(l, f"layer{l}.mm", "matmul", l, 2.0, "fp16", weight_bytes=weight_bytes,
                   deps=(l - 1,) if l else ()) for l in range(layers))
    return Trace(ops, "toy", "decode", 1, 1, FP16)


def machine(share: float, prefetch: int):
    return machine_from_dict({
        "name": "toy-offload", "description": "Test machine.", "source": "test",
        "components": {"gpu": {"type": "analytic_device", "source": "test", "peak": {"fp16": "1PFLOPS"},
                               "memory": {"capacity": "80GB", "bandwidth": "1000GB/s"}},
                       "host": HOST},
        "mapping": {"default": "gpu", "offload": {"memory": "host", "weights": share, "prefetch": prefetch}}})


@pytest.mark.parametrize("share", [0.05, 0.5])          # copy shorter / longer than a layer's compute
def test_prefetch_hides_each_copy_behind_the_layer_before(share):
    layers, weights = 6, 1e9
    c, t = ceil_ps(weights / HBM), ceil_ps(share * weights / LINK) + ceil_ps(LATENCY)
    report = run_trace(machine(share, 1), chain(layers, weights))
    assert round(report.latency_s * 1e12) == t + (layers - 1) * max(c, t) + c
    on_demand = run_trace(machine(share, 0), chain(layers, weights))
    assert round(on_demand.latency_s * 1e12) == layers * (t + c)
    deeper = run_trace(machine(share, 3), chain(layers, weights))
    assert deeper.latency_s <= report.latency_s


def test_the_rewrite_adds_one_copy_per_layer_and_keeps_every_op():
    trace = generate_trace("llama2-7b", "decode", 4, 512, FP16)
    offload = Offload(memory="host", weights=0.25, kv_cache=0.5)
    spilled = spill(trace, offload)
    loads = [op for op in spilled.ops if op.kind == "host_load"]
    assert len(loads) == 32 and len(spilled.ops) == len(trace.ops) + 32
    assert all(op.id == i and all(d < i for d in op.deps) for i, op in enumerate(spilled.ops))
    totals = trace.totals()
    assert sum(op.weight_bytes for op in loads) == pytest.approx(0.25 * sum(
        op.weight_bytes for op in trace.ops if op.layer >= 0), rel=1e-12)
    assert sum(op.kv_read_bytes for op in loads) == pytest.approx(0.5 * totals["kv_read_bytes"], rel=1e-12)
    steps = spill(decode_steps("llama2-7b", 1, 64, 3, FP16), offload)
    assert sum(op.kind == "host_load" for op in steps.ops) == 3 * 32      # every layer of every step


def test_gh200_spilling_40_percent_of_a_small_kv_cache_is_transparent_and_a_large_one_is_not():
    small = dict(batch=1, context=2048)
    resident, spilled = (simulate(m, "llama2-7b", **small) for m in ("gh200", "gh200_c2c_offload"))
    assert spilled.latency_s == pytest.approx(resident.latency_s, rel=0.01)
    assert spilled.components["grace"]["link_used"] > 0
    large = dict(batch=32, context=4000)          # 62 GB of KV: its 40% needs more than the HBM time
    resident, spilled = (simulate(m, "llama2-7b", **large) for m in ("gh200", "gh200_c2c_offload"))
    kv = 0.4 * sum(op.kv_read_bytes for op in generate_trace("llama2-7b", "decode", 32, 4000).ops)
    assert spilled.latency_s >= kv / 450e9 > resident.latency_s


def test_offload_needs_an_offload_memory_and_one_per_device():
    data = load_machine("gh200_c2c_offload").spec.model_dump(mode="json")
    data["mapping"]["offload"]["memory"] = "grice"
    with pytest.raises(ConfigError, match="no component named 'grice'"):
        machine_from_dict(data)
    data["mapping"]["offload"]["memory"] = "gpu"
    with pytest.raises(ConfigError, match="'gpu' is of type analytic_device; spilled bytes live in an offload_memory"):
        machine_from_dict(data)
    cluster = load_machine("h100_8gpu_nvlink").spec.model_dump(mode="json")
    cluster["components"]["host"] = load_machine("gh200").spec.components["grace"]
    cluster["mapping"]["offload"] = {"memory": "host", "weights": 0.5}
    with pytest.raises(ConfigError, match="each of the 8 devices spills into its own copy: 'host' needs count: 8, has 1"):
        machine_from_dict(cluster)


def test_the_spilled_share_lives_in_the_offload_memory_less_the_copy_buffers():
    def kv(report, memory):
        return next(u.kv for u in report.footprint.usages if u.memory == memory)
    resident, spilled = (simulate(m, "llama2-7b", batch=4, context=1024) for m in ("gh200", "gh200_c2c_offload"))
    total = kv(resident, "gpu.memory")
    assert kv(spilled, "grace.memory") == pytest.approx(0.4 * total, rel=1e-12)
    assert kv(spilled, "gpu.memory") == pytest.approx(total * (1 - 0.4 * (1 - 2 / 32)), rel=1e-12)   # prefetch 1


def test_under_tensor_parallelism_each_device_streams_its_shard_from_its_own_disk():
    """TPI-LLM's sliding window (architectures/tpi_llm_home.yaml): every layer of every device waits for its
    own copy from its own disk, the disks hold each device's whole shard, and with copies far slower than
    compute the step is the L copies back to back plus what follows the last one."""
    data = load_machine("tpi_llm_home").spec.model_dump(mode="json", exclude_none=True)
    del data["mapping"]["offload"]
    resident = simulate(machine_from_dict(data), "llama2-7b", context=64)
    streamed = simulate("tpi_llm_home", "llama2-7b", context=64)
    model = load_model("llama2-7b")
    layers, h = model.layers, model.hidden
    for device in range(4):
        usage = {u.memory: u for u in streamed.footprint.usages}
        held = next(u.weights for u in resident.footprint.usages if u.memory == f"laptop[{device}].memory")
        assert usage[f"disk[{device}].memory"].weights == pytest.approx(held, rel=1e-12)
        assert usage[f"laptop[{device}].memory"].weights == pytest.approx(held * 2 / layers, rel=1e-12)  # window 2
    copy_s = (4 * h * h + 3 * h * model.ffn.intermediate) * 4 / 4 / 2.675e9    # one layer's fp32 shard of 4
    assert layers * copy_s <= streamed.latency_s <= layers * copy_s + resident.latency_s
