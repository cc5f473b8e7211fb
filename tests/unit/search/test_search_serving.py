"""Serving searches: serving metrics as objectives, goodput per USD from every replica's die cost,
front designs written as serving files that reproduce their goodput; the shipped example runs."""
from pathlib import Path

import pytest

from hwsim.config.errors import ConfigError
from hwsim.search.area import AreaUnknown, die_cost_usd
from hwsim.search.deployment import deployment_area
from hwsim.search.output import write_outputs
from hwsim.search.run import non_dominated, objective_values, run_search
from hwsim.search.spec import load_search, search_from_dict
from hwsim.serving.spec import load_serving
from hwsim.sweep.points import Resolver

EXAMPLE = Path(__file__).resolve().parents[3] / "sweeps" / "serving_search.yaml"
A100_USD = die_cost_usd(826, 7) + 80 * 7   # GA100 826 mm^2 at 7 nm + 80 GB HBM2e at 7 USD/GB (memory_prices.yaml)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    search = load_search(EXAMPLE)
    search.spec = search.spec.model_copy(update={"budget": 3, "batch": 3})
    return run_search(search, tmp_path_factory.mktemp("serving-search"), progress=False)


def test_the_shipped_serving_search_runs_a_tiny_budget(result):
    assert len(result.trials) == 3 and all(t.values is not None for t in result.trials)
    for trial in result.trials:
        metrics = trial.record["metrics"]
        replicas = trial.params["replicas"]
        assert trial.point.task["serving"]["replicas"] == replicas
        assert trial.values[0] == metrics["goodput_rps"]
        assert trial.values[1] == pytest.approx(metrics["goodput_rps"] / (replicas * A100_USD), rel=1e-12)
    done = {t.point.key: t.values for t in result.trials}
    assert {t.point.key for t in result.front} == non_dominated(done, ["max", "max"])


def test_front_designs_are_serving_files_that_reproduce_their_goodput(result):
    written = write_outputs(result)
    files = [p for p in written if p.name.endswith("-serving.yaml")]
    assert len(files) == len(result.front)
    for trial, path in zip(result.front, files):
        serving = load_serving(path)
        assert serving.spec.replicas.count == trial.params["replicas"]
        assert serving.spec.scheduler.max_tokens == trial.params["budget"]
        assert serving.run().summary()["slo"]["goodput_rps"] == trial.record["metrics"]["goodput_rps"]


BASE = {"name": "s", "machine": "nvidia_a100_80gb", "workloads": [{"model": "llama2-7b"}], "budget": 2,
        "axes": {"replicas": {"path": "serving.replicas.count", "values": [1, 2]}}}


def test_serving_objectives_need_a_serving_block():
    with pytest.raises(ConfigError, match="objectives.goodput_rps_per_usd: unknown objective "
                                          r"\(a serving objective: add a serving: block\)"):
        search_from_dict({**BASE, "axes": {}, "objectives": {"goodput_rps_per_usd": "max"}})
    with pytest.raises(ConfigError, match="did you mean 'tpot_p99_s'"):
        search_from_dict({**BASE, "serving": {}, "objectives": {"tpot_p99": "min"}})
    spec = search_from_dict({**BASE, "serving": {}, "metrics": ["ttft_p99_s"],
                             "objectives": {"tpot_p99_s": "min", "energy_per_request_j": "min"}}).spec
    assert list(spec.objectives) == ["tpot_p99_s", "energy_per_request_j"]


def test_an_undefined_serving_metric_is_a_failed_trial_not_a_number():
    search = search_from_dict({**BASE, "serving": {}, "objectives": {"tpot_p99_s": "min"}})
    with pytest.raises(ValueError, match="tpot_p99_s is undefined at this design"):
        objective_values(search, None, {"tpot_p99_s": None})


def test_deployment_area_counts_replicas_and_the_decode_machine():
    search = search_from_dict({**BASE, "serving": {}, "objectives": {"goodput_rps_per_usd": "max"}})
    task = Resolver(search).task(search.spec.workloads[0], {"replicas": 2})
    area = deployment_area(task)
    assert area.mm2 == 2 * 826 and area.cost_usd == pytest.approx(2 * A100_USD, rel=1e-12)
    task["serving"] = {**task["serving"], "replicas": 1, "decode_machine": "nvidia_a100_80gb"}
    assert deployment_area(task).mm2 == 2 * 826
    task["serving"]["decode_machine"] = "nvidia_h100_sxm"          # no sourced area
    with pytest.raises(AreaUnknown, match="components decode.gpu have area: unknown"):
        deployment_area(task).require("goodput_rps_per_usd")


def test_the_shipped_split_search_prices_both_pools(tmp_path):
    search = load_search(EXAMPLE.with_name("serving_split_search.yaml"))
    search.spec = search.spec.model_copy(update={"budget": 2, "batch": 2})
    result = run_search(search, tmp_path, progress=False)
    for trial in result.trials:
        prefill, decode = trial.params["prefill"], trial.params["decode"]
        serving = trial.point.task["serving"]
        assert (serving["replicas"], serving["decode_replicas"]) == (prefill, decode)
        goodput = trial.record["metrics"]["goodput_rps"]
        assert trial.values[:2] == [goodput, pytest.approx(goodput / ((prefill + decode) * A100_USD), rel=1e-12)]
        assert trial.values[2] == trial.record["metrics"]["tpot_p99_s"]
