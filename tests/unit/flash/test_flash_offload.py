"""LLM in a flash: chunk-size read curve, windowing and row-column bundling against the paper; PowerInfer-2's
neuron cache and I/O-compute pipeline as closed forms."""
import copy

import numpy as np
import pytest

from hwsim.capacity import CapacityError
from hwsim.components.flash.flash_offload import ReadCurve, is_ffn, window_load_share, window_loads
from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision
from hwsim.workload.trace import generate_trace, load_model

CURVE = ReadCurve(source="arXiv 2312.11514", queue_depth=32, chunks=["8KB", "16KB", "1GB"],
                  throughput=["1.25GB/s", "2.25GB/s", "6.10GB/s"])


def io_ms(volume_bytes, chunk, depth=32):
    return volume_bytes / CURVE.bandwidth(chunk, depth) * 1e3


@pytest.mark.parametrize("volume_GB, chunk, published_ms", [
    (13.4, 2**30, 2197), (6.7, 2**30, 1098),        # naive / hybrid: whole matrices, sequential
    (0.9, 8192, 720), (0.2, 8192, 164),             # predictor, + windowing: one neuron's 8 KB vector per read
    (0.2, 16384, 87),                               # + row-column bundling: 16 KB per read
])
def test_io_latency_per_token_matches_the_paper(volume_GB, chunk, published_ms):
    """reference/lut_flash.md VC1: OPT-6.7B per-token load volumes and I/O latencies (within 3%)."""
    assert io_ms(volume_GB * 1e9, chunk) == pytest.approx(published_ms, rel=0.03)


def test_bundling_raises_throughput_and_depth_follows_littles_law():
    assert CURVE.bandwidth(16384, 32) / CURVE.bandwidth(8192, 32) == pytest.approx(2.25 / 1.25)
    assert CURVE.bandwidth(8192, 16) == pytest.approx(1.25e9 / 2)          # half the reads in flight
    assert CURVE.bandwidth(2**30, 64) == pytest.approx(6.10e9)             # capped by the sequential rate
    assert 2.25e9 < CURVE.bandwidth(2**20, 32) < 6.10e9                     # between measured points


def test_window_loads_on_a_hand_made_trace():
    active = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 0, 0, 0]], bool)
    assert window_loads(active, 0).tolist() == [2, 2, 3, 1]
    assert window_loads(active, 1).tolist() == [2, 1, 2, 1]     # token 2 reuses neuron 2 from token 1
    assert window_loads(active, 2).tolist() == [2, 1, 1, 0]     # token 3 reuses neuron 0 from token 1


def test_window_loads_of_independent_activations_match_the_expectation():
    s, k = 0.03, 5
    active = np.random.default_rng(0).random((2000, 4096)) < s
    per_token = window_loads(active, k)[k:].mean() / 4096
    assert per_token == pytest.approx(s * (1 - s) ** k, rel=0.02)


def test_markov_window_share_matches_a_simulated_two_state_chain():
    """window_load_share against window_loads on neurons drawn as two-state Markov chains."""
    s, k, q = 0.10, 5, 0.96
    rng = np.random.default_rng(1)
    stay_on = 1 - (1 - q) * (1 - s) / s                      # stationary share s: s (1 - stay_on) = (1 - s)(1 - q)
    active = np.empty((4000, 4096), bool)
    active[0] = rng.random(4096) < s
    for t in range(1, len(active)):
        u = rng.random(4096)
        active[t] = np.where(active[t - 1], u < stay_on, u < 1 - q)
    held = 1 - (1 - s) * q ** k                              # the window: current token and k before it
    per_token = window_loads(active, k)[k:].mean() / 4096
    assert per_token == pytest.approx(window_load_share(s, k, held), rel=0.03)
    assert window_load_share(s, k, 1 - (1 - s) ** (k + 1)) == pytest.approx(s * (1 - s) ** k)   # independent


FP16 = Precision("fp16", "fp16", "fp16")
FFN_BYTES = 32 * (2 * 4096 * 16384 + 16384 + 4096) * 2                  # OPT-6.7B FFN + biases, fp16


def weights(machine):
    return simulate(machine, "opt-6.7b", phase="decode", batch=1, context=128, precision=FP16).components["weights"]


def test_naive_row_reads_every_weight_linearly():
    w = weights("llm_in_a_flash_naive")
    trace = generate_trace(load_model("opt-6.7b"), "decode", 1, 128, FP16)
    matmul_bytes = sum(op.weight_bytes for op in trace.ops if op.kind == "matmul")
    assert w["flash_bytes"] == pytest.approx(matmul_bytes)
    assert w["io_s"] == pytest.approx(matmul_bytes / 6.10e9, rel=1e-6)


def test_hybrid_row_reads_the_ffn_outside_half_the_model_linearly():
    w = weights("llm_in_a_flash_hybrid")
    assert w["flash_bytes"] == pytest.approx((1 - 0.2275) * FFN_BYTES)
    assert w["io_s"] == pytest.approx(w["flash_bytes"] / 6.10e9, rel=1e-6)


def test_predictor_row_reads_active_neurons_one_vector_at_a_time():
    w = weights("llm_in_a_flash_predictor")
    assert w["flash_bytes"] == pytest.approx(0.10 * FFN_BYTES)
    assert w["io_s"] == pytest.approx(w["flash_bytes"] / 1.25e9, rel=2e-3)            # biases widen chunks a hair


def test_windowing_cuts_flash_traffic_and_bundling_cuts_io_time():
    windowed, bundled = weights("llm_in_a_flash_windowing"), weights("llm_in_a_flash")
    assert windowed["flash_bytes"] == pytest.approx(window_load_share(0.10, 5, 0.24) * FFN_BYTES)
    assert bundled["flash_bytes"] == windowed["flash_bytes"]
    assert windowed["io_s"] / bundled["io_s"] == pytest.approx(2.25 / 1.25, rel=1e-3)


def _variant(**policy):
    """llm_in_a_flash's predictor row with `policy` keys changed."""
    data = copy.deepcopy(load_machine("llm_in_a_flash_predictor").spec.model_dump(mode="json"))
    data["components"]["weights"]["policy"].update(policy)
    return machine_from_dict(data)


def test_a_neuron_cache_keeps_its_share_of_the_predicted_neurons_off_flash():
    """PowerInfer-2's neuron cache: a share r of every FFN's neurons in DRAM, hit in proportion."""
    w = weights(_variant(ffn_resident=0.2))
    assert w["flash_bytes"] == pytest.approx(0.10 * 0.8 * FFN_BYTES)
    assert w["io_s"] == pytest.approx(w["flash_bytes"] / 1.25e9, rel=2e-3)


def test_a_hot_neuron_cache_reads_only_the_active_neurons_it_misses():
    """Skewed activations: a cache of a share r of the neurons holding a share h > r of the active ones
    reads active x (1 - h) of the FFN; its DRAM share (capacity) stays r."""
    hot = weights(_variant(ffn_resident=0.2, hit_rate=0.7))
    assert hot["flash_bytes"] == pytest.approx(0.10 * 0.3 * FFN_BYTES)
    assert hot["io_s"] == pytest.approx(hot["flash_bytes"] / 1.25e9, rel=2e-3)
    assert _variant(ffn_resident=0.2, hit_rate=0.7).build(Simulator())["weights"].cached_share() == 0.2


def test_the_neuron_cache_counts_in_the_host_dram_and_the_window_does_not():
    def usages(machine, model, precision=None):
        report = simulate(machine, model, phase="decode", batch=1, context=128, precision=precision)
        return {u.memory: u for u in report.footprint.usages}
    phone = usages("phone_powerinfer2", "turbosparse-mixtral-47b")
    assert phone["npu.memory"].experts == pytest.approx(0.5 * phone["weights.flash"].experts, rel=1e-12)
    mac, cached = usages("llm_in_a_flash", "opt-6.7b", FP16), usages(_variant(ffn_resident=0.2), "opt-6.7b", FP16)
    assert cached["host.memory"].weights - mac["host.memory"].weights == pytest.approx(
        0.2 * mac["weights.flash"].weights, rel=1e-12)
    with pytest.raises(CapacityError, match="host.memory"):          # half the FFN overflows the 6.5 GB budget
        usages(_variant(ffn_resident=0.5), "opt-6.7b", FP16)


def test_pipelined_reads_overlap_compute_each_matmul_takes_the_longer():
    """Per matmul max(I/O, compute, DRAM) instead of I/O + max(compute, DRAM)."""
    trace = generate_trace(load_model("opt-6.7b"), "decode", 1, 128, FP16)
    serial, piped = (_variant(pipelined=flag).build(Simulator())["weights"] for flag in (False, True))
    for op in (op for op in trace.ops if op.kind == "matmul"):
        a, b = serial.time(op), piped.time(op)
        io = a.counts["io_ps"]
        assert b.counts["io_ps"] == io and b.duration_ps == max(io, a.duration_ps - io)


def test_routed_experts_up_and_down_are_ffn_neurons():
    trace = generate_trace(load_model("mixtral-8x7b"), "decode", 1, 64)
    assert {op.name for op in trace.ops if is_ffn(op)} == {f"expert{i}.{m}" for i in range(8) for m in ("up", "down")}


@pytest.mark.parametrize("policy, message", [
    ({"predictor": None}, "need a predictor"),
    ({"ffn_resident": 0.2}, "both keep FFN neurons in DRAM: give one"),
    ({"window": {"tokens": 5, "share": 0.05}}, "must exceed"),
    ({"window": None, "hit_rate": 0.9}, "needs a predictor and ffn_resident > 0"),
    ({"window": None, "ffn_resident": 0.5, "hit_rate": 0.4}, "hits at least in proportion"),
])
def test_inconsistent_policies_are_one_line_errors(policy, message):
    data = copy.deepcopy(load_machine("llm_in_a_flash").spec.model_dump(mode="json"))
    data["components"]["weights"]["policy"].update(policy)
    with pytest.raises(Exception, match=message):
        machine_from_dict(data)
