"""The validation runner: INFO rows are printed but never pass or fail a run, and a group's tabulated
INFO rows are one summary line unless every row is asked for; CENT's energy accounting."""
from types import SimpleNamespace

import pytest

from hwsim.machine import load_machine
from hwsim.validate import runner
from hwsim.validate.checks.pim import CENT_CONTEXTS, _run, cent_accounting_j, cent_aim, cent_machine, context_mean
from hwsim.validate.runner import Row


def _run_with(rows, monkeypatch, tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("fake_group: {}\n")
    monkeypatch.setitem(runner.CHECKS, "fake_group", lambda data: rows)
    monkeypatch.setattr(runner, "SHIPPED_GROUPS", [])        # only the fake group
    lines = []
    return runner.run_validation(targets, out=lines.append).passed, lines


def test_info_row_neither_passes_nor_fails(monkeypatch, tmp_path):
    passed, lines = _run_with([Row("a", 1.0, 1.0, "x", True, "exact"),
                               Row("b", 1.0, 9.0, "x", False, "context", info=True)], monkeypatch, tmp_path)
    assert passed
    assert lines[-3].endswith("PASS") and lines[-2].endswith("INFO")
    assert lines[-1] == "\n1 pass, 0 fail, 1 info (context, not a target)"


def test_failing_target_row_still_fails(monkeypatch, tmp_path):
    passed, lines = _run_with([Row("a", 1.0, 2.0, "x", False, "exact"),
                               Row("b", 1.0, 1.0, "x", True, "context", info=True)], monkeypatch, tmp_path)
    assert not passed and lines[-3].endswith("FAIL")
    assert lines[-1] == "\n0 pass, 1 fail, 1 info (context, not a target)"


def test_tabulated_info_rows_are_one_line_unless_every_row_is_asked(monkeypatch, tmp_path):
    rows = [Row("a", 1.0, 1.0, "x", True, "exact"), Row("beside a", 2.0, 3.0, "x", True, "context", info=True),
            *(Row(f"stat {k} on m{c}", 0.1, 0.1 * (i + c), "|err|", True, "median <= 10%", True, (k, f"m{c}"))
              for i, k in enumerate(("qkv", "rope")) for c in (1, 2))]
    monkeypatch.setitem(runner.CHECKS, "fake_group", lambda data: rows)
    monkeypatch.setattr(runner, "SHIPPED_GROUPS", [])
    targets = tmp_path / "targets.yaml"
    targets.write_text("fake_group: {}\n")
    short, every = [], []
    runner.run_validation(targets, out=short.append)
    runner.run_validation(targets, out=every.append, every_row=True)
    assert [line.split()[0] for line in short[3:5]] == ["a", "beside"]
    assert short[5] == "  fake_group: 4 INFO rows (context, not targets): hwsim 0.1-0.3 |err|; --all lists them"
    assert not any(line.startswith("stat") for line in short)
    assert [line for line in every if line.startswith("stat")] and "--all lists them" not in "".join(every)
    assert short[-1] == every[-1] == "\n1 pass, 0 fail, 5 info (context, not a target)"


def test_error_column_is_blank_for_error_statistics_and_missing_figures():
    assert Row("a", 2.0, 3.0, "x", True, "rel").error_text == "+50.00%"
    assert Row("a", 0.1, 0.3, "|err|", False, "median <= 10%").error_text == ""
    assert Row("a", 2.0, float("nan"), "x", False, "PP not modelled").error_text == ""


def test_cent_accounting_counts_one_channel_standby_per_device_while_streaming():
    machine = load_machine("cent_aim")
    stats = {"command_energy_j": 0.25, "link_energy_j": 0.01, "open_row_energy_j": 0.64, "stream_s": 2e-3}
    report = SimpleNamespace(components={"pim": stats})
    # GDDR6_AiM precharged standby 183.15 mW per channel; 20 devices of 32 channels
    expected = 0.25 + 0.01 + 0.18315 * 2e-3 * 20 + 0.64 / 32
    assert cent_accounting_j(report, machine) == pytest.approx(expected, rel=1e-12)


def test_cent_contexts_are_its_decoding_lengths_minus_the_new_token():
    """run_sim.py: lengths 128 x 1..32, decoding keeps 512 < L <= 4096; L - 1 tokens are cached."""
    assert CENT_CONTEXTS == tuple(range(639, 4096, 128)) and len(CENT_CONTEXTS) == 28


def test_context_mean_is_the_mean_of_per_context_steps():
    machine = cent_machine({"devices": 8, "tp": 8, "pp": 1})
    contexts = (639, 2175)
    runs = [_run(machine, "llama2-7b", context=c) for c in contexts]
    tokens_per_s, cent_mj, physical_mj = context_mean(machine, "llama2-7b", contexts)
    assert tokens_per_s == pytest.approx((1 / runs[0].latency_s + 1 / runs[1].latency_s) / 2, rel=1e-12)
    assert physical_mj == pytest.approx((runs[0].energy_j + runs[1].energy_j) / 2 * 1e3, rel=1e-12)
    assert cent_mj == pytest.approx(sum(cent_accounting_j(r, machine) for r in runs) / 2 * 1e3, rel=1e-12)
    assert runs[1].latency_s > runs[0].latency_s          # attention grows with the context


def test_cent_cases_set_the_device_count_and_fail_pipeline_splits_without_stopping():
    assert cent_machine({"devices": 32, "tp": 32, "pp": 1}).spec.components["pim"]["devices"] == 32
    case = {"model": "llama2-70b", "devices": 32, "tp": 1, "pp": 80, "tokens_per_s": 1.0, "mJ_per_token": 1.0}
    rows = cent_aim({"tolerance": {"rel": 0.1}, "cases": [case]})
    assert [(r.target, r.result, r.tolerance) for r in rows] == [
        ("cent llama2-70b 32 dev PP80 TP1 tok/s", "FAIL", "PP not modelled"),
        ("cent llama2-70b 32 dev PP80 TP1 mJ/token (as CENT)", "FAIL", "PP not modelled")]
