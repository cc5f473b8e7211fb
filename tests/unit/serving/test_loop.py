"""The serving loop against closed forms (hand schedule, M/D/1, Little's law) and policy behaviour
(conservation properties: test_conservation.py)."""
import numpy as np
import pytest

from hwsim.serving.cost import CostModel
from hwsim.serving.requests import Request
from hwsim.serving.serve import serve
from hwsim.workload.iteration import Iteration, Seq


def test_a_fixed_schedule_matches_a_hand_computation(formula):
    """One sequence at a time, latency 0.1 s + 0.01 s per new token:
    A (t 0, 10 + 3): prefill 0.2 -> first token 0.2; decodes 0.11, 0.11 -> done 0.42.
    B (t 0.05, 20 + 2): waits for A; prefill 0.42 -> 0.72 (TTFT 0.67); decode -> 0.83 (E2E 0.78)."""
    requests = [Request(0, 0.0, 10, 3), Request(1, 0.05, 20, 2)]
    report = serve(requests=requests, scheduler="continuous", max_seqs=1, kv_tokens=10_000, cost=formula())
    (a, b) = report.lives
    assert (a.first_token_s, a.finish_s, a.scheduled_s) == pytest.approx((0.2, 0.42, 0.0))
    assert (b.scheduled_s, b.first_token_s, b.finish_s) == pytest.approx((0.42, 0.72, 0.83))
    s = report.summary()
    assert s["ttft_s"]["mean"] == pytest.approx((0.2 + 0.67) / 2)
    assert s["e2e_s"]["mean"] == pytest.approx((0.42 + 0.78) / 2)
    assert s["tpot_s"]["mean"] == pytest.approx((0.11 + 0.11) / 2)
    assert s["queueing_s"]["p50"] == pytest.approx(0.37 / 2)
    assert s["energy_j"] == 10 + 1 + 1 + 20 + 1


def test_one_sequence_at_a_time_is_an_md1_queue_on_the_machine():
    """Poisson arrivals, fixed lengths, max_seqs 1: mean wait = rho tau / (2 (1 - rho)) (Pollaczek-
    Khinchine, serving.md section 8), tau = the simulated prefill + decodes of one request."""
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    report = serve(n=1, rate=1.0, prompt=64, output=8, max_seqs=1, cost=cost)
    tau = report.lives[0].finish_s - report.lives[0].request.arrival_s
    rho = 0.5
    report = serve(n=20_000, rate=rho / tau, prompt=64, output=8, max_seqs=1, cost=cost, seed=11)
    expected = rho * tau / (2 * (1 - rho))
    waits = [live.scheduled_s - live.request.arrival_s for live in report.lives]
    assert np.mean(waits) == pytest.approx(expected, rel=0.05)
    assert report.summary()["distinct_iterations"] == 0             # all 8 shapes came from the memo


def test_littles_law_holds_on_the_simulated_queue(formula):
    report = serve(n=3000, rate=20.0, prompt="uniform:10:200", output="uniform:1:60", scheduler="chunked",
                   max_tokens=128, kv_tokens=20_000, cost=formula(0.01, 1e-4, 1e-6), seed=5)
    timeline, done = report.timeline, report.done
    assert len(done) == 3000
    span = timeline.end_s                                             # L = lambda W over [0, end]
    in_system, waiting = timeline.in_system_s / span, timeline.unscheduled_s / span
    lam = len(done) / span
    assert in_system == pytest.approx(lam * np.mean([l.finish_s - l.request.arrival_s for l in done]), rel=1e-9)
    assert waiting == pytest.approx(lam * np.mean([l.scheduled_s - l.request.arrival_s for l in done]), rel=1e-9)
    assert in_system > 1                                              # a real queue, not an idle server


def test_a_preempted_request_resumes_and_completes(formula):
    requests = [Request(0, 0.0, 32, 40), Request(1, 0.0, 31, 40)]
    report = serve(requests=requests, scheduler="continuous", block_size=16, kv_tokens=5 * 16, cost=formula())
    a, b = report.lives
    assert b.preemptions >= 1 and a.preemptions == 0
    assert b.generated == 40 and b.finish_s > a.finish_s
    assert report.summary()["preemptions"] == b.preemptions


def test_requests_that_can_never_run_are_rejected_with_their_reason(formula, tmp_path):
    requests = [Request(0, 0.0, 4000, 200), Request(1, 0.0, 900, 200), Request(2, 0.1, 10, 5)]
    report = serve(requests=requests, kv_tokens=1024, slo_tpot=0.2, cost=formula())
    reasons = [live.rejected for live in report.lives]
    assert "exceed the model's max_position 4096" in reasons[0]
    assert "needs 69 KV blocks" in reasons[1] and reasons[2] == ""
    folder = report.write(tmp_path)
    rows = (folder / "requests.csv").read_text().splitlines()
    assert "max_position" in rows[1] and "KV blocks" in rows[2] and rows[3].endswith(",")
    assert report.summary()["completed"] == 1 and report.summary()["slo"]["attainment"] == pytest.approx(1 / 3)


def test_continuous_batching_serves_more_requests_per_second_than_static_at_lower_latency(formula):
    """Decode is memory-bound (an iteration costs little more with more sequences); outputs vary,
    so a static batch idles on its longest request (Orca, serving.md section 3)."""
    runs = {policy: serve(n=400, rate=50.0, prompt="uniform:20:100", output="uniform:1:100", scheduler=policy,
                          max_seqs=16, kv_tokens=100_000, cost=formula(0.02, 1e-5), seed=2).summary()
            for policy in ("static", "continuous")}
    assert runs["continuous"]["requests_per_s"] > 1.5 * runs["static"]["requests_per_s"]
    assert runs["continuous"]["e2e_s"]["mean"] < runs["static"]["e2e_s"]["mean"]


def test_chunked_prefill_lowers_p99_tpot_against_prefill_first_under_load(formula):
    """Long prompts stall every running decode for a whole prefill under prefill-first batching;
    a token budget bounds each iteration (Sarathi-Serve, serving.md section 3)."""
    runs = {policy: serve(n=300, rate=8.0, prompt="uniform:500:3000", output="uniform:20:200", scheduler=policy,
                          max_tokens=256 if policy == "chunked" else None, kv_tokens=400_000,
                          cost=formula(0.01, 5e-5), seed=4).summary()
            for policy in ("continuous", "chunked")}
    assert runs["chunked"]["tpot_s"]["p99"] < 0.7 * runs["continuous"]["tpot_s"]["p99"]
    assert runs["chunked"]["completed"] == runs["continuous"]["completed"] == 300


def test_a_fixed_schedule_on_the_machine_matches_a_hand_computation_from_its_iterations():
    """Continuous batching, A (t 0, 32 + 3) and B (t 0, 16 + 2) together, C (t 1 s, 8 + 1) alone:
    both prompts prefill in one iteration, decode together until B is done, then A alone;
    C arrives when the server is idle. Each latency is the machine's simulated iteration."""
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    it = lambda *seqs: cost(Iteration(tuple(sorted(seqs)))).latency_s
    requests = [Request(0, 0.0, 32, 3), Request(1, 0.0, 16, 2), Request(2, 1.0, 8, 1)]
    a, b, c = serve(requests=requests, scheduler="continuous", cost=cost).lives
    first = it(Seq(32, 0), Seq(16, 0))
    second = first + it(Seq(1, 32), Seq(1, 16))
    assert (a.first_token_s, b.first_token_s, b.finish_s) == (first, first, second)
    assert a.finish_s == second + it(Seq(1, 33))
    assert c.first_token_s == c.finish_s == 1.0 + it(Seq(8, 0)) and a.finish_s < 1.0
