"""Disaggregation with several replicas per pool (DistServe's prefill and decode instances): the
prefill and decode pools each route over their replicas, hand-computed with the formula cost;
the serving file, the command line and the deployment's silicon count them."""
import pytest

from hwsim.cli import main
from hwsim.components.interconnect.presets import link_preset
from hwsim.serving.serve import serve
from hwsim.serving.spec import serving_from_dict

LINK = link_preset("roce_400g")
KV_S = LINK.latency + 100 * 512 * 1024 / (LINK.sustained or LINK.bandwidth)   # 100 tokens of Llama-2-7B KV
TWO = dict(n=2, rate=1e9, arrival="constant", prompt="fixed:100", output="fixed:3", kv_tokens=10_000,
           kv_link="roce_400g", scheduler="chunked")     # the second request arrives 1 ns after the first


def offsets(report, times):
    arrival = report.lives[0].request.arrival_s
    return [getattr(live, times) - arrival for live in report.lives]


def test_two_prefill_replicas_prefill_two_prompts_side_by_side(formula):
    """One prefill replica runs the first prompt alone (0.1 + 0.01 x 100 = 1.1 s), then the second
    (1.1 s more); two replicas (round-robin) run one each at once."""
    one = serve(cost=formula(), decode_cost=formula(), **TWO)
    two = serve(cost=formula(), decode_cost=formula(), replicas=2, **TWO)
    assert offsets(one, "first_token_s") == pytest.approx([1.1, 2.2], abs=1e-8)
    assert offsets(two, "first_token_s") == pytest.approx([1.1, 1.1], abs=1e-8)
    assert sorted(set(two.timeline.replica)) == [0, 1, 2] and two.devices == 3


def test_two_decode_replicas_decode_two_requests_apart(formula):
    """Both prompts prefilled side by side (1.1 s), both KV caches cross the link (KV_S). One decode
    replica (chunked, mixing): the first request's token alone (0.11 s), then both (0.12 s: the first
    finishes), then the second's last alone (0.11 s); two decode replicas: 2 x 0.11 s each."""
    one = serve(cost=formula(), decode_cost=formula(), replicas=2, **TWO)
    two = serve(cost=formula(), decode_cost=formula(), replicas=2, decode_replicas=2, **TWO)
    start = 1.1 + KV_S
    assert offsets(one, "finish_s") == pytest.approx([start + 0.23, start + 0.34], abs=1e-8)
    assert offsets(two, "finish_s") == pytest.approx([start + 0.22, start + 0.22], abs=1e-8)
    assert sorted(set(two.timeline.replica)) == [0, 1, 2, 3] and two.devices == 4
    assert all(live.generated == 3 for live in two.lives) and two.summary()["kv_transfer_s"] == 2 * KV_S


def test_the_serving_file_and_the_command_line_give_decode_replicas(tmp_path, capsys):
    spec = serving_from_dict({"disaggregation": {"decode_machine": "nvidia_a100_80gb", "decode_replicas": 3},
                              "replicas": {"count": 2}}).spec
    arguments = spec.arguments()
    assert (arguments["replicas"], arguments["decode_replicas"]) == (2, 3)
    assert main(["serve", "--requests", "4", "--prompt", "fixed:64", "--output", "fixed:4", "--decode-machine",
                 "nvidia_a100_80gb", "--replicas", "2", "--decode-replicas", "2", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert "4/4 requests served" in capsys.readouterr().out
    assert main(["serve", "--decode-replicas", "2", "--no-progress"]) == 2
    assert "give --decode-machine too" in capsys.readouterr().err
