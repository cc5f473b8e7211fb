"""The KV budget of a machine: how many cached tokens fit beside the resident weights.

The serving layer sizes its KV cache with this, from the same accounting as every run
(``hwsim.capacity.accounting``): the footprint of one decode token per data-parallel unit with one
cached token measures, per memory holding KV, the weights, reservations and activations that stay,
and the KV bytes one token adds; the sequences of a batch spread evenly, so the machine holds
``units x`` the smallest ``free / per-token bytes`` over those memories. Activations are taken at
that one-token step (they grow with the batch; the serving layer's batches are its own check).
"""
from __future__ import annotations

import math
from typing import Optional

from hwsim.capacity.accounting import footprint
from hwsim.capacity.fit import CapacityError
from hwsim.engine import Simulator
from hwsim.mapping.parallel import device_trace
from hwsim.workload.precision import Precision


def kv_capacity_tokens(machine, model, precision: Optional[Precision] = None) -> Optional[int]:
    """KV tokens (summed over sequences) that ``machine`` holds beside ``model``'s weights in
    ``precision`` (default: the machine's formats for the model); 0 when the weights alone do not
    fit, None when no memory holding the KV cache has a known capacity."""
    units, fp = _one_token(machine, model, precision)
    ratios = [(u.capacity - u.needs + u.kv) / u.kv for u in fp.usages if u.kv and u.capacity is not None]
    if not ratios:
        return None
    return max(0, math.floor(units * min(ratios)))


def check_kv_budget(machine, model, precision: Precision, batch: int, context: int) -> None:
    """Refuse a step whose ``batch x context`` cached tokens alone exceed the KV budget, with
    CapacityError: a check before the step's trace is built, for MoE models, whose routing
    allocates per token (10^9 tokens would exhaust memory before the footprint check could run).
    It refuses only what that check would also refuse (activations and new tokens only add)."""
    budget = kv_capacity_tokens(machine, model, precision)
    if budget is None or batch * context <= budget:
        return
    fits = (f"batch <= {budget // context}" if budget >= context
            else f"batch 1 and context <= {min(budget, model.max_position - 1)}")
    raise CapacityError(f"{model.name} does not fit {machine.name}: {batch} sequences x {context} tokens of KV "
                        f"cache exceed the {budget} tokens its memories hold beside the weights; would fit: "
                        f"{fits} (or --allow-overcommit for a what-if)")


def kv_bytes_per_token(machine, model, precision: Optional[Precision] = None) -> float:
    """KV bytes one cached token takes on ``machine``, over all its memories and devices."""
    units, fp = _one_token(machine, model, precision)
    return sum(u.kv for u in fp.usages) / units


def _one_token(machine, model, precision):
    """(data-parallel units, footprint of a decode step of one sequence per unit at one cached token)."""
    precision = precision or machine.precision_for(model)
    plan = machine.spec.parallelism
    units = plan.dp * plan.splits if plan else 1
    placed = device_trace(plan, model, "decode", units, 0, precision)
    return units, footprint(machine, machine.build(Simulator()), placed.trace, model, placed.placement)
