"""Capacity search: the highest arrival rate whose SLO attainment (the share of requests meeting
both their TTFT and TPOT targets) reaches a goal, by bisection as Vidur's capacity search does
(granularity 2.5 %, at most 20 runs; serving.md section 1). With attainment as DistServe's joint
form, the rate found is DistServe's goodput (divide by the devices for its per-GPU figure).

Every run serves the same seeded request stream at a different rate and shares one iteration memo,
so later runs cost little more than their new iteration shapes.
"""
from __future__ import annotations

from typing import NamedTuple

from hwsim.serving.cost import CostModel
from hwsim.serving.metrics import ServingReport
from hwsim.serving.serve import serve

GRANULARITY = 0.025     # Vidur: stop when the bracket is within 2.5 % of its upper end
MAX_RUNS = 20           # Vidur: at most 20 search iterations


class Capacity(NamedTuple):
    """The highest passing rate (0.0 if none passed), its report, and every (rate, attainment) tried."""

    rate: float
    report: ServingReport | None
    tried: list


def capacity_search(machine=None, model=None, *, goal: float = 0.9, start_rate: float = 1.0,
                    max_rate: float | None = None, granularity: float = GRANULARITY, max_runs: int = MAX_RUNS,
                    cost: CostModel | None = None, **serving) -> Capacity:
    """Bisect the arrival rate of ``serve(machine, model, rate=..., **serving)`` for the highest one
    whose SLO attainment is at least `goal`: double `start_rate` (at most to `max_rate`, the capacity
    found when it passes) until a rate fails, then halve the bracket until it is within `granularity`
    of its upper end or `max_runs` runs are spent."""
    if not 0 < goal <= 1 or start_rate <= 0 or granularity <= 0:
        raise ValueError(f"need 0 < goal <= 1, start_rate > 0 and granularity > 0, "
                         f"got {goal}, {start_rate}, {granularity}")
    if max_rate is not None and max_rate < start_rate:
        raise ValueError(f"max_rate ({max_rate}/s) is below the start rate ({start_rate}/s)")
    cost = cost or CostModel(machine, model)
    tried, best = [], None

    def passes(rate: float) -> bool:
        nonlocal best
        report = serve(cost.machine, cost.model, rate=rate, cost=cost, **serving)
        attainment = report.summary()["slo"]["attainment"]
        tried.append((rate, attainment))
        if attainment >= goal and (best is None or rate > best[0]):
            best = (rate, report)
        return attainment >= goal

    low, high = 0.0, start_rate
    while len(tried) < max_runs and passes(high):
        low, high = high, 2 * high if max_rate is None else min(2 * high, max_rate)
        if low == high:                         # max_rate passes: the bound is the answer
            break
    while len(tried) < max_runs and high - low > granularity * high:
        middle = (low + high) / 2
        low, high = (middle, high) if passes(middle) else (low, middle)
    return Capacity(best[0], best[1], tried) if best else Capacity(0.0, None, tried)
