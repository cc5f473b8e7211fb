"""Batching policies: what goes into one iteration (serving.md section 3, after Vidur's replica
schedulers). Each policy is a small registered class; ``make_scheduler(name, ...)`` builds one.

A policy sees the waiting queue (FCFS; preempted requests go back to its front), the running
list (admission order) and the block manager, and returns the iteration as {request: new tokens}.
Limits: at most `max_seqs` sequences and `max_tokens` new tokens per iteration.

- ``static`` (FasterTransformer, request-level): a batch forms only when the previous one has
  finished; each request reserves the blocks of its whole output on admission, so it is never
  preempted; the batch prefills together, then decodes until its last request finishes.
- ``orca`` (Orca as Vidur models it): iteration-level; every running request decodes and waiting
  whole prompts join the same iteration FCFS while limits allow and the blocks of their whole
  output can be reserved, so nothing is ever preempted.
- ``continuous`` (iteration-level batching in vLLM V0's prefill-first form): admit waiting
  prompts FCFS while limits and blocks allow (leaving the watermark free); if any was admitted
  the iteration is those whole prompts only, else every running request decodes one token,
  preempting the newest running request by recompute when blocks run out.
- ``chunked`` (Sarathi-Serve stall-free batching): a token budget per iteration; running decodes
  first (one token each, may preempt), then partially prefilled requests, then new requests FCFS,
  each prompt taking min(its remaining tokens, the budget left).

Preemption is by recompute, or with ``swap`` by moving the victim's blocks to the host pool (vLLM
V0's swap mode; preempted requests, swapped or not, go back to the front of the waiting queue and
are swapped in when admitted again, so they resume before new prompts).
"""
from __future__ import annotations

from collections import deque

from hwsim.config.errors import did_you_mean
from hwsim.serving.kv import BlockManager
from hwsim.serving.state import Live

SCHEDULERS: dict[str, type["Scheduler"]] = {}
MAX_SEQS = 256          # vLLM V0 max_num_seqs (serving.md section 3)
WHOLE_PROMPT_TOKENS = 2048   # vLLM V0 max_num_batched_tokens floor without chunking: max(max_model_len, 2048)
CHUNK_TOKENS = 512      # Vidur's Sarathi chunk size default (serving.md section 3)
PREEMPTIONS = ("recompute", "swap")


def register(cls):
    SCHEDULERS[cls.name] = cls
    return cls


def make_scheduler(name: str, max_seqs: int = MAX_SEQS, max_tokens: int | None = None,
                   max_position: int = WHOLE_PROMPT_TOKENS, preemption: str = "recompute") -> "Scheduler":
    """The policy `name`; `max_tokens` defaults to the policy's (whole-prompt policies: enough
    for any prompt the model takes, max(max_position, 2048), as vLLM V0); `preemption` is
    'recompute' or 'swap'."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler '{name}'{did_you_mean(name, SCHEDULERS)}; "
                         f"choose from {', '.join(SCHEDULERS)}")
    if preemption not in PREEMPTIONS:
        raise ValueError(f"unknown preemption '{preemption}'{did_you_mean(preemption, PREEMPTIONS)}; "
                         f"choose from {', '.join(PREEMPTIONS)}")
    cls = SCHEDULERS[name]
    default = CHUNK_TOKENS if cls.chunks else max(max_position, WHOLE_PROMPT_TOKENS)
    return cls(max_seqs, max_tokens or default, swap=preemption == "swap")


class Scheduler:
    """Base: limits, the reason a request can never run, and preemption by recompute."""

    name = ""
    chunks = False          # prompts may be split over iterations
    reserves_output = False  # a request holds the blocks of its whole output from admission on

    def __init__(self, max_seqs: int, max_tokens: int, swap: bool = False):
        if max_seqs < 1 or max_tokens < 1:
            raise ValueError(f"need max_seqs >= 1 and max_tokens >= 1, got {max_seqs}, {max_tokens}")
        self.max_seqs, self.max_tokens = max_seqs, max_tokens
        self.swap = swap
        self.moved = 0          # KV blocks swapped out or in since the loop last took the count

    def take_moved(self) -> int:
        """KV blocks swapped (out and in) while forming the last iteration; resets the count."""
        moved, self.moved = self.moved, 0
        return moved

    def refusal(self, live: Live, kv: BlockManager) -> str:
        """Why `live` could never be served under this policy ("" if it can)."""
        need = kv.blocks(live.peak_tokens)
        if need > kv.capacity - kv.reserve:
            return (f"needs {need} KV blocks of {kv.block_size} tokens for {live.peak_tokens} tokens; "
                    f"the cache has {kv.capacity - kv.reserve} for one request")
        if not self.chunks and live.peak_tokens > self.max_tokens:
            return (f"{self.name} batching prefills whole prompts (after preemption: prompt + output); "
                    f"{live.peak_tokens} tokens exceed max_tokens {self.max_tokens}")
        return ""

    def schedule(self, waiting: deque, running: list, kv: BlockManager) -> dict[Live, int]:
        raise NotImplementedError

    def fit(self, live: Live, tokens: int, batch: dict, waiting: deque, running: list, kv: BlockManager) -> bool:
        """Grow `live`'s blocks for `tokens` more tokens, preempting the newest running request
        (perhaps `live` itself, which then waits) until they fit; false if `live` was preempted.
        With swapping, a victim's blocks go to the host pool when it has room, else it recomputes."""
        if live.cached + tokens <= kv.held.get(live.id, 0) * kv.block_size:   # its blocks hold them (most decodes)
            return True
        while not kv.can_grow(live.id, live.cached + tokens):
            victim = running.pop()
            swapped = self.swap and kv.can_swap_out(victim.id)
            if swapped:
                self.moved += kv.swap_out(victim.id)
            else:
                kv.release(victim.id)
            victim.preempt(swapped)
            batch.pop(victim, None)
            waiting.appendleft(victim)
            if victim is live:
                return False
        kv.grow(live.id, live.cached + tokens)
        return True

    def admit(self, waiting: deque, running: list, kv: BlockManager, batch: dict, budget: int) -> int:
        """Move waiting requests FCFS into the batch while sequences, `budget` and blocks (with
        the watermark) allow; returns the budget left."""
        while waiting and len(running) < self.max_seqs and budget > 0:
            live = waiting[0]
            tokens = min(live.remaining, budget) if self.chunks else live.remaining
            if tokens > budget or not kv.can_grow(live.id, self.reservation(live, tokens), admitting=True):
                break
            waiting.popleft()
            if live.id in kv.swapped:
                self.moved += kv.swap_in(live.id)
            kv.grow(live.id, self.reservation(live, tokens))
            running.append(live)
            batch[live] = tokens
            budget -= tokens
        return budget

    def reservation(self, live: Live, tokens: int) -> int:
        """Tokens of cache a request holds when admitted with `tokens` new tokens."""
        return live.peak_tokens if self.reserves_output else live.cached + tokens


@register
class Static(Scheduler):
    name = "static"
    reserves_output = True

    def schedule(self, waiting, running, kv):
        batch: dict[Live, int] = {}
        if not running:
            self.admit(waiting, running, kv, batch, self.max_tokens)
            return batch
        return {live: 1 for live in running}


@register
class Orca(Scheduler):
    name = "orca"
    reserves_output = True

    def schedule(self, waiting, running, kv):
        batch = {live: 1 for live in running}
        self.admit(waiting, running, kv, batch, self.max_tokens - len(batch))
        return batch


@register
class Continuous(Scheduler):
    name = "continuous"

    def schedule(self, waiting, running, kv):
        batch: dict[Live, int] = {}
        self.admit(waiting, running, kv, batch, self.max_tokens)
        if batch:
            return batch
        held, size = kv.held, kv.block_size
        for live in list(running):
            blocks = held.get(live.id)          # None: preempted meanwhile
            if blocks is not None and (live.cached < blocks * size     # fit's first test, inlined (hot path)
                                       or self.fit(live, 1, batch, waiting, running, kv)):
                batch[live] = 1
        return batch


@register
class Chunked(Scheduler):
    name = "chunked"
    chunks = True

    def schedule(self, waiting, running, kv):
        batch: dict[Live, int] = {}
        decoding = [live for live in running if live.remaining == 1]
        prefilling = [live for live in running if live.remaining > 1]
        for live in decoding + prefilling:
            budget = self.max_tokens - sum(batch.values())     # a preempted victim gives its tokens back
            if budget == 0:
                break
            tokens = min(live.remaining, budget)
            if live.id in kv.held and self.fit(live, tokens, batch, waiting, running, kv):
                batch[live] = tokens
        self.admit(waiting, running, kv, batch, self.max_tokens - sum(batch.values()))
        return batch
