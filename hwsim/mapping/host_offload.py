"""Weights and KV cache spilled to a second memory, copied back layer by layer while earlier layers
compute (``mapping: {offload: {memory: host, weights: 0.4, kv_cache: 0.0, prefetch: 1}}``).

A share of every transformer layer's weights and of the KV cache it reads lives in the
``offload_memory`` component ``memory`` (Grace's LPDDR5X on a GH200). Before layer ``l`` reads them,
a ``host_load`` operator copies those bytes into the processor's memory; every operator of the
layer that reads spilled bytes waits for it. The processor's memory holds the copies of
``prefetch + 1`` layers, so the copy for layer ``l`` starts once layer ``l - prefetch - 1`` has
finished (its buffer is free): ``prefetch: 0`` copies on demand (the copy is exposed),
``prefetch: 1`` copies layer ``l + 1`` while layer ``l`` computes (Pie's performance-transparent
swapping, arXiv 2411.09317; FlexGen's layer-ahead weight loading). Copies run one at a time on the
memory's link, so with L layers of compute c and copy t each and nothing else in the way,

    step time = t + (L - 1) x max(c, t) + c          (prefetch >= 1)
    step time = L x (t + c)                          (prefetch 0)

The copy lands in the processor's memory and is read from there by the layer's operators, which keep
their bytes; writing the copy is not charged to the processor's memory bandwidth, and new K/V written
back to the spilled share travel the link's other direction (full duplex) uncharged. Embedding and
LM-head weights (layer -1) stay resident.

Under a parallel plan every device spills into its own copy of the memory (``count:`` one per device)
and copies its own shard of each layer: TPI-LLM's sliding-window scheduler (arXiv 2410.00531) is
``weights: 1.0, prefetch: 1`` over a disk per device, a window of two layers in DRAM.
"""
from __future__ import annotations

from dataclasses import replace

from pydantic import confloat

from hwsim.capacity.accounting import Footprint, Usage
from hwsim.config.counts import CountOrZero
from hwsim.config.schema import Strict
from hwsim.workload.ops import Op
from hwsim.workload.tracefile import Trace


class Offload(Strict):
    """``mapping.offload`` of a machine file."""

    memory: str                                   # the offload_memory component holding the spilled share
    weights: confloat(ge=0, le=1) = 0.0           # share of each layer's weights held there
    kv_cache: confloat(ge=0, le=1) = 0.0          # share of the KV cache held there
    prefetch: CountOrZero = 1                     # layers copied ahead of the one computing


def spill(trace: Trace, offload: Offload) -> Trace:
    """``trace`` with one ``host_load`` before each layer that reads spilled bytes, per device under a
    parallel plan (each device copies its own shard from its own offload memory; ids stay dense; every
    dep points to an earlier op). A layer is a run of consecutive ops with one ``layer >= 0`` (several
    decode steps in one trace run each layer once per step)."""
    ops: list[Op] = []
    new_id: list[int] = []
    blocks: dict[int, list[list[Op]]] = {}             # device -> its parts of the transformer-layer runs so far
    for run in layer_runs(trace.ops):
        loads: dict[int, int] = {}
        for device, part in (_by_device(run).items() if run[0].layer >= 0 else ()):
            weights = sum(op.weight_bytes for op in part) * offload.weights
            cached = sum(op.kv_read_bytes for op in part) * offload.kv_cache
            done = blocks.setdefault(device, [])
            done.append(part)
            free = len(done) - offload.prefetch - 2     # the layer whose buffer this copy reuses
            if weights + cached:
                loads[device] = len(ops)
                ops.append(Op(len(ops), "host_load", "host_load", part[0].layer, 0.0, part[0].compute_dtype,
                              weight_bytes=weights, kv_read_bytes=cached, device=device,
                              deps=tuple(new_id[op.id] for op in layer_ends(done[free])) if free >= 0 else ()))
        for op in run:
            deps = tuple(new_id[d] for d in op.deps)
            load = loads.get(op.device)
            if load is not None and op.weight_bytes * offload.weights + op.kv_read_bytes * offload.kv_cache:
                deps += (load,)
            new_id.append(len(ops))
            ops.append(replace(op, id=len(ops), deps=deps))
    return replace(trace, ops=tuple(ops))


def _by_device(run: list[Op]) -> dict[int, list[Op]]:
    """The ops of one layer run grouped by the device that runs them, in order."""
    parts: dict[int, list[Op]] = {}
    for op in run:
        parts.setdefault(op.device, []).append(op)
    return parts


def spilled_footprint(fp: Footprint, offload: Offload, components: dict, trace: Trace) -> Footprint:
    """``fp`` (the step's bytes, all in the processor's memories) with the spilled shares moved to the
    offload memory: it holds the ``weights`` share of every memory's weights and routed experts and the
    ``kv_cache`` share of its KV cache; the processor's memory keeps the rest plus the copy buffers of
    ``prefetch + 1`` layers. The embedding and LM head count at the weights share too (the copies leave
    them resident; they are a few percent of a model's weights). An offload memory with copies pairs
    each with the processor instance of the same index (``laptop[2]`` spills into ``disk[2]``)."""
    layers = len({op.layer for op in trace.ops if op.layer >= 0}) or 1
    kept = min(1.0, (offload.prefetch + 1) / layers)        # share of the spilled bytes buffered on the processor
    homes = {name: component.memories()[0] for name, component in components.items()
             if name == offload.memory or name.startswith(f"{offload.memory}[")}
    spilled = {home.name: Usage(home.name, home.capacity) for home in homes.values()}
    usages = []
    for usage in fp.usages:
        if usage.memory in spilled:
            continue
        index = usage.memory.partition("[")[2].partition("]")[0]
        home = homes.get(f"{offload.memory}[{index}]") or next(iter(homes.values()))
        moved = {"weights": usage.weights * offload.weights, "experts": usage.experts * offload.weights,
                 "kv": usage.kv * offload.kv_cache}
        for kind, nbytes in moved.items():
            setattr(spilled[home.name], kind, getattr(spilled[home.name], kind) + nbytes)
        usages.append(replace(usage, **{kind: getattr(usage, kind) - nbytes * (1 - kept)
                                        for kind, nbytes in moved.items()}))
    return replace(fp, usages=sorted(usages + list(spilled.values()), key=lambda u: u.memory))


def layer_runs(ops) -> list[list[Op]]:
    """The trace cut where the layer changes: each transformer layer of each step, and the ops
    outside the blocks (layer -1), as runs of consecutive ops."""
    runs: list[list[Op]] = []
    for op in ops:
        if not runs or runs[-1][0].layer != op.layer:
            runs.append([])
        runs[-1].append(op)
    return runs


def layer_ends(run: list[Op]) -> list[Op]:
    """The ops of ``run`` no other op of the run waits for: the layer is done when they are."""
    inside = {dep for op in run for dep in op.deps}
    return [op for op in run if op.id not in inside]
