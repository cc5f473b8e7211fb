"""Machines with a data-parallel plan serve as dp replicas behind the router: the run equals serving
a hand-made replica machine (the devices / dp, the plan without dp) with that many replicas; expert
parallelism and token_split overlap are one-line refusals."""
import copy

import pytest

from hwsim.cli import main
from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.serving.cost import CostModel
from hwsim.serving.serve import serve

STREAM = dict(n=12, rate=20, arrival="constant", prompt="fixed:64", output="fixed:6", scheduler="continuous")
DGX = load_document(ARCHITECTURES_DIR / "dgx_a100_8gpu_nvlink.yaml").data     # 8 A100s, tp 8


def machine(parallelism: dict, gpus: int):
    data = copy.deepcopy(DGX)
    data["components"]["gpu"]["count"] = gpus
    data["parallelism"] = parallelism
    return machine_from_dict(data)


def rows(report):
    return [row[1:] for row in report.rows()]


@pytest.mark.parametrize("plan, replica, replica_gpus", [
    ({"tp": 2, "dp": 4}, {"tp": 2}, 2),          # a replica of 2 GPUs in tensor parallel
    ({"dp": 8}, None, 1),                        # a replica of one GPU, without a plan
])
def test_a_dp_plan_serves_as_replicas_of_its_devices_over_dp(plan, replica, replica_gpus):
    data_parallel = serve(machine(plan, 8), "llama2-7b", **STREAM)
    by_hand = serve(machine(replica, replica_gpus), "llama2-7b", replicas=plan["dp"], **STREAM)
    assert rows(data_parallel) == rows(by_hand)
    summary, expected = data_parallel.summary(), by_hand.summary()
    assert summary["kv"] == expected["kv"] and summary["energy_j"] == expected["energy_j"]
    assert summary["machine"] == "dgx-a100-8gpu-nvlink" and data_parallel.devices == 8
    assert len(set(data_parallel.timeline.replica)) == plan["dp"]        # every replica ran iterations


def test_replicas_of_a_dp_machine_multiply():
    report = serve(machine({"tp": 4, "dp": 2}, 8), "llama2-7b", replicas=2, **STREAM)
    assert report.devices == 16 and len(set(report.timeline.replica)) == 4


def test_a_capacity_search_shares_the_replica_memo():
    cost = CostModel(machine({"tp": 2, "dp": 4}, 8), "llama2-7b")
    first = serve(cost=cost, **STREAM)
    again = serve(cost=cost, **STREAM)
    assert first.distinct_iterations > 0 and again.distinct_iterations == 0
    assert rows(first) == rows(again)


def test_expert_parallel_and_token_split_plans_are_refused_in_one_line(capsys):
    assert main(["serve", "h100_8gpu_nvlink", "deepseek-v2-lite", "--requests", "2", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("hwsim: error: h100-8gpu-nvlink: expert parallelism (ep 8) joins its 8 data-parallel")
    assert len(error.splitlines()) == 1
    with pytest.raises(ValueError, match="overlap token_split halves every iteration's batch"):
        serve(machine({"tp": 4, "dp": 2, "overlap": "token_split"}, 8), "llama2-7b", **STREAM)
