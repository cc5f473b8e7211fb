"""The serving event loop: requests arrive, the scheduler forms an iteration, the iteration's
simulated latency advances time, tokens are accounted, finished requests leave.

Swaps of KV blocks to and from the host pool, which the scheduler makes while forming an
iteration, delay that iteration by their transfer time (``hwsim.serving.transfer``).

Events are iteration boundaries and arrivals: requests that arrive during an iteration join the
waiting queue when it ends (a running iteration is not interrupted, as in vLLM's engine loop);
with nothing to run, time jumps to the next arrival. A request that can never be served (longer
than the model's positions, more KV blocks than the cache holds, a whole prompt above the
policy's token limit) is rejected on arrival with its reason, never dropped silently.

The loop also integrates, exactly, the number of requests in the system and of requests not yet
scheduled over time, so Little's law (L = lambda W) can be checked against the per-request times.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from hwsim.serving.kv import BlockManager
from hwsim.serving.schedulers import Scheduler
from hwsim.serving.state import Live
from hwsim.workload.iteration import Iteration, Seq


@dataclass
class Timeline:
    """What happened over the run: per iteration (start s, latency s, sequences, new tokens, KV
    blocks in use), time integrals of requests in the system and not yet scheduled, energy."""

    starts: list = field(default_factory=list)
    latencies: list = field(default_factory=list)
    batch: list = field(default_factory=list)
    tokens: list = field(default_factory=list)
    kv_blocks: list = field(default_factory=list)
    swap_blocks: int = 0            # KV blocks swapped out and in
    swap_s: float = 0.0             # time iterations waited for those swaps
    transfer_s: float = 0.0         # KV moved from a prefill to a decode pool: transfer times summed
    in_system_s: float = 0.0        # integral of requests in the system (arrived, not finished) dt
    unscheduled_s: float = 0.0      # integral of requests arrived but not yet scheduled once dt
    energy_j: float = 0.0
    end_s: float = 0.0
    replica: list = field(default_factory=list)     # per iteration, the replica that ran it

    @classmethod
    def merge(cls, timelines: list["Timeline"]) -> "Timeline":
        """The replicas' timelines as one: iterations in start order, tagged with their replica;
        integrals, swaps and energy summed; the end is the last replica's."""
        rows = sorted((start, index, i) for index, t in enumerate(timelines) for i, start in enumerate(t.starts))
        merged = cls(**{name: sum(getattr(t, name) for t in timelines)
                        for name in ("swap_blocks", "swap_s", "transfer_s", "in_system_s", "unscheduled_s",
                                     "energy_j")},
                     end_s=max(t.end_s for t in timelines), replica=[index for _, index, _ in rows])
        for name in ("starts", "latencies", "batch", "tokens", "kv_blocks"):
            getattr(merged, name).extend(getattr(timelines[index], name)[i] for _, index, i in rows)
        return merged


def serve_requests(lives: list[Live], scheduler: Scheduler, kv: BlockManager, cost: Callable,
                   max_position: int, progress: Callable[[int], None] | None = None,
                   swap_s: Callable[[int], float] | None = None) -> Timeline:
    """Run `lives` (in arrival order) to completion; fills each Live's times and returns the Timeline.
    `cost(iteration)` returns (latency_s, energy_j); `progress(n)` is told of n more finished or
    rejected requests; `swap_s(blocks)` is the time to swap that many KV blocks, which the
    iteration waits for before it runs (needed when the scheduler swaps)."""
    if len({live.id for live in lives}) != len(lives):
        raise ValueError("request ids must be unique (the KV cache accounts blocks by request id)")
    timeline = Timeline()
    pending: deque[Live] = deque()
    for live in lives:
        if live.request.output < 1:
            raise ValueError(f"request {live.id}: needs at least 1 output token")
        if live.peak_tokens > max_position:
            live.rejected = f"{live.peak_tokens} positions exceed the model's max_position {max_position}"
        else:
            live.rejected = scheduler.refusal(live, kv)
        if live.rejected:
            progress and progress(1)
        else:
            pending.append(live)
    waiting: deque[Live] = deque()
    running: list[Live] = []
    unscheduled = 0
    now = 0.0
    while pending or waiting or running:
        while pending and pending[0].request.arrival_s <= now:
            waiting.append(pending.popleft())
            unscheduled += 1
        batch = scheduler.schedule(waiting, running, kv)
        if not batch:
            if running or waiting or not pending:
                raise RuntimeError(f"{scheduler.name}: no iteration possible with {len(waiting)} waiting, "
                                   f"{len(running)} running, {kv.free} KV blocks free")
            now = pending[0].request.arrival_s      # idle: nothing is in the system until then
            continue
        for live in batch:
            if live.scheduled_s is None:
                live.scheduled_s = now
                unscheduled -= 1
        iteration = Iteration(tuple(sorted(Seq(n, live.cached, live.cached + n == live.known)
                                           for live, n in batch.items())))
        latency, energy = cost(iteration)
        moved = scheduler.take_moved()
        if moved:
            stall = swap_s(moved)
            timeline.swap_blocks += moved
            timeline.swap_s += stall
            latency += stall
        end = now + latency
        arrivals = [live.request.arrival_s for live in _arriving(pending, end)]
        timeline.in_system_s += (len(waiting) + len(running)) * latency + sum(end - a for a in arrivals)
        timeline.unscheduled_s += unscheduled * latency + sum(end - a for a in arrivals)
        timeline.starts.append(now)
        timeline.latencies.append(latency)
        timeline.batch.append(len(batch))
        timeline.tokens.append(iteration.tokens)
        timeline.kv_blocks.append(kv.used)
        timeline.energy_j += energy
        now = end
        finished = 0
        for live, n in batch.items():
            live.energy_j += energy * n / iteration.tokens
            if live.advance(n, now):
                running.remove(live)
                kv.release(live.id)
                finished += 1
        if finished and progress:
            progress(finished)
    timeline.end_s = now
    return timeline


def _arriving(pending: deque, until: float):
    """The pending requests arriving by `until` (a prefix of the queue)."""
    for live in pending:
        if live.request.arrival_s > until:
            return
        yield live
