"""mapping.dataflow and the dataflow_device (SambaNova SN40L). Closed forms: a fused layer's HBM bytes
are its weights, KV cache, input and output (the unfused trace's bytes minus the intermediates) and it
keeps its operators as pipeline stages; the device times it as that pipeline
(hwsim.components.dataflow.pipeline, tested in test_pipeline.py); a layer the device says does not
fit stays unfused; switching a model in takes its bytes / DDR bandwidth."""
import math

import pytest

from hwsim.components.base import build_component, run_alone
from hwsim.config.errors import ConfigError
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.components.dataflow import pipeline
from hwsim.mapping.dataflow import fuse_layers
from hwsim.mapping.host_offload import layer_runs
from hwsim.step import simulate
from hwsim.workload.model import load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import Trace, generate_trace

BF16 = Precision("bf16", "bf16", "bf16")
PEAK, HBM, DDR = 100e12, 1e12, 100e9          # FLOP/s, B/s, B/s: a made-up device with round numbers
RDU = {"type": "dataflow_device", "source": "test", "peak": {"bf16": "100TFLOPS"},
       "memory": {"capacity": "64GB", "bandwidth": "1TB/s"}, "pcus": 10, "pmus": 4, "sram": "1MB",
       "ddr": {"capacity": "1TB", "bandwidth": "100GB/s"}}


def chain() -> Trace:
    """Embedding, then one layer a -> b -> c (c also reads the layer input, like a residual add)."""
    ops = (Op(0, "embed", "embedding", -1, 0.0, "bf16", act_out_bytes=10),
           Op(1, "a", "matmul", 0, 4e9, "bf16", weight_bytes=1e9, act_in_bytes=10, act_out_bytes=300, deps=(0,)),
           Op(2, "b", "softmax", 0, 1e6, "bf16", act_in_bytes=300, act_out_bytes=200, kv_read_bytes=5e8, deps=(1,)),
           Op(3, "c", "elementwise", 0, 1e3, "bf16", act_in_bytes=210, act_out_bytes=10, kv_write_bytes=7,
              deps=(2, 0)))
    return Trace(ops, "toy", "decode", 1, 1, BF16)


def everything(stages):
    return True


def test_a_fused_layer_moves_its_weights_kv_input_and_output_only():
    (embed, layer), = [fuse_layers(chain(), everything).ops]
    assert embed.kind == "embedding" and layer.kind == "fused_layer" and layer.deps == (0,)
    assert layer.flops == 4e9 + 1e6 + 1e3
    assert (layer.weight_bytes, layer.kv_read_bytes, layer.kv_write_bytes) == (1e9, 5e8, 7)
    assert (layer.act_in_bytes, layer.act_out_bytes) == (10, 10)     # a's input, c's output
    assert layer.stages == chain().ops[1:]


def test_a_layer_the_device_says_does_not_fit_stays_unfused():
    asked = []

    def nothing(stages):
        asked.append(stages)
        return False
    assert fuse_layers(chain(), nothing).ops == chain().ops
    assert asked == [list(chain().ops[1:])]


def test_the_device_times_a_fused_layer_as_the_pipeline_of_its_stages():
    (_, layer) = fuse_layers(chain(), everything).ops
    (run,), _ = run_alone("rdu", RDU, [layer])
    fabric = pipeline.Fabric(10, 4, 2**20, PEAK, HBM)
    assert run.end_ps == math.ceil(round(pipeline.kernel_seconds(list(layer.stages), layer.total_bytes, fabric)[0]
                                         * 1e12, 6))
    (alone,), _ = run_alone("rdu", RDU, [chain().ops[1]])           # unfused: a pipeline of one stage
    assert alone.end_ps == math.ceil(round(pipeline.kernel_seconds([chain().ops[1]], chain().ops[1].total_bytes,
                                                                   fabric)[0] * 1e12, 6))


def test_llama_decode_layer_fused_bytes_are_the_unfused_bytes_minus_the_intermediates():
    model = load_model("llama2-7b")
    trace = generate_trace(model, "decode", 4, 512, BF16)
    fused = fuse_layers(trace, everything)
    layers = [op for op in fused.ops if op.kind == "fused_layer"]
    assert len(layers) == model.layers and len(fused.ops) == len(trace.ops) - sum(
        len(run) - 1 for run in layer_runs(trace.ops) if run[0].layer >= 0)
    run = next(run for run in layer_runs(trace.ops) if run[0].layer == 0)
    hidden = 4 * model.hidden * 2                                  # batch x hidden in bf16
    assert layers[0].act_in_bytes == layers[0].act_out_bytes == hidden
    assert layers[0].total_bytes == pytest.approx(
        sum(op.weight_bytes + op.kv_read_bytes + op.kv_write_bytes for op in run) + 2 * hidden)
    assert sum(op.total_bytes for op in run) - layers[0].total_bytes == pytest.approx(
        sum(op.act_in_bytes + op.act_out_bytes for op in run) - 2 * hidden)
    assert all(dep < op.id for op in fused.ops for dep in op.deps)


def test_switching_a_model_in_takes_its_bytes_over_the_ddr_bandwidth():
    device = build_component("rdu", RDU, SourceMap("<t>"), ("components", "rdu"), Simulator())
    assert device.switch_s(13.5e9) == pytest.approx(13.5e9 / DDR)
    assert device.library_size(13.5e9) == math.floor(2**40 / 13.5e9)


def test_sn40l_runs_fused_and_its_step_is_no_slower_than_unfused():
    machine = load_machine("sn40l")
    data = machine.spec.model_dump(mode="json", exclude_none=True)
    data["mapping"].pop("dataflow")
    fused, unfused = (simulate(m, "llama2-7b", phase="prefill", batch=1, context=256)
                      for m in (machine, machine_from_dict(data)))
    assert sum(op.kind == "fused_layer" for op in fused.ops) == 32
    assert fused.latency_s < unfused.latency_s and fused.latency_s * (1 + 1e-9) >= fused.floor_s


def test_dataflow_must_name_a_dataflow_device():
    data = load_machine("nvidia_h100_sxm").spec.model_dump(mode="json", exclude_none=True)
    data["mapping"]["dataflow"] = "gpu"
    with pytest.raises(ConfigError, match="SRAM of a dataflow_device"):
        machine_from_dict(data)


def _tensor_parallel_sn40l(ranks: int, fused: bool = True):
    """sn40l.yaml as ``ranks`` sockets in tensor parallel over a switch (a test machine: the link is
    any shipped preset; the closed forms below do not depend on it)."""
    data = load_machine("sn40l").spec.model_dump(mode="json", exclude_none=True)
    data["components"]["rdu"]["count"] = ranks
    data["components"]["p2p"] = {"type": "link_fabric", "source": "test", "topology": "switch", "ranks": ranks,
                                 "link": "pcie5_x16"}
    data["mapping"]["communication"] = "p2p"
    data["parallelism"] = {"tp": ranks}
    if not fused:
        data["mapping"].pop("dataflow")
    return machine_from_dict(data)


def test_tensor_parallel_layers_fuse_per_rank_between_the_all_reduces():
    """Llama decode under TP2: per layer and rank, attention up to o_proj, then the residual through the
    FFN down projection, then the last residual: three fused kernels; the two all-reduces stay. Both
    runs stream the same weights, so the step is as long within 0.1% (fusion saves the activations'
    bytes and pays each pipeline's fill)."""
    fused, unfused = (simulate(_tensor_parallel_sn40l(2, flag), "llama2-7b", phase="decode", batch=1, context=128)
                      for flag in (True, False))
    kinds = [op.kind for op in fused.ops]
    assert kinds.count("fused_layer") == 32 * 2 * 3 and kinds.count("collective") == 32 * 2
    assert [op.kind for op in unfused.ops].count("collective") == 32 * 2
    assert fused.latency_s == pytest.approx(unfused.latency_s, rel=1e-3)
    assert fused.latency_s * (1 + 1e-9) >= fused.floor_s


def test_a_fused_rank_segment_moves_its_weights_kv_input_and_output_only():
    from hwsim.mapping.parallel import ParallelPlan, device_trace
    trace = device_trace(ParallelPlan(tp=2), load_model("llama2-7b"), "decode", 1, 64, BF16).trace
    out = fuse_layers(trace, everything)
    assert all(dep < op.id for op in out.ops for dep in op.deps)
    hbm = lambda ops: sum(op.weight_bytes + op.kv_read_bytes + op.kv_write_bytes for op in ops)
    assert hbm(out.ops) == pytest.approx(hbm(trace.ops), rel=1e-12)          # weights and KV: all still moved
    assert sum(op.flops for op in out.ops) == pytest.approx(sum(op.flops for op in trace.ops), rel=1e-12)
    first = next(op for op in out.ops if op.kind == "fused_layer")
    members = [op for op in trace.ops if op.layer == 0 and op.device == 0 and op.id <= 16]   # attn_norm .. o_proj
    assert first.weight_bytes == pytest.approx(sum(op.weight_bytes for op in members), rel=1e-12)
    assert first.act_out_bytes == members[-1].act_out_bytes                  # o_proj's partial sum, to the all-reduce


def test_dataflow_refuses_expert_parallel_plans():
    data = _tensor_parallel_sn40l(2).spec.model_dump(mode="json", exclude_none=True)
    data["parallelism"] = {"dp": 2, "ep": 2}
    with pytest.raises(ConfigError, match="expert or pipeline parallelism"):
        machine_from_dict(data)


def test_sn40l_streams_every_layer_of_a_4k_prefill_as_one_kernel():
    """Its attention scores (0.5 GiB a layer, and as much again after the softmax) never fit the 520 MB
    at once; their rows stream through the PMUs."""
    report = simulate(load_machine("sn40l"), "llama2-7b", phase="prefill", batch=1, context=4096)
    assert [op.kind for op in report.ops].count("fused_layer") == 32 and len(report.ops) == 32 + 3


def test_a_dataflow_device_refuses_gpu_kernel_models():
    data = load_machine("sn40l").spec.model_dump(mode="json", exclude_none=True)
    data["components"]["rdu"]["rows"] = {"source": "t", "sms": 1, "threads_per_sm": 1, "latency": "1us",
                                         "kernels": {}}
    with pytest.raises(ConfigError, match="times every kernel as a pipeline"):
        machine_from_dict(data)
