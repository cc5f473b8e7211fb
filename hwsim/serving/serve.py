"""``serve(machine, model, ...)``: a stream of requests through a batching policy on one machine,
each iteration simulated on the machine's components (memoized by exact shape), with the KV
cache sized by the machine's capacity model (``hwsim.capacity.kv_capacity_tokens``)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from hwsim import defaults
from hwsim.capacity import kv_bytes_per_token, kv_capacity_tokens
from hwsim.serving.cost import CostModel
from hwsim.serving.data_parallel import replica_cost
from hwsim.serving.disaggregated import serve_disaggregated
from hwsim.serving.kv import KV_LINK, SWAP_LINK, SWAP_SPACE, BlockManager
from hwsim.serving.loop import ReplicaLoop, Timeline
from hwsim.serving.metrics import ServingReport
from hwsim.serving.requests import OUTPUT, PROMPT, Request, generate, load_trace
from hwsim.serving.routers import make_router, route
from hwsim.serving.schedulers import MAX_SEQS, make_scheduler
from hwsim.serving.state import Live
from hwsim.serving.transfer import transfer_s


def serve(machine=defaults.MACHINE, model=None, *, requests=None, rate: float = 4.0, n: int = 100,
          arrival: str = "poisson", cv: float = 1.0, prompt=PROMPT, output=OUTPUT, scheduler: str = "continuous",
          max_seqs: int = MAX_SEQS, max_tokens: int | None = None, block_size: int = 16,
          kv_tokens: int | None = None, slo_ttft: float = 1.0, slo_tpot: float = 0.1, precision=None,
          routing=None, seed: int = defaults.SEED, bucket: int = 1, preemption: str = "recompute",
          swap_link: str = SWAP_LINK, swap_space: float = SWAP_SPACE, replicas: int = 1, router: str = "round-robin",
          decode_machine=None, kv_link: str = KV_LINK, decode_replicas: int = 1,
          decode_cost: CostModel | None = None, cost: CostModel | None = None,
          progress: Callable[[int], None] | None = None) -> ServingReport:
    """Serve requests and return the ServingReport. model None: the machine's `defaults:` model.

    requests: a list of Request, a CSV trace path (``hwsim.serving.requests``; the first `n` rows),
    or None to generate `n` requests (`arrival` at `rate` per s with burstiness `cv`, `prompt` and
    `output` length distributions, `seed`). kv_tokens: the KV cache in tokens, default the
    machine's capacity model. bucket: round cached tokens up to a multiple of it before costing
    (``hwsim.serving.cost``; 1 is exact). preemption: 'recompute' or 'swap' (a victim's blocks
    go to a host pool of `swap_space` bytes over the link preset `swap_link`). replicas: copies of
    the machine, each with its own scheduler and KV cache, behind `router` ('round-robin', Vidur's
    default, or 'least-tokens'; ``hwsim.serving.routers``). cost: a CostModel to use (and
    share its memo) instead of a new one; a machine whose plan has dp > 1 serves as dp replicas (each
    its devices / dp) per replica asked (``hwsim.serving.data_parallel``). decode_machine (or
    decode_cost): disaggregate, prompts on `replicas` copies of `machine`, decodes on
    `decode_replicas` copies of this one (each pool behind `router`), each request's KV moved over
    the link preset `kv_link` (``hwsim.serving.disaggregated``).
    """
    if replicas < 1 or decode_replicas < 1:
        raise ValueError(f"replicas and decode_replicas must be >= 1, got {replicas} and {decode_replicas}")
    whole = cost or CostModel(machine, model, precision, routing, seed, bucket=bucket)
    cost, data_parallel = _replica(whole)
    replicas *= data_parallel
    if decode_machine is not None and decode_cost is None:
        decode_cost = CostModel(decode_machine, cost.model, None, routing, seed, bucket=bucket)
    if decode_cost is not None:
        decode_name = decode_cost.machine.name
        decode_cost, decode_parallel = _replica(decode_cost)
        decode_replicas *= decode_parallel
    capacities = [kv_tokens or _kv_tokens(c) for c in (cost, decode_cost) if c is not None]
    if requests is None:
        requests = generate(n, rate, prompt, output, arrival, cv, seed)
    elif isinstance(requests, (str, Path)):
        requests = load_trace(requests, limit=n)
    requests = sorted(requests, key=lambda r: r.arrival_s)
    max_position = cost.model.max_position
    block_bytes = block_size * kv_bytes_per_token(cost.machine, cost.model, cost.precision)
    lives = [Live(r) for r in requests]
    known = len(cost.memo)
    if decode_cost is not None:
        pools = [[(make_scheduler(scheduler, max_seqs, max_tokens, max_position, preemption),
                   BlockManager(tokens, block_size), c) for _ in range(count)]
                 for tokens, c, count in zip(capacities, (cost, decode_cost), (replicas, decode_replicas))]
        decode_known = len(decode_cost.memo)
        timeline, _ = serve_disaggregated(lives, pools, block_bytes / block_size, kv_link, max_position, progress,
                                          router)
        return ServingReport(f"{whole.machine.name} -> {decode_name}", cost.model.name,
                             scheduler, lives, timeline, slo_ttft, slo_tpot, pools[1][0][1].capacity, block_size,
                             len(cost.memo) - known + len(decode_cost.memo) - decode_known,
                             _devices(cost) * replicas + _devices(decode_cost) * decode_replicas)
    loops = []
    for _ in range(replicas):
        policy = make_scheduler(scheduler, max_seqs, max_tokens, max_position, preemption)
        kv = BlockManager(capacities[0], block_size, host_blocks=int(swap_space // block_bytes) if policy.swap else 0)
        loops.append(ReplicaLoop(policy, kv, cost, max_position, progress,
                                 swap_s=lambda blocks: transfer_s(swap_link, blocks * block_bytes)))
    route(lives, make_router(router), loops)
    timelines = [loop.timeline for loop in loops]
    timeline = timelines[0] if replicas == 1 else Timeline.merge(timelines)
    return ServingReport(whole.machine.name, cost.model.name, scheduler, lives, timeline, slo_ttft, slo_tpot,
                         kv.capacity, block_size, len(cost.memo) - known, _devices(cost) * replicas)


def _replica(cost: CostModel) -> tuple[CostModel, int]:
    """The cost model of one replica of `cost`'s machine and how many replicas its data-parallel plan
    makes (``hwsim.serving.data_parallel``); a token_split overlap is refused."""
    replica, count = replica_cost(cost)
    plan = replica.machine.spec.parallelism
    if plan is not None and plan.splits > 1:
        raise ValueError(f"{cost.machine.name}: overlap token_split halves every iteration's batch, which a "
                         "serving iteration of an odd batch cannot do; serve the machine without the overlap")
    return replica, count


def _devices(cost: CostModel) -> int:
    """Devices of the machine's plan (1 without one): DistServe counts goodput per GPU."""
    plan = cost.machine.spec.parallelism
    return plan.devices if plan else 1


def _kv_tokens(cost: CostModel) -> int:
    """The machine's KV capacity in tokens from its capacity model; an error if it has none."""
    tokens = kv_capacity_tokens(cost.machine, cost.model, cost.precision)
    if not tokens:
        why = "its memories give no capacity" if tokens is None else "the weights fill the memory"
        raise ValueError(f"{cost.machine.name}: no KV cache capacity for {cost.model.name} ({why}); "
                         "give kv_tokens (--kv-tokens)")
    return tokens


__all__ = ["serve", "Request"]
