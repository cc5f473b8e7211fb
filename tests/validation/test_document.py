"""`hwsim validate --plot`: docs/validation.md holds every target row, the counts, the checks' reasons
and the compact INFO tables; the parity plot is written; a rerun changes only the date line."""
import pytest

from hwsim import cli
from hwsim.validate import document, runner
from hwsim.validate.runner import Row, Validation


def fake_check(data):
    """Fake check: its rows disagree because the model is a stub (the reason the page must quote)."""
    return ROWS


ROWS = [Row("widget tok/s", 10.0, 10.5, "tok/s", True, "rel 10%"),
        Row("widget latency", 2.0, 3.0, "s", False, "rel 10%"),
        Row("widget pp row", 1.0, float("nan"), "tok/s", False, "PP not modelled"),
        Row("widget energy beside", 5.0, 9.0, "mJ", True, "context", info=True),
        *(Row(f"kernel {k} on m{c} median", 0.1, 0.05 * (i + c), "|err|", True, "median <= 10%", True,
              (k, f"m{c} median")) for i, k in enumerate(("qkv", "rope")) for c in (1, 2))]


def _validation(monkeypatch, tmp_path) -> Validation:
    monkeypatch.setitem(runner.CHECKS, "fake_group", fake_check)
    targets = tmp_path / "targets.yaml"
    targets.write_text("fake_group: {}\n")
    return Validation(targets, {"fake_group": ROWS}, [("later_group", "no check written yet")])


def test_page_lists_every_listed_row_the_counts_the_reasons_and_one_info_table(monkeypatch, tmp_path):
    page = document.markdown(_validation(monkeypatch, tmp_path), "hwsim validate --plot docs", "DATE")
    assert "**1 pass, 2 fail, 5 info (context, not a target).**" in page
    for row in ROWS[:4]:
        assert f"| {row.target} | {row.published:.6g} | {row.simulated:.6g} | {row.unit} |" in page
    assert "| widget latency | 2 | 3 | s | +50.00% | rel 10% | **FAIL** |" in page
    assert "> Fake check: its rows disagree because the model is a stub" in page
    assert "|  | m1 median | m2 median |" in page and "| rope | 0.1 | 0.15 |" in page
    assert "kernel qkv on m1" not in page                      # tabulated, not one line each
    assert "| later_group | no check written yet |" in page
    assert "](validation/parity.png)" in page


def test_rerun_changes_only_the_date_line(monkeypatch, tmp_path):
    validation = _validation(monkeypatch, tmp_path)
    first = document.markdown(validation, "hwsim validate --plot docs", "2026-01-01 00:00 UTC").splitlines()
    second = document.markdown(validation, "hwsim validate --plot docs", "2026-01-02 09:30 UTC").splitlines()
    assert [(a, b) for a, b in zip(first, second) if a != b] == [
        ("| date | 2026-01-01 00:00 UTC |", "| date | 2026-01-02 09:30 UTC |")]


def test_validate_plot_writes_the_page_and_a_png_for_a_subset(tmp_path, capsys):
    status = cli.main(["validate", "--only", "systolic_gemm", "--only", "dram_analytic", "--plot", str(tmp_path)])
    printed = capsys.readouterr().out
    page = (tmp_path / "validation.md").read_text()
    png = (tmp_path / "validation" / "parity.png").read_bytes()
    assert status == 0 and png[:4] == b"\x89PNG" and len(png) > 10_000
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["parity.png", "validation", "validation.md"]  # no temp
    targets = [line.split("  ")[0].strip() for line in printed.splitlines() if line.endswith("PASS")]
    assert len(targets) == 23 and all(f"| {target} |" in page for target in targets)
    counts = printed.split("\n\n")[1].splitlines()[0]
    assert counts == "23 pass, 0 fail, 0 info (context, not a target)" and f"**{counts}.**" in page
    assert f"`hwsim validate --only=systolic_gemm --only=dram_analytic --plot {tmp_path}`" in page


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    page = tmp_path / "validation.md"
    page.write_text("old")

    def fail(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        document._replace(page, fail)
    assert page.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["validation.md"]


def test_terminal_summarises_a_tabulated_group_and_all_lists_it(capsys):
    assert cli.main(["validate", "--only", "collectives"]) == 0
    short = capsys.readouterr().out
    assert cli.main(["validate", "--only", "collectives", "--all"]) == 0
    every = capsys.readouterr().out
    assert "  collectives: 10 INFO rows (context, not targets): hwsim " in short and "vidur" not in short
    assert sum(line.startswith("vidur ") and line.endswith("INFO") for line in every.splitlines()) == 8
    assert sum(line.startswith("nccl-tests ") and line.endswith("INFO") for line in every.splitlines()) == 2
