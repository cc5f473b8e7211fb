"""The validation runner: INFO rows are printed but never pass or fail a run, and a group's tabulated
INFO rows are one summary line unless every row is asked for (CENT's rows: test_cent_rows.py)."""
from hwsim.validate import runner
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

