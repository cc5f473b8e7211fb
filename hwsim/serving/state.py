"""A request's life in the serving loop: tokens known (prompt + generated), tokens whose K/V are
in the cache, when it was first scheduled, produced its first token and finished.

One rule covers whole prompts, prompt chunks, decode tokens and recompute after preemption: a
sequence computes its `remaining` = known - cached tokens (a prompt chunk computes part of them)
and samples the next token when none remain. A decoding sequence has exactly one remaining
token, the one it sampled last. Preemption by recompute drops the cache (cached = 0), so the
prompt and every generated token are prefilled again (Vidur, vLLM V1; serving.md section 6);
preemption by swapping keeps `cached`, the blocks wait in the host pool (vLLM V0's swap).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.serving.requests import Request


@dataclass(eq=False)
class Live:
    """Serving state of one request (identity semantics: one object per request)."""

    request: Request
    cached: int = 0                      # tokens whose K/V are in the cache
    generated: int = 0                   # output tokens sampled so far
    preemptions: int = 0
    scheduled_s: float | None = None     # first time it was put into an iteration
    first_token_s: float | None = None
    finish_s: float | None = None
    energy_j: float = 0.0                # its token share of the energy of every iteration it ran in
    rejected: str = ""                   # why it can never be served ("" if admitted)
    id: int = field(init=False)          # the request's id (an attribute: the scheduler's hot path reads it)

    def __post_init__(self):
        self.id = self.request.id

    @property
    def known(self) -> int:
        return self.request.prompt + self.generated

    @property
    def remaining(self) -> int:
        """Tokens to compute before the next token is sampled."""
        return self.known - self.cached

    @property
    def peak_tokens(self) -> int:
        """Most tokens it ever holds in the cache: the last sampled token is never written."""
        return self.request.prompt + self.request.output - 1

    def advance(self, tokens: int, now: float) -> bool:
        """Account `tokens` computed in an iteration ending at `now`; true once it has finished."""
        self.cached += tokens
        if self.cached == self.request.prompt + self.generated:      # known, inlined (hot path)
            self.generated += 1
            if self.first_token_s is None:
                self.first_token_s = now
            if self.generated == self.request.output:
                self.finish_s = now
                return True
        return False

    def preempt(self, swapped: bool = False) -> None:
        """Swapped: its cache waits in the host pool and comes back whole; else it is dropped and
        everything it knows is recomputed when it is scheduled again."""
        self.cached = self.cached if swapped else 0
        self.preemptions += 1
