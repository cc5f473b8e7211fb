"""Replicas behind a round-robin router: each replica serves every replicas-th request on its own."""
import pytest

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
