"""Iteration cost, memoized: each distinct iteration is simulated once on the machine and later
iterations reuse the result.

The memo belongs to one (machine, model, precision, routing, seed). Its key is what the machine's
timing depends on:
- on a machine whose step is the sum of its operators' times (one serial component with pure
  timing, or tensor-parallel ranks of such identical devices plus their all-reduces alone on a link
  fabric; a dense MHA/GQA model; ``hwsim.serving.additive``), the body of the iteration is keyed by
  (new tokens, sampling rows) and its attention kernels are timed by the component per iteration,
  so the memo hits whenever the batch's token counts repeat;
- on every other machine without a parallelism plan, what the iteration's operators depend on
  (``hwsim.workload.trace.work_key``: token and sampling rows, and per attention kernel form its
  summed work and its sequences' (queries, keys), in any order), so iterations whose traces are
  equal share one simulation;
- under a plan (which splits the sequences over data-parallel units in batch order), the exact
  ordered (new, cached, logits) of every sequence, the ``Iteration`` itself.
A hit returns bit for bit what simulating again would (MoE routing is drawn from the seed and the
token count, so it repeats too; routing reuse across decode steps is not followed in serving runs).
Optional bucketing (``bucket`` tokens) rounds every sequence's cached tokens up to a multiple of
the bucket before costing, so more iterations share a shape; ``benchmarks/serving.py`` reports its
error against the exact mode. No fitted model: a stream of thousands of requests costs only its
distinct iterations (LLMServingSim v1 reuses per-shape results the same way, serving.md section 7).
"""
from __future__ import annotations

from typing import NamedTuple

from hwsim.machine import Machine, load_machine
from hwsim.serving.additive import AdditiveCost, additive_reason
from hwsim.step import simulate_iteration
from hwsim.workload.iteration import Iteration, Seq
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.trace import work_key


class IterationCost(NamedTuple):
    """What the serving loop needs from one simulated iteration."""

    latency_s: float
    energy_j: float


class CostModel:
    """``cost(iteration)`` -> IterationCost, simulating each distinct shape once.

    additive: split the cost where the machine allows it (None: whenever it does; False: never,
    every iteration keyed by its exact shape). bucket: round cached tokens up to a multiple of it."""

    def __init__(self, machine, model=None, precision=None, routing=None, seed: int = 0,
                 additive: bool | None = None, bucket: int = 1):
        self.machine = machine if isinstance(machine, Machine) else load_machine(machine)
        model = self.machine.workload(model).model          # None: the machine's defaults: model
        self.model = model if isinstance(model, ModelSpec) else load_model(model)
        self.precision = precision or self.machine.precision_for(self.model)
        self.routing, self.seed = routing, seed
        if bucket < 1:
            raise ValueError(f"bucket must be >= 1 token, got {bucket}")
        self.bucket = bucket
        why = additive_reason(self.machine, self.model) if additive is not False and routing is None else "off"
        if additive and why:
            raise ValueError(f"{self.machine.name}: iteration cost cannot be split: {why}")
        self.additive = AdditiveCost(self.machine, self.model, self.precision, seed) if not why else None
        self.memo: dict = {}
        self.calls = 0

    def simulate(self, iteration: Iteration) -> IterationCost:
        """The uncached cost: one run of the iteration on the machine's components."""
        report = simulate_iteration(self.machine, self.model, iteration, self.precision, self.routing, self.seed)
        return IterationCost(report.latency_s, report.energy_j)

    def bucketed(self, iteration: Iteration) -> Iteration:
        """`iteration` with every sequence's cached tokens rounded up to a multiple of the bucket, at
        most to the model's last position (a sequence near it would otherwise round past it)."""
        b, last = self.bucket, self.model.max_position
        return Iteration(tuple(Seq(s.new, min(-(-s.cached // b) * b, last - s.new), s.logits) for s in iteration.seqs))

    def __call__(self, iteration: Iteration) -> IterationCost:
        self.calls += 1
        if self.bucket > 1:
            iteration = self.bucketed(iteration)
        if self.additive is not None:
            key = self.additive.key(iteration)
            if key not in self.memo:
                self.memo[key] = self.additive.body(iteration)
            return IterationCost(*self.additive(iteration))
        key = iteration if self.machine.spec.parallelism else work_key(self.model, iteration)
        cost = self.memo.get(key)
        if cost is None:
            cost = self.memo[key] = self.simulate(iteration)
        return cost

    @property
    def hit_rate(self) -> float:
        """Share of calls answered from the memo (the additive mode: of iteration bodies)."""
        return 1 - len(self.memo) / self.calls if self.calls else 0.0
