"""The validation runner: INFO rows are printed but never pass or fail a run; CENT's energy accounting."""
from types import SimpleNamespace

import pytest

from hwsim.machine import load_machine
from hwsim.validate import runner
from hwsim.validate.checks.pim import cent_accounting_j
from hwsim.validate.runner import Row


def _run_with(rows, monkeypatch, tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("fake_group: {}\n")
    monkeypatch.setitem(runner.CHECKS, "fake_group", lambda data: rows)
    monkeypatch.setattr(runner, "SHIPPED_GROUPS", [])        # only the fake group
    lines = []
    return runner.run_validation(targets, out=lines.append), lines


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


def test_cent_accounting_counts_one_channel_standby_per_device_while_streaming():
    machine = load_machine("cent_aim")
    stats = {"command_energy_j": 0.25, "link_energy_j": 0.01, "open_row_energy_j": 0.64, "stream_s": 2e-3}
    report = SimpleNamespace(components={"pim": stats})
    # GDDR6_AiM precharged standby 183.15 mW per channel; 20 devices of 32 channels
    expected = 0.25 + 0.01 + 0.18315 * 2e-3 * 20 + 0.64 / 32
    assert cent_accounting_j(report, machine) == pytest.approx(expected, rel=1e-12)
