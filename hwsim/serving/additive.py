"""Iteration cost split where the machine allows it: on a machine whose every device is one serial
component with pure timing (``SerialComponent.pure_timing``: an operator's time depends on the
operator alone, as on the roofline GPU), the step lasts exactly the sum of its operators' times.
An iteration's operators then split into a body that depends only on its token counts (new tokens,
sampling rows: projections, norms, FFN, LM head) and the attention kernels that depend on its
contexts (``hwsim.workload.trace.attention_kernels``, the same ops in every layer).

Tensor parallelism alone (a plan with tp ranks and no pipeline stages, replicas, experts or token
split; ``hwsim.mapping.parallel``) keeps the sum: every rank runs the same share of every operator
(``tp_share``) on an identical device, so the ranks finish each operator together, and each
all-reduce waits for all of them while every later operator of every rank waits for it (a dense
layer is one chain through its two all-reduces). So no rank computes during an all-reduce and no
two all-reduces share the fabric: the step is one rank's operators plus the all-reduces, each
taking its time alone (a link fabric's time does not depend on when a message starts, only on
whether the links are free). The energy is every rank's joules: each rank's are rank 0's.

Every layer of a dense model runs the same operators, so the body is the trace of a one-layer copy
of the model: its operators outside the layers once and its layer's `layers` times, simulated
once per (tokens, sampling rows) and memoized; the attention kernels are timed per iteration by
the component itself (a handful of ops, memoized by their work). The result
equals the event simulation bit for bit: latency is the sum of the same integer ps durations, energy
the exactly rounded sum (``math.fsum``, as ``hwsim.step.run_trace`` takes it) of the same
per-operator joules plus every component's static energy. No fitted model: every number is the
components'.
"""
from __future__ import annotations

import math

from hwsim.components.interconnect.fabric import LinkFabric
from hwsim.engine import Simulator
from hwsim.machine import Machine
from hwsim.mapping.parallel import all_reduce, reduced, tp_share
from hwsim.workload.iteration import Iteration
from hwsim.workload.model import ModelSpec
from hwsim.workload.precision import Precision
from hwsim.workload.trace import attention_kernels, iteration_trace

ATTENTION_KERNELS = frozenset({"attn_score", "softmax", "attn_context"})


def _devices(machine: Machine) -> tuple[dict, object]:
    """(the machine's components but its communication fabric, that fabric or None), freshly built;
    without a parallelism plan every component counts as a device."""
    components = machine.build(Simulator())
    fabric = components.pop(machine.spec.mapping.communication, None) if machine.spec.parallelism else None
    return components, fabric


def additive_reason(machine: Machine, model: ModelSpec) -> str:
    """Why the iteration cost of `model` on `machine` cannot be split ("" if it can)."""
    spec, plan = machine.spec, machine.spec.parallelism
    if plan is not None and (plan.pp, plan.dp, plan.ep, plan.splits) != (1, 1, 1, 1):
        return "a parallelism plan beyond tensor parallelism (pipeline stages, replicas, experts or token split)"
    if spec.mapping.kv_prefetch:
        return "kv_prefetch moves cache loads across operators"
    if model.attention.kind == "mla" or any(model.is_moe_layer(layer) for layer in range(model.layers)):
        return "MLA or MoE layers (routing and absorbed attention vary by iteration)"
    devices, fabric = _devices(machine)
    first = next(iter(devices.values()), None)
    if (len(devices) != (plan.tp if plan else 1) or not getattr(first, "pure_timing", False)
            or any(type(c) is not type(first) or c.params != first.params for c in devices.values())):
        return ("more than one component per device, devices that differ, or one whose timing carries state "
                "between operators")
    if plan is not None and plan.tp > 1 and not isinstance(fabric, LinkFabric):
        return "tensor-parallel all-reduces on something other than one link fabric"
    return ""


class AdditiveCost:
    """(latency_s, energy_j) of an iteration as body + layers x attention kernels (module docstring)."""

    def __init__(self, machine: Machine, model: ModelSpec, precision: Precision, seed: int):
        self.machine, self.model, self.precision, self.seed = machine, model, precision, seed
        self.one_layer = model.model_copy(update={"layers": 1})
        self.tp = machine.spec.parallelism.tp if machine.spec.parallelism else 1
        self.components = machine.build(Simulator())          # their static energy
        self.component = next(iter(_devices(machine)[0].values()))      # rank 0's device, as every rank's
        self.bodies: dict[tuple[int, int], tuple[int, list[float]]] = {}
        self.kernels: dict[tuple, tuple[int, list[float]]] = {}
        self.reduces: dict[float, int] = {}

    @staticmethod
    def key(iteration: Iteration) -> tuple[int, int]:
        """What the body's operators depend on: new tokens and sampling rows."""
        return iteration.tokens, iteration.logits

    def reduce_ps(self, op) -> int:
        """Duration (ps) of the all-reduce after `op`'s rank shares, run alone on a fresh fabric;
        memoized by its bytes (all it depends on)."""
        if op.act_out_bytes not in self.reduces:
            sim, runs = Simulator(), []
            fabric = self.machine.build(sim)[self.machine.spec.mapping.communication]
            fabric.submit(all_reduce(op, self.tp, 0), lambda _, run: runs.append(run))
            sim.run()
            self.reduces[op.act_out_bytes] = runs[0].end_ps - runs[0].start_ps
        return self.reduces[op.act_out_bytes]

    def _ops_cost(self, ops) -> tuple[int, list[float]]:
        """(ps, joules of each operator on every rank) of `ops` run back to back on the ranks,
        each row-parallel one followed by its all-reduce (which takes no joules)."""
        ops = list(ops)
        charges = [self.component.charge(self.component.time(tp_share(op, self.tp))) for op in ops]
        reduces = sum(self.reduce_ps(op) for op in ops if reduced(op, self.tp))
        return sum(ps for ps, _ in charges) + reduces, [joules for _, joules in charges] * self.tp

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
        """(ps, J per operator) of one layer's attention kernels, memoized by their work: a pure-timing
        component times an attention op by its padded shape and totals, never by its sequences'
        shapes (``Op.seqs``, read by per-sequence PIM attention only), so those stay out of the key."""
        groups = tuple((form, step.work) for form, step in iteration.groups().items())
        if groups not in self.kernels:
            self.kernels[groups] = self._ops_cost(attention_kernels(self.model, iteration, self.precision))
        return self.kernels[groups]

    def __call__(self, iteration: Iteration) -> tuple[float, float]:
        body_ps, body_j = self.body(iteration)
        kernel_ps, kernel_j = self.attention(iteration)
        total_ps = body_ps + self.model.layers * kernel_ps
        latency_s = total_ps * 1e-12
        energy = math.fsum(body_j + kernel_j * self.model.layers)
        return latency_s, energy + sum(c.static_energy_j(latency_s) for c in self.components.values())
