"""Groups mllm_npu, powerinfer2 and tpi_llm: the shipped figures carry their sources and assumed
workloads, and each row puts the paper's headline beside hwsim's run of the machine's defaults."""
import pytest

from hwsim.capacity import CapacityError
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.validate.checks import edge
from hwsim.validate.checks.systems import published
from hwsim.validate.runner import SHIPPED_GROUPS, run_group


def test_every_edge_figure_names_its_source_and_what_the_run_assumes():
    cases = published(edge.DATA)
    assert set(cases) <= set(SHIPPED_GROUPS)
    for group in cases.values():
        for case in group.values():
            assert "arXiv" in case["source"] and case["assumed"] and case["published"] and case["tolerance"]
        headline = next(iter(group.values()))                           # a group's first case: the machine's defaults
        model, phase, batch, context = load_machine(headline["machine"]).workload()
        assert (model, batch, context) == (headline["model"], headline["batch"], headline["context"])


def test_mllm_npu_row_is_the_prefill_tokens_per_s_of_the_machine():
    row, = run_group("mllm_npu", {})
    report = simulate("phone_mllm_npu")
    assert row.published == 1000 and row.simulated == pytest.approx(report.tokens_per_s)
    assert report.phase == "prefill" and "bound" in row.target


def test_tpi_llm_rows_are_the_decode_step_bound_by_the_disks_and_the_70b_footprint_per_device():
    latency, small, memory = run_group("tpi_llm", {})
    report = simulate("tpi_llm_home")
    assert latency.published == 9.0 and latency.simulated == pytest.approx(report.latency_s)
    assert report.bound.startswith("disk")
    assert small.published == 5.0 and small.simulated < latency.simulated     # half the shard to read
    assert memory.published == 3.1 and 0 < memory.simulated < 8.59     # fits the 8 GB laptops


def test_llama2_70b_on_eight_8gb_laptops_fits_only_with_the_sliding_window():
    machine = edge.scaled("tpi_llm_home", 8)
    data = machine.spec.model_dump(mode="json", exclude_none=True)
    del data["mapping"]["offload"]
    with pytest.raises(CapacityError, match="laptop"):
        simulate(machine_from_dict(data), "llama2-70b", context=128)
    assert not simulate(machine, "llama2-70b", context=128).overcommitted


def test_powerinfer2_rows_are_the_decode_step_with_the_cache_missing_3_5_and_98_2_percent():
    """At half the FFN cached the 3.5% of active neurons missed are read under compute (DRAM binds); at
    7 GB nearly every active neuron is read and flash binds."""
    row, small = run_group("powerinfer2", {})
    report = simulate("phone_powerinfer2")
    assert row.published == 9.96 and row.simulated == pytest.approx(report.tokens_per_s)
    assert report.bound == "weights.dram" and "Table 4" in row.target
    data = load_machine("phone_powerinfer2").spec.model_dump(mode="json", exclude_none=True)
    del data["components"]["weights"]["policy"]["hit_rate"]                # hits in proportion: 50% missed
    uniform = simulate(machine_from_dict(data)).components["weights"]["flash_bytes"]
    assert report.components["weights"]["flash_bytes"] == pytest.approx(0.07 * uniform, rel=1e-9)  # 3.5% missed
    seven = simulate(edge.cache_budget("phone_powerinfer2", {"ffn_resident": 0.018, "hit_rate": None}))
    assert small.published == 2.13 and small.simulated == pytest.approx(seven.tokens_per_s)
    assert seven.components["weights"]["flash_bytes"] == pytest.approx(0.982 / 0.5 * uniform, rel=1e-9)
    assert seven.bound == "weights.flash" and "hottest 1.8%" in small.target
