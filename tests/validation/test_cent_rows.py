"""CENT's artifact rows (hwsim/validate/checks/cent.py): its energy accounting, its decoding lengths and
their row strata, and the machine it lays out for each PP x TP split of its artifact."""
from types import SimpleNamespace

import pytest

from hwsim.config.units import parse_quantity
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.validate.checks.cent import (CENT_CONTEXTS, blocks_per_device, cent_accounting_j, cent_machine,
                                        context_mean, row_strata)
from hwsim.workload.precision import Precision


def _decode(machine, model, context):
    return simulate(machine, model, phase="decode", batch=1, context=context, precision=Precision("bf16", "bf16", "bf16"))


def test_cent_accounting_counts_one_channel_standby_per_device_while_streaming():
    machine = load_machine("cent_aim")
    stats = {"command_energy_j": 0.25, "link_energy_j": 0.01, "open_row_energy_j": 0.64, "stream_s": 2e-3}
    # GDDR6_AiM precharged standby 183.15 mW per channel; 20 devices of 32 channels
    expected = 0.25 + 0.01 + 0.18315 * 2e-3 * 20 + 0.64 / 32
    assert cent_accounting_j(SimpleNamespace(components={"pim": stats}), machine) == pytest.approx(expected, rel=1e-12)
    stages = SimpleNamespace(components={"pim[0]": stats, "pim[1]": stats, "accel[0]": {}, "cxl": {}})
    assert cent_accounting_j(stages, machine) == pytest.approx(2 * expected, rel=1e-12)


def test_cent_contexts_are_its_decoding_lengths_minus_the_new_token():
    """run_sim.py: lengths 128 x 1..32, decoding keeps 512 < L <= 4096; L - 1 tokens are cached."""
    assert CENT_CONTEXTS == tuple(range(639, 4096, 128)) and len(CENT_CONTEXTS) == 28


def test_row_strata_weigh_each_row_count_by_its_lengths_and_keep_the_mean_context():
    """Lengths 640..1024 fill one 1K-column row of V, 1152..2048 two, and so on."""
    assert row_strata() == ((831, 4), (1599, 8), (2623, 8), (3647, 8))
    assert sum(c * w for c, w in row_strata()) / 28 == sum(CENT_CONTEXTS) / 28


def test_context_mean_is_the_weighted_mean_of_per_context_steps():
    machine = cent_machine("llama2-7b", 8, 1, 8)
    runs = [_decode(machine, "llama2-7b", c) for c in (639, 2175)]
    tokens_per_s, cent_mj, physical_mj = context_mean(machine, "llama2-7b", (639, 2175), (1, 3))
    assert tokens_per_s == pytest.approx((1 / runs[0].latency_s + 3 / runs[1].latency_s) / 4, rel=1e-12)
    assert physical_mj == pytest.approx((runs[0].energy_j + 3 * runs[1].energy_j) / 4 * 1e3, rel=1e-12)
    assert cent_mj == pytest.approx((cent_accounting_j(runs[0], machine) + 3 * cent_accounting_j(runs[1], machine))
                                    / 4 * 1e3, rel=1e-12)
    assert runs[1].latency_s > runs[0].latency_s          # attention grows with the context


def test_pipeline_throughput_counts_a_request_per_stage():
    machine = cent_machine("llama2-13b", 20, 4, 5)
    report = _decode(machine, "llama2-13b", 1023)
    assert context_mean(machine, "llama2-13b", (1023,))[0] == pytest.approx(4 / report.latency_s, rel=1e-12)
    assert {r.component for r in report.ops if r.kind == "matmul"} == {f"pim[{s}]" for s in range(4)}
    assert len([r for r in report.ops if r.name == "stage_send"]) == 3


@pytest.mark.parametrize("model, devices, pp, tp, share", [
    ("llama2-13b", 20, 1, 20, 1), ("llama2-13b", 20, 4, 5, 1), ("llama2-70b", 32, 32, 1, 1),
    ("llama2-13b", 20, 40, 1, 2), ("llama2-7b", 8, 32, 1, 4), ("llama2-70b", 32, 80, 1, 3)])
def test_cent_layouts_follow_its_artifact(model, devices, pp, tp, share):
    """run_sim.py: model_parallel stages of tp devices on all 32 channels; pipeline_parallel puts
    ceil(blocks / devices) blocks on a device, each on 32 // that channels and a share of its accelerator;
    every device keeps 144 // devices PCIe lanes."""
    assert blocks_per_device(model, devices, pp, tp) == share
    spec = cent_machine(model, devices, pp, tp).spec
    pim, accel = spec.components["pim"], spec.components["accel"]
    assert (pim["devices"], pim["channels"], pim.get("count", 1), accel.get("count", 1)) == (tp, 32 // share, pp, pp)
    assert pim["link"]["lanes"] // tp == 144 // devices
    clocks = [accel["timing"]["clock"], pim["reduction"]["clock"],
              *(s["accelerator"]["clock"] for s in pim["staging"].values() if "accelerator" in s)]
    assert [parse_quantity(c, "frequency") for c in clocks] == pytest.approx([2e9 / share] * 5)
    assert (spec.parallelism.pp if spec.parallelism else 1) == pp


def test_cent_refuses_splits_its_artifact_does_not_make():
    with pytest.raises(ValueError, match="not PP 3 x TP 5"):
        cent_machine("llama2-13b", 20, 3, 5)


def test_shipped_pipeline_machine_is_the_artifact_layout():
    shipped, built = load_machine("cent_aim_pp40").spec, cent_machine("llama2-13b", 20, 40, 1).spec
    assert shipped.parallelism == built.parallelism and shipped.mapping == built.mapping
    for name in ("pim", "accel", "cxl"):
        assert _normal(shipped.components[name]) == _normal(built.components[name]), name


def _normal(node):
    """Quantities as numbers, so '1GHz' and '1e9Hz' compare equal."""
    if isinstance(node, dict):
        return {k: _normal(v) for k, v in node.items() if k not in ("source", "assumptions")}
    if isinstance(node, str):
        for kind in ("frequency", "bandwidth", "time"):
            try:
                return pytest.approx(parse_quantity(node, kind), rel=1e-9)
            except (ValueError, TypeError):
                pass
    return node


def test_cent_parallel_compares_energy_only_where_the_artifact_counts_it_as_hwsim_does(monkeypatch):
    from hwsim.validate.checks import cent
    cases = ({"model": "llama2-13b", "devices": 20, "pp": 4, "tp": 5, "tokens_per_s": 1000.0, "mJ_per_token": 100.0},
             {"model": "llama2-13b", "devices": 20, "pp": 40, "tp": 1, "tokens_per_s": 4000.0})
    monkeypatch.setattr(cent, "shipped_cases", lambda: cases)
    monkeypatch.setattr(cent, "context_mean", lambda machine, model, contexts, weights: (1050.0, 115.0, 300.0))
    rows = cent.cent_parallel({})
    assert [(r.target, r.simulated, r.passed) for r in rows] == [
        ("cent llama2-13b 20 dev PP4 x TP5 tok/s", 1050.0, True),
        ("cent llama2-13b 20 dev PP4 x TP5 mJ/token (as CENT)", 115.0, False),
        ("cent llama2-13b 20 dev PP40 x TP1 tok/s", 1050.0, False)]
