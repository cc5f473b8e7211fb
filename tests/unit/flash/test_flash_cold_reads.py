"""PowerInfer-2's cold-neuron reads (arXiv 2406.06282 v3): UFS's random-read rate by address span (section
2.3.2, Table 1) and two-phase gate-up-down bundle reads (section 4.3), as closed forms and on the phone."""
import copy

import pytest

from hwsim.components.flash.cold_reads import RangeCurve, TwoPhaseBundle
from hwsim.components.flash.flash_offload import is_ffn
from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision
from hwsim.workload.trace import generate_trace, load_model

MiB = 2**20
RANGE = RangeCurve(source="arXiv 2406.06282 Table 1", chunk="4KB", ranges=["128MB", "512MB"],
                   throughput=["1076.10MB/s", "850MB/s"])
BUNDLE = TwoPhaseBundle(rows=3, read="4KB", coactivation=0.8)
NEURONS = 32 * 2 * 14336          # TurboSparse-Mixtral-47B: 32 layers x 2 routed experts x d_ff per token


def test_random_reads_slow_down_as_their_address_span_grows():
    assert RANGE.bandwidth(128 * MiB) == pytest.approx(1076.10e6)
    assert RANGE.bandwidth(512 * MiB) == pytest.approx(850e6)
    assert RANGE.bandwidth(256 * MiB) == pytest.approx((1076.10e6 + 850e6) / 2)     # halfway in log(span)
    assert RANGE.bandwidth(16 * MiB) == RANGE.bandwidth(128 * MiB)                  # no faster than measured
    assert RANGE.bandwidth(8 * 2**30) == RANGE.bandwidth(512 * MiB)


def test_two_phase_reads_the_gate_always_and_up_down_for_the_coactivated_share():
    assert BUNDLE.stored == 8192
    assert BUNDLE.read_bytes() == pytest.approx(4096 * 1.8)            # 10% less than the whole 8 KB bundle
    BUNDLE.fit(2560)                                                   # INT4 row + FP16 scales: 7.5 KB in 8 KB
    with pytest.raises(ValueError, match="do not fit a 8192 B bundle"):
        BUNDLE.fit(8192)                                               # an FP16 row of 4096 elements


@pytest.mark.parametrize("fields, message", [
    ({"chunk": "4KB", "ranges": ["512MB", "128MB"], "throughput": ["1GB/s", "0.85GB/s"]}, "ascending"),
    ({"chunk": "4KB", "ranges": ["128MB"], "throughput": ["1GB/s", "0.85GB/s"]}, "one entry each"),
])
def test_malformed_range_curves_are_one_line_errors(fields, message):
    with pytest.raises(ValueError, match=message):
        RangeCurve(source="s", **fields)


def phone(policy=None, **weights):
    """phone_powerinfer2 with its weights component's `weights` fields and policy keys replaced."""
    data = copy.deepcopy(load_machine("phone_powerinfer2").spec.model_dump(mode="json", exclude_none=True))
    component = data["components"]["weights"]
    component.update(weights)
    component["policy"].update(policy or {})
    return machine_from_dict(data)


def test_the_phone_reads_missed_neurons_as_two_phase_bundles_at_the_128mb_range_rate():
    """Each expert's 14,336 bundles of 8 KB span 112 MB, inside Table 1's 128 MB range."""
    w = simulate("phone_powerinfer2").components["weights"]
    assert w["flash_bytes"] == pytest.approx(NEURONS * 0.15 * 0.035 * 4096 * 1.8, rel=1e-9)
    assert w["io_s"] == pytest.approx(w["flash_bytes"] / 1076.10e6, rel=1e-6)


def test_without_a_range_curve_one_phase_reads_at_the_read_curve_rate():
    w = simulate(phone(range_curve=None)).components["weights"]
    assert w["io_s"] == pytest.approx(w["flash_bytes"] / 0.45e9, rel=1e-6)


def test_the_up_matrix_carries_the_gate_and_up_rows_share_of_each_read():
    weights = load_machine("phone_powerinfer2").build(Simulator())["weights"]
    trace = generate_trace(load_model("turbosparse-mixtral-47b"), "decode", 1, 128, Precision("int4", "int8", "fp16"))
    flash = {op.name.rpartition(".")[2]: weights.time(op).used["flash"] for op in trace.ops if is_ffn(op)}
    assert flash["up"] == pytest.approx(2 * flash["down"], rel=1e-12)
    assert flash["up"] + flash["down"] == pytest.approx(14336 * 0.15 * 0.035 * 4096 * 1.8, rel=1e-12)


@pytest.mark.parametrize("policy, weights, message", [
    ({"two_phase": {"rows": 3, "read": "4KB", "coactivation": 0.8}, "bundling": True}, {}, "give one"),
    ({"two_phase": None}, {}, "needs policy.two_phase"),
    ({}, {"range_curve": {**RANGE.model_dump(mode="json"), "chunk": "8KB"}}, "read equal to its chunk"),
    ({"two_phase": {"rows": 1, "read": "4KB", "coactivation": 0.8}}, {}, "rows: must be >= 2"),
])
def test_inconsistent_two_phase_settings_are_one_line_errors(policy, weights, message):
    with pytest.raises(Exception, match=message):
        phone(policy, **weights)


def test_an_int8_model_does_not_fit_the_int4_bundle():
    """Three INT8 rows of 4 KB each overflow the two 4 KB reads."""
    with pytest.raises(ValueError, match="3 rows of 4096 B do not fit"):
        simulate("phone_powerinfer2", precision=Precision("int8", "int8", "fp16"))
