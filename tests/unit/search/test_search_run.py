"""Searches with the toy evaluator: seeded reproduction, resume after a kill without recomputing,
a non-dominated front that matches the closed form, outputs, the `hwsim search` command."""
import pytest
import yaml
from search_toy import EVALUATOR, TOY_SEARCH, write_toy_search

import hwsim
from hwsim.cli import main
from hwsim.machine import load_machine
from hwsim.search.area import AreaUnknown
from hwsim.search.output import front_table, write_outputs
from hwsim.search.run import non_dominated, run_search
from hwsim.search.spec import load_search


def search(tmp_path, out="out", text=TOY_SEARCH, **options):
    return run_search(load_search(write_toy_search(tmp_path, text)), tmp_path / out, evaluator=EVALUATOR,
                      progress=False, **options)


def summary(result) -> list:
    return [(t.number, t.params, t.values) for t in result.trials]


@pytest.mark.parametrize("sampler", ["tpe", "nsga2"])
def test_same_seed_same_trials_and_front(tmp_path, sampler):
    text = TOY_SEARCH.replace("seed: 3", f"seed: 3\nsampler: {sampler}")
    first, second = search(tmp_path, "a", text), search(tmp_path, "b", text)
    assert first.computed > 0 and second.computed == first.computed       # separate stores: both evaluated
    assert summary(first) == summary(second)
    assert [t.number for t in first.front] == [t.number for t in second.front]
    assert summary(search(tmp_path, "d", text, jobs=2)) == summary(first)    # whatever the worker count
    other = search(tmp_path, "c", text.replace("seed: 3", "seed: 4"))
    assert summary(other) != summary(first)


def test_front_is_non_dominated_and_on_the_closed_form_front(tmp_path):
    result = search(tmp_path, text=TOY_SEARCH.replace("budget: 12", "budget: 30"))
    done = {t.point.key: t.values for t in result.trials if t.values}
    assert {t.point.key for t in result.front} == non_dominated(done, ["max", "min"])
    assert len({t.point.key for t in result.front}) == len(result.front)            # each design once
    assert all(t.params["batch"] == 1 for t in result.front)    # closed form: batch 1 dominates at every bandwidth
    assert all(t.values == [t.params["bw"], (t.params["bw"] / 100) ** 2] for t in result.front)
    failed = [t for t in result.trials if t.values is None]
    assert failed and all((t.params["batch"], t.params["bw"]) == (3, 500) for t in failed)
    assert "failed: ValueError: batch 3 at 500 GB/s is the failing design" in front_table(result)


def test_killed_search_resumes_without_recomputing(tmp_path, monkeypatch):
    log = tmp_path / "evaluations.log"
    monkeypatch.setenv("SEARCH_TOY_LOG", str(log))
    monkeypatch.setenv("SEARCH_TOY_KILL_AT", "5")      # the 5th evaluation ends the process's search
    monkeypatch.setattr("search_toy.COUNT", {"evaluations": 0})
    with pytest.raises(KeyboardInterrupt):
        search(tmp_path)
    before = log.read_text().splitlines()
    assert len(before) == 4
    resumed = search(tmp_path)
    after = log.read_text().splitlines()
    assert len(after) == len(set(after))                              # no design evaluated twice
    assert resumed.computed == len(after) - len(before)
    monkeypatch.delenv("SEARCH_TOY_KILL_AT")
    clean = search(tmp_path, "clean")
    assert summary(resumed) == summary(clean)                         # as if never killed
    again = search(tmp_path)
    assert again.computed == 0 and summary(again) == summary(clean)   # a finished search reruns from the store
    assert len(log.read_text().splitlines()) == len(after) + clean.computed


def test_area_objective_refuses_a_machine_without_area(tmp_path):
    text = TOY_SEARCH.replace("tokens_per_s: max", "tokens_per_s_per_mm2: max")
    with pytest.raises(AreaUnknown, match=r"objective tokens_per_s_per_mm2 needs the area of machine 'nvidia-t4', "
                                          r"but components gpu have area: unknown"):
        search(tmp_path, text=text)


def test_cli_refusal_is_one_line(tmp_path, capsys):
    path = write_toy_search(tmp_path, TOY_SEARCH.replace("tokens_per_s: max", "cost_usd: min"))
    assert main(["search", str(path), "--out", str(tmp_path / "out"), "--evaluator", EVALUATOR, "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("hwsim: error: objective cost_usd needs the area of machine 'nvidia-t4'")


def test_outputs_and_best_machines_run(tmp_path):
    result = search(tmp_path)
    written = write_outputs(result)
    names = {p.name for p in written}
    assert {"trials.csv", "front.csv", "pareto.png", "history.png"} <= names
    assert len((tmp_path / "out" / "trials.csv").read_text().splitlines()) == 1 + len(result.trials)
    machines = sorted((tmp_path / "out" / "best").glob("*.yaml"))
    assert len(machines) == len(result.front)
    trial = result.front[0]
    path = tmp_path / "out" / "best" / f"toy-{trial.number}.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["components"]["gpu"]["memory"]["bandwidth"] == f"{trial.params['bw']:g}GB/s"
    assert data["defaults"] == {"model": "gpt2-small", "phase": "decode", "batch": trial.params["batch"],
                                "context": 128}
    machine = load_machine(path)
    report = hwsim.simulate(machine)         # the machine file alone runs the searched workload
    assert report.tokens_per_s > 0


def test_cli_search_prints_the_front(tmp_path, capsys):
    path = write_toy_search(tmp_path)
    out = tmp_path / "cli"
    assert main(["search", str(path), "--out", str(out), "--evaluator", EVALUATOR, "--quiet", "--budget", "6"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("search toy: 6 trials (tpe, seed 3)") and "Pareto front of tokens_per_s (max)" in text
    assert (out / "pareto.png").exists() and (out / "study.journal").exists()


def test_cli_search_where_every_design_fails_says_so(tmp_path, capsys):
    text = TOY_SEARCH.replace("values: [1, 2, 3]", "values: [3]").replace(
        "range: {start: 100, stop: 600, step: 100}", "values: [500]")
    path = write_toy_search(tmp_path, text)
    assert main(["search", str(path), "--out", str(tmp_path / "cli"), "--evaluator", EVALUATOR, "--quiet",
                 "--budget", "2"]) == 0
    text = capsys.readouterr().out
    assert "the failing design" in text and "and 0 machine (and serving) files in" in text


def test_default_search_runs_the_shipped_example(tmp_path, capsys):
    """`hwsim search` alone: the PIM-GPT example, here cut to 2 trials of real simulations."""
    assert main(["search", "--budget", "2", "--out", str(tmp_path), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("search pim-gpt-search: 2 trials (tpe, seed 0), 2 evaluated now")
    machine = load_machine(next((tmp_path / "best").glob("*.yaml")))
    assert machine.spec.defaults.model == "gpt2-medium"


def test_continuous_integer_and_zipped_axes(tmp_path):
    text = TOY_SEARCH.replace('''  batch: {path: workload.batch, values: [1, 2, 3]}
  bw: {path: machine.components.gpu.memory.bandwidth, range: {start: 100, stop: 600, step: 100}, unit: GB/s}''',
                              '''  batch: {path: workload.batch, uniform: [1, 2], integer: true}
  bw: {path: machine.components.gpu.memory.bandwidth, loguniform: [100, 600], unit: GB/s}
  seed: {path: workload.seed, values: [1, 2], zip: pair}
  context: {path: workload.context, values: [64, 128], zip: pair}''')
    result = search(tmp_path, text=text)
    for trial in result.trials:
        params = trial.params
        assert params["batch"] in (1, 2) and 100 <= params["bw"] <= 600
        assert (params["seed"], params["context"]) in ((1, 64), (2, 128))        # zipped axes move together
        assert trial.point.task["options"]["context"] == params["context"]
    assert len({t.params["bw"] for t in result.trials}) > 5                         # continuous values


def test_dask_cluster_gives_the_local_trials(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = search(tmp_path, "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = search(tmp_path, "dask", cluster=cluster.scheduler_address)   # one client for every round
    assert on_dask.computed == local.computed and summary(on_dask) == summary(local)
