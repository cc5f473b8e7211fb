"""End-to-end runs on the analytic GPU machines obey physics: rooflines, bounds, determinism."""
import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.components.analytic.device import AnalyticDevice
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import RooflineViolation, run_trace, simulate
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.precision import Precision
from hwsim.workload.trace import generate_trace

BF16 = Precision("bf16", "bf16", "bf16")
A100_BW = 2039e9          # datasheet peak: the roofline floor
A100_SUSTAINED = 0.8828 * A100_BW  # what streaming kernels reach (architectures/nvidia_a100_80gb.yaml memory.efficiency)
A100_GEMM_STREAMING = 0.8137 * A100_BW   # what cuBLAS matmuls stream at (gemm.streaming there)


def test_llama2_7b_decode_on_a100_is_memory_bound_at_bytes_over_bandwidth():
    model = load_model("llama2-7b")
    trace = generate_trace(model, "decode", 1, 2048, precision=BF16)
    machine = load_machine("nvidia_a100_80gb")
    report = run_trace(machine, trace)
    weight_bytes = sum(op.weight_bytes for op in trace.ops)
    gpu = machine.build(Simulator())["gpu"].params
    # ops run back to back at the sustained bandwidth (matmuls at cuBLAS's measured streaming rate),
    # the one-token norm, rope, activation, add and embedding kernels at their chain of round trips
    # (the machine's rows) where that is longer, each one kernel paying the GPU's kernel startup (no
    # GEMV splits k here: no reduction kernel; one tile row reads each weight once through the L2)
    expected = sum(max(op.total_bytes / (A100_GEMM_STREAMING if op.kind == "matmul" else A100_SUSTAINED),
                       gpu.rows.seconds(op, A100_SUSTAINED) if op.kind in gpu.rows.kernels else 0)
                   for op in trace.ops) + len(trace.ops) * gpu.kernel_startup
    assert gpu.kernel_startup == pytest.approx(1.3e-6)
    assert gpu.gemm.streaming * A100_BW == pytest.approx(A100_GEMM_STREAMING)
    assert report.bound == "gpu.memory"
    assert weight_bytes / A100_BW < report.latency_s
    assert report.latency_s == pytest.approx(expected, rel=1e-6)
    assert 100 < report.tokens_per_s < 160          # ~13.5 GB of bf16 weights + 1 GB KV at 1.8 TB/s
    assert report.energy_per_token_j == pytest.approx(400 * report.latency_s)  # TDP x time


def test_llama2_7b_prefill_on_a100_is_compute_bound():
    report = simulate("nvidia_a100_80gb", "llama2-7b", phase="prefill", batch=1, context=2048, precision=BF16)
    assert report.bound == "gpu.compute"
    assert report.tokens == 2048
    assert report.latency_s >= report.floor_s


def test_h100_is_faster_than_a100_and_runs_are_deterministic():
    w8 = Precision("int8", "bf16", "bf16")     # Mixtral's bf16 weights (87 GiB) do not fit 80 GB
    a100 = simulate("nvidia_a100_80gb", "mixtral-8x7b", batch=4, context=512, precision=w8, seed=7)
    h100 = simulate("nvidia_h100_sxm", "mixtral-8x7b", batch=4, context=512, precision=w8, seed=7)
    again = simulate("nvidia_h100_sxm", "mixtral-8x7b", batch=4, context=512, precision=w8, seed=7)
    assert h100.latency_s < a100.latency_s
    assert again.to_dict() == h100.to_dict()


def test_missing_number_format_is_a_clear_error():
    with pytest.raises(ValueError, match="has no peak for bf16 operators; add peak.bf16"):
        simulate("nvidia_t4", "gpt2-small", context=16, precision=BF16)


def test_a_component_faster_than_its_roofline_is_caught(monkeypatch):
    resources = AnalyticDevice.resources

    def twice_the_work(self):  # a model that moves twice the bytes it charged time for
        return [replace(r, used=2 * r.used, floor_s=2 * r.floor_s) for r in resources(self)]
    monkeypatch.setattr(AnalyticDevice, "resources", twice_the_work)
    with pytest.raises(RooflineViolation, match="below the floor .* of gpu.memory"):
        simulate("nvidia_a100_80gb", "llama2-7b", context=128, precision=BF16)


def test_a_nan_floor_is_refused_not_passed(monkeypatch):
    resources = AnalyticDevice.resources

    def nan_floor(self):  # NaN < anything is False: the plain comparison would let it through
        return [replace(r, floor_s=float("nan")) for r in resources(self)]
    monkeypatch.setattr(AnalyticDevice, "resources", nan_floor)
    with pytest.raises(RooflineViolation, match="gpu.compute is nan s, not a finite time"):
        simulate("nvidia_a100_80gb", "gpt2-small", context=16, precision=BF16)


def _small_model(draw) -> ModelSpec:
    heads = draw(st.sampled_from([1, 2, 4, 8]))
    kind = draw(st.sampled_from(["mha", "gqa", "mqa"]))
    kv = {"mha": heads, "mqa": 1, "gqa": draw(st.sampled_from([h for h in (1, 2, 4) if heads % h == 0]))}[kind]
    head_dim = draw(st.sampled_from([8, 16, 64]))
    moe = None
    if draw(st.booleans()):
        experts = draw(st.sampled_from([4, 8]))
        moe = {"routed_experts": experts, "top_k": draw(st.integers(1, 2)),
               "expert_intermediate": draw(st.integers(8, 64)), "shared_experts": draw(st.integers(0, 1))}
    return ModelSpec.model_validate({
        "name": "random", "source": "test", "family": "test", "layers": draw(st.integers(1, 3)),
        "hidden": heads * head_dim, "vocab": draw(st.integers(16, 500)), "max_position": 4096,
        "positional": draw(st.sampled_from(["rope", "learned"])), "norm": "rmsnorm",
        "tied_embeddings": draw(st.booleans()),
        "attention": {"kind": kind, "heads": heads, "kv_heads": kv if kind == "gqa" else None},
        "ffn": {"activation": "silu", "gated": draw(st.booleans()), "intermediate": draw(st.integers(8, 256))},
        "moe": moe, "published": {"total_params": 1.0, "source": "test"},
    })


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_shapes_give_finite_positive_times_never_below_the_floor(data):
    model = _small_model(data.draw)
    phase = data.draw(st.sampled_from(["prefill", "decode"]))
    machine = data.draw(st.sampled_from(["nvidia_a100_80gb", "nvidia_h100_sxm"]))
    report = simulate(machine, model, phase=phase, batch=data.draw(st.integers(1, 8)),
                      context=data.draw(st.integers(1, 300)), precision=BF16,
                      seed=data.draw(st.integers(0, 9)))
    assert math.isfinite(report.latency_s) and report.latency_s > 0
    assert all(r.end_ps >= r.start_ps >= 0 for r in report.ops)
    assert report.latency_s >= report.floor_s
