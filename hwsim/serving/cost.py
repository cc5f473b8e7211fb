"""Iteration cost, memoized exactly: each distinct iteration shape is simulated once on the
machine (``hwsim.step.simulate_iteration``) and later iterations of that shape reuse the result.

The memo belongs to one (machine, model, precision, routing, seed); its key is the ``Iteration``
itself, the exact ordered (new, cached, logits) of every sequence, so a hit returns bit for bit
what simulating again would (MoE routing is drawn from the seed for that shape, so it repeats too;
a request's tokens are not followed from one iteration to the next, so routing reuse across decode
steps is not modelled in serving runs).
No rounding, no fitted model: a stream of thousands of requests costs only its distinct iterations
(LLMServingSim v1 reuses per-shape results the same way, serving.md section 7).
"""
from __future__ import annotations

from typing import NamedTuple

from hwsim.machine import Machine, load_machine
from hwsim.step import simulate_iteration
from hwsim.workload.iteration import Iteration
from hwsim.workload.model import ModelSpec, load_model


class IterationCost(NamedTuple):
    """What the serving loop needs from one simulated iteration."""

    latency_s: float
    energy_j: float


class CostModel:
    """``cost(iteration)`` -> IterationCost, simulating each distinct shape once."""

    def __init__(self, machine, model=None, precision=None, routing=None, seed: int = 0):
        self.machine = machine if isinstance(machine, Machine) else load_machine(machine)
        model = self.machine.workload(model).model          # None: the machine's defaults: model
        self.model = model if isinstance(model, ModelSpec) else load_model(model)
        self.precision = precision or self.machine.precision_for(self.model)
        self.routing, self.seed = routing, seed
        self.memo: dict[Iteration, IterationCost] = {}
        self.calls = 0

    def simulate(self, iteration: Iteration) -> IterationCost:
        """The uncached cost: one run of the iteration on the machine's components."""
        report = simulate_iteration(self.machine, self.model, iteration, self.precision, self.routing, self.seed)
        return IterationCost(report.latency_s, report.energy_j)

    def __call__(self, iteration: Iteration) -> IterationCost:
        self.calls += 1
        cost = self.memo.get(iteration)
        if cost is None:
            cost = self.memo[iteration] = self.simulate(iteration)
        return cost

    @property
    def hit_rate(self) -> float:
        """Share of calls answered from the memo."""
        return 1 - len(self.memo) / self.calls if self.calls else 0.0
