"""Replicas behind a router: round-robin sends each replica every replicas-th request; least-tokens
sends a request to the replica with the fewest tokens still to compute."""
import pytest

from hwsim.serving.requests import Request
from hwsim.serving.serve import serve


def test_two_round_robin_replicas_at_twice_the_rate_serve_like_one_replica(formula):
    kw = dict(arrival="constant", prompt="fixed:40", output="fixed:12", kv_tokens=4_000, max_seqs=4)
    one = serve(cost=formula(per_key=1e-4), n=40, rate=30.0, **kw)
    two = serve(cost=formula(per_key=1e-4), n=80, rate=60.0, replicas=2, **kw)
    ttfts = sorted(two.ttft(live) for live in two.done)
    assert ttfts[::2] == pytest.approx(sorted(one.ttft(live) for live in one.done), rel=1e-9)
    assert ttfts[1::2] == pytest.approx(ttfts[::2], rel=1e-9)
    s = two.summary()
    assert s["completed"] == 80 and s["energy_j"] == 2 * one.summary()["energy_j"]
    assert sorted(set(two.timeline.replica)) == [0, 1] and two.timeline.starts == sorted(two.timeline.starts)
    assert len(two.timeline.starts) == 2 * len(one.timeline.starts)


def test_replicas_must_be_positive(formula):
    with pytest.raises(ValueError, match="replicas must be >= 1"):
        serve(cost=formula(), n=2, replicas=0, kv_tokens=1000)


def test_least_outstanding_tokens_balances_skewed_requests_better_than_round_robin(formula):
    """Every other request is 20 times larger, so round-robin piles the large ones on one replica;
    least-tokens spreads the work, which lowers both the busiest replica's load and the latency."""
    requests = [Request(i, 0.05 * i, 400 if i % 2 else 20, 80 if i % 2 else 4) for i in range(60)]
    runs = {router: serve(requests=requests, cost=formula(0.01, 1e-3), replicas=2, router=router, max_seqs=4,
                          kv_tokens=20_000) for router in ("round-robin", "least-tokens")}
    busy = {router: [sum(lat for lat, rep in zip(r.timeline.latencies, r.timeline.replica) if rep == i)
                     for i in (0, 1)] for router, r in runs.items()}
    assert max(busy["least-tokens"]) < 0.8 * max(busy["round-robin"])
    assert min(busy["least-tokens"]) > 0.6 * max(busy["least-tokens"])
    e2e = {router: r.summary()["e2e_s"]["mean"] for router, r in runs.items()}
    assert e2e["least-tokens"] < e2e["round-robin"]
    assert all(live.generated == live.request.output for live in runs["least-tokens"].lives)


def test_an_unknown_router_gets_a_did_you_mean(formula):
    with pytest.raises(ValueError, match="unknown router 'least-token' \\(did you mean 'least-tokens'\\?\\)"):
        serve(cost=formula(), n=2, replicas=2, router="least-token", kv_tokens=1000)
