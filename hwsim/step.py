"""Run one inference step of a model on a machine through the event kernel (or several decode
steps back to back, ``simulate_steps``, from the trace ``hwsim.mapping.offload`` builds).

Operators are released in dependency order: an operator is submitted to the component
its class maps to as soon as all its inputs have completed, so independent work on
different components overlaps. Every run is checked against its roofline floor.
A machine with a ``parallelism:`` plan runs the per-device trace of ``hwsim.mapping.parallel``:
each operator on its device's instance, communication on the fabric with the routed byte matrices.
"""
from __future__ import annotations

import math
import multiprocessing
import sys
from dataclasses import replace

from tqdm import tqdm

from hwsim import defaults
from hwsim.capacity import check_fit, check_kv_budget, footprint
from hwsim.components.base import Execution
from hwsim.engine import Simulator
from hwsim.machine import Machine, load_machine
from hwsim.mapping.dataflow import fuse_layers
from hwsim.mapping.host_offload import spill, spilled_footprint
from hwsim.mapping.kv_prefetch import prefetch_kv
from hwsim.mapping.offload import decode_steps
from hwsim.mapping.parallel import DeviceTrace, device_iteration, device_trace
from hwsim.mapping.placement import imbalance
from hwsim.report.report import OpRecord, Report
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.iteration import Iteration
from hwsim.workload.trace import Trace, generate_trace


# A run that lasts longer than this shows a progress bar of the operators done (long command-level
# PIM runs spread their time over the operators). The bar goes to stderr and only to a terminal
# (tqdm's disable=None), so piped output and tests stay clean, and never from a worker process
# (hwsim sweep -j N), whose terminal shows the sweep's own bar.
PROGRESS_DELAY_S = 2.0


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


def run_trace(machine: Machine, trace: Trace, traffic: dict | None = None, *, model: ModelSpec | None = None,
              placement=None, allow_overcommit: bool = False, capacity_trace: Trace | None = None) -> Report:
    """Simulate `trace` on `machine`; returns the checked Report. ``traffic``: routed all-to-all
    byte matrices by op id (``DeviceTrace.traffic``). A machine with ``mapping.kv_prefetch`` runs
    the trace with its cached K/V loads moved ahead (``hwsim.mapping.kv_prefetch``); one with
    ``mapping.offload`` copies each layer's spilled bytes in first (``hwsim.mapping.host_offload``);
    one with ``mapping.dataflow`` runs each decoder layer as one fused kernel (``hwsim.mapping.dataflow``).

    Before simulating, the step's bytes are placed in the machine's memories (``hwsim.capacity``:
    from ``model`` and the expert ``placement`` when given, else from the trace alone; from
    ``capacity_trace`` instead of ``trace`` when the caller's trace repeats steps): a run that does not
    fit raises CapacityError, unless ``allow_overcommit``, which flags the report instead."""
    sim = Simulator()
    components = machine.build(sim)
    fp = footprint(machine, components, capacity_trace or trace, model, placement)
    if machine.spec.mapping.offload is not None:
        fp = spilled_footprint(fp, machine.spec.mapping.offload, components, capacity_trace or trace)
    fits = check_fit(fp, allow_overcommit)
    if machine.spec.mapping.dataflow is not None:
        device = machine.spec.mapping.dataflow       # every socket alike: the first copy's fabric
        trace = fuse_layers(trace, components[device if machine.spec.copies(device) == 1 else f"{device}[0]"].fits)
    if machine.spec.mapping.kv_prefetch:
        trace, new_id = prefetch_kv(trace)
        traffic = {new_id[op_id]: matrix for op_id, matrix in (traffic or {}).items()}
    if machine.spec.mapping.offload is not None:
        trace = spill(trace, machine.spec.mapping.offload)
    for component in components.values():
        component.prepare(traffic or {})
    ops: list[Op] = trace.ops
    waiting = [len(op.deps) for op in ops]
    successors: list[list[int]] = [[] for _ in ops]
    for op in ops:
        for dep in op.deps:
            successors[dep].append(op.id)
    records: list[OpRecord] = []
    progress = tqdm(total=len(ops), unit="op", desc=machine.name, delay=PROGRESS_DELAY_S, leave=False,
                    disable=True if multiprocessing.parent_process() else None, file=sys.stderr,
                    dynamic_ncols=True)
    stride = max(1, len(ops) // 200)   # the bar moves every 0.5% of the operators: one tqdm call each

    def submit(op: Op) -> None:
        components[machine.placement(op)].submit(op, finish)

    def finish(op: Op, run: Execution) -> None:
        records.append(OpRecord(op.id, op.name, op.kind, op.op_class, op.layer, machine.placement(op),
                                run.start_ps, run.end_ps, op.flops, op.total_bytes, run.bound, run.energy_j))
        for successor in successors[op.id]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                submit(ops[successor])
        if len(records) % stride == 0:
            progress.update(stride)

    with progress:
        for op in ops:
            if not op.deps:
                submit(op)
        sim.run()
    if len(records) != len(ops):
        stuck = [op.name for op in ops if waiting[op.id] > 0][:5]
        raise ValueError(f"trace has a dependency cycle or a missing input; stuck at {stuck}")
    latency_s = sim.now * 1e-12
    # an exactly rounded sum: the same operators give the same joules whatever order they finish in
    energy = math.fsum(r.energy_j for r in records) + sum(c.static_energy_j(latency_s) for c in components.values())
    report = Report(
        machine=machine.name, model=trace.model, phase=trace.phase, batch=trace.batch,
        context=trace.context, precision=str(trace.precision), seed=trace.seed,
        latency_s=latency_s, tokens=trace.tokens, energy_j=energy,
        resources=[r for c in components.values() for r in c.resources()],
        components={name: c.statistics() for name, c in components.items()},
        ops=sorted(records, key=lambda r: (r.start_ps, r.id)), footprint=fp, overcommitted=not fits,
    )
    check_roofline(report)
    return report


def simulate(machine=defaults.MACHINE, model=None, *, phase: str | None = None, batch: int | None = None,
             context: int | None = None, precision: Precision | None = None,
             routing=None, seed: int = defaults.SEED, steps: int = defaults.STEPS,
             allow_overcommit: bool = False) -> Report:
    """Simulate one step. `machine` and `model` are objects, file paths or shipped names.

    phase 'decode' produces one token per sequence with `context` tokens cached;
    phase 'prefill' processes `context` prompt tokens per sequence (time to first token).
    model, phase, batch or context left None: the machine's `defaults:`, else hwsim.defaults.
    steps > 1 (decode only) runs that many decode steps back to back, so state that carries
    across tokens (expert caches, routing reuse) shows; the report is per step on average.
    A run whose bytes do not fit the machine's memories raises CapacityError (``hwsim.capacity``);
    ``allow_overcommit`` runs it anyway and flags the report (what-if studies).
    """
    machine = machine if isinstance(machine, Machine) else load_machine(machine)
    model, phase, batch, context = machine.workload(model, phase, batch, context)
    model = model if isinstance(model, ModelSpec) else load_model(model)
    precision = precision or machine.precision_for(model)
    if model.moe is not None and not allow_overcommit:
        check_kv_budget(machine, model, precision, batch, context)
    if steps != 1:
        if phase != "decode" or steps < 1:
            raise ValueError(f"steps={steps}: several steps are decode steps (phase decode, steps >= 1)")
        return simulate_steps(machine, model, steps=steps, batch=batch, context=context,
                              precision=precision, routing=routing, seed=seed, allow_overcommit=allow_overcommit)
    placed = device_trace(machine.spec.parallelism, model, phase, batch, context, precision, routing, seed)
    return _run_placed(machine, model, placed, allow_overcommit)


def simulate_steps(machine, model, *, steps: int, batch: int = 1, context: int = 1024,
                   precision: Precision | None = None, routing=None, seed: int = 0,
                   allow_overcommit: bool = False) -> Report:
    """Simulate ``steps`` decode steps back to back on a single-device machine: latency over all
    steps, tokens = batch x steps. Its memory footprint is the last step's (the KV cache at its
    largest, context + steps tokens per sequence)."""
    machine = machine if isinstance(machine, Machine) else load_machine(machine)
    model = model if isinstance(model, ModelSpec) else load_model(model)
    if machine.spec.parallelism is not None:
        raise ValueError(f"{machine.name}: several decode steps run on single-device machines only")
    last = generate_trace(model, "decode", batch, context + steps - 1, precision, seed=seed)
    report = run_trace(machine, decode_steps(model, batch, context, steps, precision, routing, seed), model=model,
                       allow_overcommit=allow_overcommit, capacity_trace=last)
    return replace(report, tokens=batch * steps, steps=steps)


def simulate_iteration(machine: Machine, model: ModelSpec, iteration: Iteration, precision: Precision,
                       routing=None, seed: int = defaults.SEED, allow_overcommit: bool = False) -> Report:
    """Simulate one scheduler iteration (a mixed batch, ``hwsim.workload.iteration``) on
    ``machine``, through its parallelism plan if it has one."""
    placed = device_iteration(machine.spec.parallelism, model, iteration, precision, routing, seed)
    return _run_placed(machine, model, placed, allow_overcommit)


def _run_placed(machine: Machine, model: ModelSpec, placed: DeviceTrace, allow_overcommit: bool) -> Report:
    """Run a (device) trace; a plan's report also carries the plan and its expert load."""
    plan = machine.spec.parallelism
    report = run_trace(machine, placed.trace, placed.traffic, model=model, placement=placed.placement,
                       allow_overcommit=allow_overcommit)
    if plan is None:
        return report
    report.parallel = plan.model_dump()
    if placed.expert_load is not None:
        report.parallel["expert_load"] = {"per_device_pairs": placed.expert_load.sum(axis=0).tolist(),
                                          "imbalance_mean": float(imbalance(placed.expert_load).mean()),
                                          "imbalance_worst": float(imbalance(placed.expert_load).max())}
    return report
