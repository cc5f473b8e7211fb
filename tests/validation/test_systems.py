"""Groups gh200 and cloudmatrix_infer: the shipped figures carry their sources, the rows compare them
with hwsim's runs, and the CloudMatrix decode figure is tokens per NPU of one MTP step."""
import pytest

from hwsim.validate.checks import systems
from hwsim.validate.runner import SHIPPED_GROUPS, run_group


def test_every_shipped_figure_names_its_source_and_what_the_run_assumes():
    assert {"gh200", "cloudmatrix_infer"} <= set(SHIPPED_GROUPS)
    for cases in systems.published().values():
        for case in cases.values():
            assert "arXiv" in case["source"] and case["assumed"] and case["published"]


def test_gh200_rows_put_each_paper_figure_beside_hwsim():
    rows = run_group("gh200", {})
    assert [row.published for row in rows] == [2.3, 2.3, 4, 1.0]
    speedups = systems.prefill_speedups(systems.published()["gh200"]["prefill_speedup"])
    assert [row.simulated for row in rows[:2]] == [speedups["h100_pcie"], speedups["a100"]]
    assert speedups["a100"] > speedups["h100_pcie"] > 1        # 312 < 756 < 989.5 TFLOPS BF16
    assert rows[3].simulated >= 1 and all("(" in row.target for row in rows)   # each says why it differs


def test_the_gpu_bound_batch_is_where_kernel_time_first_reaches_the_host_launches():
    cases = systems.published()["gh200"]
    kernels, case = cases["prefill_speedup"]["kernels_per_op"], cases["cpu_bound_batches"]
    first = systems.gpu_bound_batch(case["machine"], case, kernels)
    machine = systems._datasheet(case["machine"], kernels)
    stats = {batch: systems._step(machine, case, "prefill", batch).components["gpu"] for batch in (first // 2, first)}
    assert stats[first // 2]["busy_s"] < stats[first // 2]["host_launch_s"] <= stats[first]["busy_s"]
    # CPU-bound, the step lasts about the host's launch stream; a slower host stays CPU-bound longer
    step = systems._step(machine, case, "prefill", first // 2)
    assert stats[first // 2]["host_launch_s"] <= step.latency_s < stats[first // 2]["host_launch_s"] * 1.05
    assert systems.gpu_bound_batch(case["baseline"], case, kernels) < first


def test_cloudmatrix_decode_figure_is_the_tokens_per_npu_of_an_mtp_step(monkeypatch):
    cases = systems.published()["cloudmatrix_infer"]
    assert systems._npus(cases["decode_tokens_per_npu"]) == 160                  # EP320's 320 dies, 2 per NPU
    small = {"model": "deepseek-v2-lite", "batch_per_npu": 1, "context": 64,     # a small run of the same code
             "machine": "cloudmatrix384_decode", "devices_per_npu": 1}
    case, layer = {**cases["decode_tokens_per_npu"], **small}, {**cases["mtp_layer_slowdown"], **small}
    assert case["mtp"] == {"drafts": 1, "acceptance": 0.7}                        # the paper's set-up: 1.7 tokens/step
    step = systems.mtp_step_of(case)
    assert step.tokens_per_sequence == pytest.approx(1.7)
    assert systems.decode_tokens_per_npu(case) == pytest.approx(1.7 / (step.verify_s + step.draft_s), rel=1e-12)
    seconds = []
    real = systems._latency
    monkeypatch.setattr(systems, "_latency", lambda *args: seconds.append(real(*args)) or seconds[-1])
    assert systems.mtp_slowdown(layer) == pytest.approx(step.verify_s / seconds[0], rel=1e-12)
    assert cases["mtp_layer_slowdown"]["published"] == pytest.approx(1260 / 874, rel=1e-3)
