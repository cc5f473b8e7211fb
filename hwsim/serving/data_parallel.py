"""Data-parallel plans served as replicas: a machine whose ``parallelism:`` has dp > 1 is dp copies of
one replica (its devices / dp, with the plan's tp and pp), each with its own scheduler and KV cache
behind the router, as serving systems run data parallelism (vLLM's and Vidur's replicas; serving.md
section 3). A replica's plan keeps tp, pp and the overlap; when it is one device, it is that device
without a plan. The replicas share the machine's fabric as they would in the full machine (device
0..devices/dp - 1 of it); traffic of one replica does not slow another (no cross-replica messages in
pure data parallelism).

Expert parallelism (ep == dp) joins the replicas at every MoE layer (one all-to-all over all of them),
so such a machine is not a set of independent replicas and is refused.
"""
from __future__ import annotations

import weakref

from hwsim.machine import Machine
from hwsim.serving.cost import CostModel

_REPLICA_COSTS: "weakref.WeakKeyDictionary[CostModel, CostModel]" = weakref.WeakKeyDictionary()


def replica_machine(machine: Machine) -> Machine:
    """One data-parallel replica of `machine` (see the module docstring)."""
    plan = machine.spec.parallelism
    if plan.ep > 1:
        raise ValueError(f"{machine.name}: expert parallelism (ep {plan.ep}) joins its {plan.dp} data-parallel "
                         "replicas at every MoE layer, so they cannot be served as independent replicas; serve a "
                         "machine without ep")
    devices = plan.devices // plan.dp
    components = {name: {**raw, "count": raw["count"] // plan.dp}
                  if isinstance(raw, dict) and raw.get("count", 1) > 1 else raw
                  for name, raw in machine.spec.components.items()}
    one = plan.model_copy(update={"dp": 1})
    spec = machine.spec.model_copy(update={
        "name": f"{machine.name} (1 of {plan.dp} data-parallel replicas)", "components": components,
        "parallelism": one if devices > 1 or one.splits > 1 else None})
    return Machine(spec, machine.source)


def replica_cost(cost: CostModel) -> tuple[CostModel, int]:
    """(the cost model of one data-parallel replica, the number of replicas): `cost` itself and 1 for a
    machine without data parallelism. The replica's cost model is made once per `cost`, so runs that
    share `cost` (a capacity search) share its iteration memo."""
    plan = cost.machine.spec.parallelism
    if plan is None or plan.dp == 1:
        return cost, 1
    if cost not in _REPLICA_COSTS:
        _REPLICA_COSTS[cost] = CostModel(replica_machine(cost.machine), cost.model, cost.precision, cost.routing,
                                         cost.seed, bucket=cost.bucket)
    return _REPLICA_COSTS[cost], plan.dp
