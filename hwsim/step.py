"""Run one inference step of a model on a machine through the event kernel.

Operators are released in dependency order: an operator is submitted to the component
its class maps to as soon as all its inputs have completed, so independent work on
different components overlaps. Every run is checked against its roofline floor.
A machine with a ``parallelism:`` plan runs the per-device trace of ``hwsim.mapping.parallel``:
each operator on its device's instance, communication on the fabric with the routed byte matrices.
"""
from __future__ import annotations

import math

from hwsim import defaults
from hwsim.components.base import Execution
from hwsim.engine import Simulator
from hwsim.machine import Machine, load_machine
from hwsim.mapping.kv_prefetch import prefetch_kv
from hwsim.mapping.parallel import parallelize
from hwsim.mapping.placement import imbalance
from hwsim.report.report import OpRecord, Report
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import Trace, generate_trace


class RooflineViolation(AssertionError):
    """A simulated time shorter than the physical floor of some resource: a model bug."""


def check_roofline(report: Report) -> None:
    """Raise unless the step takes at least max(used / peak) of every resource. A NaN or infinite
    latency or floor is refused too: NaN compares False with everything and would pass silently."""
    for name, value in [("latency", report.latency_s), *((r.name, r.floor_s) for r in report.resources)]:
        if not math.isfinite(value):
            raise RooflineViolation(f"{report.machine}: {name} is {value} s, not a finite time")
    for resource in report.resources:
        # relative slack for floating-point summation only; durations are rounded up to whole ps
        if report.latency_s * (1 + 1e-9) < resource.floor_s:
            raise RooflineViolation(
                f"{report.machine}: simulated {report.latency_s:.6g} s is below the floor "
                f"{resource.floor_s:.6g} s of {resource.name} "
                f"({resource.used:.4g} at {resource.capacity:.4g} {resource.unit})")


def run_trace(machine: Machine, trace: Trace, traffic: dict | None = None) -> Report:
    """Simulate `trace` on `machine`; returns the checked Report. ``traffic``: routed all-to-all
    byte matrices by op id (``DeviceTrace.traffic``). A machine with ``mapping.kv_prefetch`` runs
    the trace with its cached K/V loads moved ahead (``hwsim.mapping.kv_prefetch``)."""
    if machine.spec.mapping.kv_prefetch:
        trace, new_id = prefetch_kv(trace)
        traffic = {new_id[op_id]: matrix for op_id, matrix in (traffic or {}).items()}
    sim = Simulator()
    components = machine.build(sim)
    for component in components.values():
        component.prepare(traffic or {})
    ops: list[Op] = trace.ops
    waiting = [len(op.deps) for op in ops]
    successors: list[list[int]] = [[] for _ in ops]
    for op in ops:
        for dep in op.deps:
            successors[dep].append(op.id)
    records: list[OpRecord] = []

    def submit(op: Op) -> None:
        components[machine.placement(op)].submit(op, finish)

    def finish(op: Op, run: Execution) -> None:
        records.append(OpRecord(op.id, op.name, op.kind, op.op_class, op.layer, machine.placement(op),
                                run.start_ps, run.end_ps, op.flops, op.total_bytes, run.bound, run.energy_j))
        for successor in successors[op.id]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                submit(ops[successor])

    for op in ops:
        if not op.deps:
            submit(op)
    sim.run()
    if len(records) != len(ops):
        stuck = [op.name for op in ops if waiting[op.id] > 0][:5]
        raise ValueError(f"trace has a dependency cycle or a missing input; stuck at {stuck}")
    latency_s = sim.now * 1e-12
    energy = sum(r.energy_j for r in records) + sum(c.static_energy_j(latency_s) for c in components.values())
    tokens = trace.batch if trace.phase == "decode" else trace.batch * trace.context
    report = Report(
        machine=machine.name, model=trace.model, phase=trace.phase, batch=trace.batch,
        context=trace.context, precision=str(trace.precision), seed=trace.seed,
        latency_s=latency_s, tokens=tokens, energy_j=energy,
        resources=[r for c in components.values() for r in c.resources()],
        components={name: c.statistics() for name, c in components.items()},
        ops=sorted(records, key=lambda r: (r.start_ps, r.id)),
    )
    check_roofline(report)
    return report


def simulate(machine=defaults.MACHINE, model=defaults.MODEL, *, phase: str = defaults.PHASE,
             batch: int = defaults.BATCH, context: int = defaults.CONTEXT, precision: Precision | None = None,
             routing=None, seed: int = defaults.SEED, steps: int = defaults.STEPS) -> Report:
    """Simulate one step. `machine` and `model` are objects, file paths or shipped names.

    phase 'decode' produces one token per sequence with `context` tokens cached;
    phase 'prefill' processes `context` prompt tokens per sequence (time to first token).
    steps > 1 (decode only) runs that many decode steps back to back, so state that carries
    across tokens (expert caches, routing reuse) shows; the report is per step on average.
    """
    machine = machine if isinstance(machine, Machine) else load_machine(machine)
    model = model if isinstance(model, ModelSpec) else load_model(model)
    precision = precision or machine.precision_for(model)
    if steps != 1:
        if phase != "decode" or steps < 1:
            raise ValueError(f"steps={steps}: several steps are decode steps (phase decode, steps >= 1)")
        from hwsim.mapping.offload import simulate_steps
        return simulate_steps(machine, model, steps=steps, batch=batch, context=context,
                              precision=precision, routing=routing, seed=seed)
    plan = machine.spec.parallelism
    if plan is None:
        trace = generate_trace(model, phase, batch, context, precision=precision, routing=routing, seed=seed)
        return run_trace(machine, trace)
    placed = parallelize(plan, model, phase, batch, context, precision, routing, seed)
    report = run_trace(machine, placed.trace, placed.traffic)
    report.parallel = plan.model_dump()
    if placed.expert_load is not None:
        report.parallel["expert_load"] = {"per_device_pairs": placed.expert_load.sum(axis=0).tolist(),
                                          "imbalance_mean": float(imbalance(placed.expert_load).mean()),
                                          "imbalance_worst": float(imbalance(placed.expert_load).max())}
    return report
