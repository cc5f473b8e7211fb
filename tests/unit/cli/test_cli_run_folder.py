"""Results never mix: the run folder's name covers every input that changes the result, a rerun of
the same inputs overwrites its own folder, and a report never sits beside an older run's plots."""
import shutil
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.machine import ARCHITECTURES_DIR
from hwsim.report.export import OUTPUTS

T4 = ["nvidia_t4", "gpt2-xl", "--context", "64", "--no-plots"]
MOE = ["nvidia_h100_sxm", "olmoe-1b-7b", "--context", "64", "--no-plots"]


@pytest.fixture
def run_in(tmp_path, monkeypatch, capsys):
    """Run `hwsim run ARGS` in an empty folder; returns the results/ folder it wrote."""
    monkeypatch.chdir(tmp_path)

    def run(*args) -> Path:
        before = set((tmp_path / "results").glob("*"))
        assert main(["run", *args]) == 0, capsys.readouterr().err
        written = set((tmp_path / "results").glob("*")) - before
        return written.pop() if written else None
    return run


def test_the_name_is_readable_and_a_rerun_lands_in_the_same_folder(run_in):
    first = run_in(*T4)
    assert first.name.startswith("nvidia_t4-gpt2-xl-decode-b1-c64-") and len(first.name.split("-")[-1]) == 8
    assert run_in(*T4) is None                                       # nothing new: same folder
    assert run_in(str(ARCHITECTURES_DIR / "nvidia_t4.yaml"), *T4[1:]) is None   # a path names the same file


@pytest.mark.parametrize("change", [["--weights", "int8"], ["--activations", "int8"], ["--kv", "int8"]])
def test_formats_change_the_folder(run_in, change):
    assert run_in(*T4) != run_in(*T4, *change)


@pytest.mark.parametrize("change", [["--seed", "7"], ["--routing", "zipf"], ["--steps", "2"]])
def test_seed_routing_and_steps_change_the_folder(run_in, change):
    assert run_in(*MOE) != run_in(*MOE, *change)


def test_the_zipf_exponent_changes_the_folder_only_where_it_is_used(run_in):
    zipf = run_in(*MOE, "--routing", "zipf")
    assert run_in(*MOE, "--routing", "zipf", "--zipf-s", "1.5") != zipf
    run_in(*MOE)
    assert run_in(*MOE, "--zipf-s", "1.5") is None                 # uniform routing ignores it


def test_two_machine_files_with_one_stem_do_not_collide(run_in, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(ARCHITECTURES_DIR / "nvidia_t4.yaml", tmp_path / "a" / "t4.yaml")
    (tmp_path / "b" / "t4.yaml").write_text("extends: nvidia_t4\ncomponents: {gpu: {memory: {bandwidth: 600GB/s}}}\n")
    first, second = run_in("a/t4.yaml", *T4[1:]), run_in("b/t4.yaml", *T4[1:])
    assert first != second and first.name.startswith("t4-") and second.name.startswith("t4-")


def test_a_replayed_trace_file_names_its_own_folder(run_in, tmp_path):
    run_in(*T4, "--save-trace", "results/a.json")
    run_in(*T4, "--context", "128", "--save-trace", "results/b.json")
    assert run_in("nvidia_t4", "--trace", "results/a.json", "--no-plots") != run_in(
        "nvidia_t4", "--trace", "results/b.json", "--no-plots")


def test_no_plots_removes_the_plots_of_an_earlier_run_and_nothing_else(tmp_path, capsys):
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    assert main(["run", *T4[:-1], "--out", str(tmp_path)]) == 0
    assert all((tmp_path / name).exists() for name in OUTPUTS)
    assert main(["run", *T4, "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "ops.csv", "report.json", "trace.json"]
    assert mine.read_text() == "keep me"


def test_the_readme_keeps_saved_traces_under_results():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text().split()
    files = [readme[i + 1] for i, word in enumerate(readme) if word in ("--save-trace", "--trace")]
    assert files and all(name.startswith("results/") for name in files)
