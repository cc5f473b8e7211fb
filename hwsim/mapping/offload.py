"""Several decode steps as one trace, so caches (expert offloading) see tokens follow each other.

``decode_steps`` routes all steps at once (one sequence of ``steps`` tokens per batch row, so a
RoutingSpec's ``reuse`` acts between consecutive decode tokens) and chains step s + 1 after step s
(its embedding waits for step s's LM head); step s is the iteration of ``batch`` sequences of one new
token over ``context + s`` cached tokens (``hwsim.workload.iteration``). Building the trace is all
this module does: ``hwsim.step.simulate_steps`` runs it, so the mapping layer never imports the
one-step simulation above it.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hwsim.workload.iteration import Iteration
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.precision import Precision
from hwsim.workload.routing import RoutingSpec, check_routing, load_stats, route
from hwsim.workload.trace import Trace, default_precision, iteration_trace


def decode_ids(model: ModelSpec, batch: int, steps: int, routing=None, seed: int = 0):
    """Expert ids [moe_layers, batch * steps, top_k], sequence-major (row b * steps + s is
    sequence b's step s); a given array must already have that layout. None for dense models."""
    if model.moe is None:
        return None
    layers = sum(model.is_moe_layer(layer) for layer in range(model.layers))
    if isinstance(routing, np.ndarray):
        return check_routing(routing, model.moe, layers, batch * steps)
    return route(model.moe, layers, batch * steps, routing or RoutingSpec(), seed, tokens_per_sequence=steps)


def decode_steps(model, batch: int, context: int, steps: int, precision: Precision | None = None,
                 routing=None, seed: int = 0) -> Trace:
    """``steps`` consecutive decode steps of ``batch`` sequences as one operator DAG."""
    model = model if isinstance(model, ModelSpec) else load_model(model)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    precision = precision or default_precision(model)
    ids = decode_ids(model, batch, steps, routing, seed)
    ops, last = [], None
    for s in range(steps):
        trace = iteration_trace(model, Iteration.of("decode", batch, context + s), precision,
                                None if ids is None else ids[:, s::steps], seed)
        offset = len(ops)
        for op in trace.ops:
            deps = tuple(d + offset for d in op.deps) + ((last,) if op.id == 0 and last is not None else ())
            ops.append(replace(op, id=op.id + offset, deps=deps))
        last = len(ops) - 1
    about = None if ids is None else {"kind": "steps", "steps": steps,
                                      **load_stats(ids, model.moe.routed_experts).summary()}
    return Trace(tuple(ops), model.name, "decode", batch, context, precision, seed, about)

