"""Iteration cost split where the machine allows it: on a machine whose every operator runs on one
serial component with pure timing (``SerialComponent.pure_timing``: an operator's time depends on
the operator alone, as on the roofline GPU), the step lasts exactly the sum of its operators' times.
An iteration's operators then split into a body that depends only on its token counts (new tokens,
sampling rows: projections, norms, FFN, LM head) and the attention kernels that depend on its
contexts (``hwsim.workload.trace.attention_kernels``, the same ops in every layer).

Every layer of a dense model runs the same operators, so the body is the trace of a one-layer copy
of the model: its operators outside the layers once and its layer's `layers` times, simulated
once per (tokens, sampling rows) and memoized; the attention kernels are timed per iteration by
the component itself (a handful of ops, memoized by their work). The result
equals the event simulation bit for bit: latency is the sum of the same integer ps durations, energy
the exactly rounded sum (``math.fsum``, as ``hwsim.step.run_trace`` takes it) of the same
per-operator joules. No fitted model: every number is the component's.
"""
from __future__ import annotations

import math

from hwsim.engine import Simulator
from hwsim.machine import Machine
from hwsim.workload.iteration import Iteration
from hwsim.workload.model import ModelSpec
from hwsim.workload.precision import Precision
from hwsim.workload.trace import attention_kernels, iteration_trace

ATTENTION_KERNELS = frozenset({"attn_score", "softmax", "attn_context"})


def additive_reason(machine: Machine, model: ModelSpec) -> str:
    """Why the iteration cost of `model` on `machine` cannot be split ("" if it can)."""
    spec = machine.spec
    if spec.parallelism is not None:
        return "a parallelism plan (communication overlaps compute)"
    if spec.mapping.kv_prefetch:
        return "kv_prefetch moves cache loads across operators"
    if model.attention.kind == "mla" or any(model.is_moe_layer(layer) for layer in range(model.layers)):
        return "MLA or MoE layers (routing and absorbed attention vary by iteration)"
    components = machine.build(Simulator())
    if len(components) != 1 or not getattr(next(iter(components.values())), "pure_timing", False):
        return "more than one component, or one whose timing carries state between operators"
    return ""


class AdditiveCost:
    """(latency_s, energy_j) of an iteration as body + layers x attention kernels (module docstring)."""

    def __init__(self, machine: Machine, model: ModelSpec, precision: Precision, seed: int):
        self.model, self.precision, self.seed = model, precision, seed
        self.one_layer = model.model_copy(update={"layers": 1})
        (self.component,) = machine.build(Simulator()).values()
        self.bodies: dict[tuple[int, int], tuple[int, list[float]]] = {}
        self.kernels: dict[tuple, tuple[int, list[float]]] = {}

    @staticmethod
    def key(iteration: Iteration) -> tuple[int, int]:
        """What the body's operators depend on: new tokens and sampling rows."""
        return iteration.tokens, iteration.logits

    def _ops_cost(self, ops) -> tuple[int, list[float]]:
        """(ps, joules of each operator) of `ops` run back to back."""
        charges = [self.component.charge(self.component.time(op)) for op in ops]
        return sum(ps for ps, _ in charges), [joules for _, joules in charges]

    def body(self, iteration: Iteration) -> tuple[int, list[float]]:
        """(ps, J per operator) of every operator but the attention kernels, simulated once per key."""
        key = self.key(iteration)
        if key not in self.bodies:
            trace = iteration_trace(self.one_layer, iteration, self.precision, seed=self.seed)
            outside_ps, outside_j = self._ops_cost(op for op in trace.ops if op.layer < 0)
            layer_ps, layer_j = self._ops_cost(op for op in trace.ops
                                               if op.layer >= 0 and op.kind not in ATTENTION_KERNELS)
            self.bodies[key] = outside_ps + self.model.layers * layer_ps, outside_j + layer_j * self.model.layers
        return self.bodies[key]

    def attention(self, iteration: Iteration) -> tuple[int, list[float]]:
        """(ps, J per operator) of one layer's attention kernels, memoized by their work."""
        groups = tuple((form, *step) for form, step in iteration.groups().items())
        if groups not in self.kernels:
            self.kernels[groups] = self._ops_cost(attention_kernels(self.model, iteration, self.precision))
        return self.kernels[groups]

    def __call__(self, iteration: Iteration) -> tuple[float, float]:
        body_ps, body_j = self.body(iteration)
        kernel_ps, kernel_j = self.attention(iteration)
        total_ps = body_ps + self.model.layers * kernel_ps
        latency_s = total_ps * 1e-12
        energy = math.fsum(body_j + kernel_j * self.model.layers)
        return latency_s, energy + self.component.static_energy_j(latency_s)
