"""Capacity search: bisection on the arrival rate brackets the highest rate meeting the SLO goal."""
import pytest

from hwsim.serving.capacity_search import capacity_search


def test_bisection_brackets_the_capacity_of_a_one_at_a_time_server(formula):
    """max_seqs 1, constant arrivals, fixed lengths: a request takes tau = prefill 0.1 + 0.01 x 50
    plus 9 decodes of 0.11 = 1.59 s; below 1 / tau nobody queues, above it queueing grows without
    bound, so with a TTFT target just above the prefill the capacity is 1 / tau."""
    tau = 0.6 + 9 * 0.11
    found = capacity_search(goal=0.9, start_rate=0.1, cost=formula(), n=60, arrival="constant",
                            prompt="fixed:50", output="fixed:10", max_seqs=1, kv_tokens=10_000,
                            slo_ttft=0.65, slo_tpot=1.0)
    assert found.rate <= 1 / tau * (1 + 1e-9)
    assert found.rate >= 1 / tau * (1 - 0.025) * 0.99
    assert all((attainment >= 0.9) == (rate <= found.rate) for rate, attainment in found.tried)
    assert found.report.summary()["slo"]["attainment"] >= 0.9 and len(found.tried) <= 20


def test_bad_goals_are_refused(formula):
    with pytest.raises(ValueError, match="0 < goal <= 1"):
        capacity_search(goal=1.5, cost=formula())
