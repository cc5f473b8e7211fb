"""Groups mllm_npu, powerinfer2 and tpi_llm: the shipped figures carry their sources and assumed
workloads, and each row puts the paper's headline beside hwsim's run of the machine's defaults."""
import pytest

from hwsim.machine import load_machine
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
            model, phase, batch, context = load_machine(case["machine"]).workload()
            assert (model, batch, context) == (case["model"], case["batch"], case["context"])   # the machine's defaults


def test_mllm_npu_row_is_the_prefill_tokens_per_s_of_the_machine():
    row, = run_group("mllm_npu", {})
    report = simulate("phone_mllm_npu")
    assert row.published == 1000 and row.simulated == pytest.approx(report.tokens_per_s)
    assert report.phase == "prefill" and "bound" in row.target


def test_tpi_llm_row_is_the_decode_step_of_the_machine_bound_by_its_disks():
    row, = run_group("tpi_llm", {})
    report = simulate("tpi_llm_home")
    assert row.published == 9.0 and row.simulated == pytest.approx(report.latency_s)
    assert report.bound.startswith("disk")


def test_powerinfer2_row_is_the_decode_step_bound_by_flash():
    row, = run_group("powerinfer2", {})
    report = simulate("phone_powerinfer2")
    assert row.published == 11.68 and row.simulated == pytest.approx(report.tokens_per_s)
    assert report.bound == "weights.flash"
