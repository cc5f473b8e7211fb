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


class ReplicaLoop:
    """One machine's event loop, fed requests as they arrive so a router can look at its state.

    ``add(live)`` gives it a request (in arrival order), rejected at once with its reason if it can
    never be served; ``advance(until)`` runs the iterations that start before `until` (time
    jumps over idle gaps); ``outstanding_tokens`` is what its requests still have to compute. A
    request arriving while an iteration runs joins the waiting queue when that iteration ends."""

    def __init__(self, scheduler: Scheduler, kv: BlockManager, cost: Callable, max_position: int,
                 progress: Callable[[int], None] | None = None, swap_s: Callable[[int], float] | None = None):
        self.scheduler, self.kv, self.cost, self.max_position = scheduler, kv, cost, max_position
        self.progress, self.swap_s = progress, swap_s
        self.timeline = Timeline()
        self.pending: deque[Live] = deque()
        self.waiting: deque[Live] = deque()
        self.running: list[Live] = []
        self.ids: set[int] = set()
        self.unscheduled = 0
        self.now = 0.0

    def add(self, live: Live) -> None:
        """Take `live` (arriving no earlier than any request before it)."""
        if live.id in self.ids:
            raise ValueError("request ids must be unique (the KV cache accounts blocks by request id)")
        self.ids.add(live.id)
        if live.request.output < 1:
            raise ValueError(f"request {live.id}: needs at least 1 output token")
        if live.peak_tokens > self.max_position:
            live.rejected = f"{live.peak_tokens} positions exceed the model's max_position {self.max_position}"
        else:
            live.rejected = self.scheduler.refusal(live, self.kv)
        if live.rejected:
            self.progress and self.progress(1)
        else:
            self.pending.append(live)

    @property
    def outstanding_tokens(self) -> int:
        """Tokens its unfinished requests still compute (prompt left, recompute, and outputs)."""
        return sum(live.remaining + live.request.output - live.generated - 1
                   for queue in (self.pending, self.waiting, self.running) for live in queue)

    def advance(self, until: float = float("inf")) -> Timeline:
        """Run the iterations starting before `until`; returns the timeline (its end_s is now)."""
        timeline, pending, waiting, running, kv = self.timeline, self.pending, self.waiting, self.running, self.kv
        while (pending or waiting or running) and self.now < until:
            while pending and pending[0].request.arrival_s <= self.now:
                live = pending.popleft()
                waiting.append(live)
                self.unscheduled += 1
                late = self.now - live.request.arrival_s     # arrived while the last iteration ran
                timeline.in_system_s += late
                timeline.unscheduled_s += late
            batch = self.scheduler.schedule(waiting, running, kv)
            if not batch:
                if running or waiting:
                    raise RuntimeError(f"{self.scheduler.name}: no iteration possible with {len(waiting)} waiting, "
                                       f"{len(running)} running, {kv.free} KV blocks free")
                self.now = pending[0].request.arrival_s      # idle: nothing is in the system until then
                continue
            for live in batch:
                if live.scheduled_s is None:
                    live.scheduled_s = self.now
                    self.unscheduled -= 1
            iteration = Iteration(tuple(sorted([Seq(n, live.cached, live.cached + n == live.request.prompt + live.generated)
                                                for live, n in batch.items()])))   # live.known, inlined
            latency, energy = self.cost(iteration)
            moved = self.scheduler.take_moved()
            if moved:
                stall = self.swap_s(moved)
                timeline.swap_blocks += moved
                timeline.swap_s += stall
                latency += stall
            timeline.in_system_s += (len(waiting) + len(running)) * latency
            timeline.unscheduled_s += self.unscheduled * latency
            timeline.starts.append(self.now)
            timeline.latencies.append(latency)
            timeline.batch.append(len(batch))
            timeline.tokens.append(iteration.tokens)
            timeline.kv_blocks.append(kv.used)
            timeline.energy_j += energy
            self.now += latency
            finished = 0
            for live, n in batch.items():
                live.energy_j += energy * n / iteration.tokens
                if live.advance(n, self.now):
                    running.remove(live)
                    kv.release(live.id)
                    finished += 1
            if finished and self.progress:
                self.progress(finished)
        timeline.end_s = self.now
        return timeline

