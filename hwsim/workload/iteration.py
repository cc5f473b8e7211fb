"""One scheduler iteration as the trace generator sees it: a mixed batch of sequences, each with
its new tokens (a whole prompt, a prompt chunk, or one decode token) and its cached tokens.

Today's one-step phases are special cases: prefill of B sequences of C prompt tokens is B x
``Seq(C, 0)``; decode of B sequences at context C is B x ``Seq(1, C)``. An ``Iteration`` is
hashable and compares by its exact shape, so it is the key of the serving layer's iteration memo.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from operator import add
from typing import NamedTuple

from hwsim.config.counts import COUNT_LIMIT


class Seq(NamedTuple):
    """One sequence of an iteration: `new` tokens computed now on top of `cached` tokens already
    in the KV cache; `logits` when the iteration samples its next token (false for a prompt chunk
    that does not finish the prompt)."""

    new: int
    cached: int
    logits: bool = True


class Step(NamedTuple):
    """Attention work of a group of sequences run by one kernel: sequences, the longest query run
    and key run (the op's padded shape), and the totals of new tokens, keys and causal (query, key)
    pairs over the group. Query i of n (i = 1..n) sees cached + i keys, so a sequence has
    n * cached + n (n + 1) / 2 pairs; a group of equal sequences is today's batched step.
    ``members``: the group's sequences in batch order, from which ``shapes`` is built on demand.
    Equal steps have equal members; ``work`` and ``shapes`` are what a kernel's time depends on."""

    batch: int
    queries: int
    keys: int
    tokens: int
    key_total: int
    pairs: int
    members: tuple[Seq, ...]

    @classmethod
    def of_seqs(cls, seqs) -> "Step":
        news, cached, _ = zip(*seqs)
        keys = list(map(add, news, cached))
        tokens, key_total = sum(news), sum(keys)
        pairs = key_total if tokens == len(seqs) else \
            sum(n * (k - n) + n * (n + 1) // 2 for n, k in zip(news, keys))     # one query each: pairs = keys
        return cls(len(seqs), max(news), max(keys), tokens, key_total, pairs, tuple(seqs))

    @property
    def work(self) -> tuple[int, int, int, int, int, int]:
        """The group's padded shape and totals (every field but its members)."""
        return self[:6]

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """Each sequence's (queries, keys), sorted: for hardware that runs attention sequence by
        sequence (CENT's PIM, ``hwsim.components.dram.pim_device``). Built only when asked: the
        serving hot path on other machines never reads it."""
        return tuple(sorted((seq.new, seq.new + seq.cached) for seq in self.members))


def kernel_form(seq: Seq) -> str:
    """The attention kernel a serving engine runs a sequence through: 'decode' for one new token
    (vLLM's paged decode kernel, flash_attn_with_kvcache), 'prefill' for a prompt or prompt chunk
    (flash_attn_varlen_func); vLLM V0's FlashAttention backend (vllm/attention/backends/flash_attn.py)
    runs each form as one kernel over all its sequences of the batch."""
    return "decode" if seq.new == 1 else "prefill"


@dataclass(frozen=True)
class Iteration:
    """The sequences of one iteration, in batch order (token rows are laid out sequence-major).
    ``tokens``: new tokens; ``logits``: sequences that sample a token this iteration (rows of the
    LM head); both derived from the sequences, so outside equality."""

    seqs: tuple[Seq, ...]
    tokens: int = field(init=False, repr=False, compare=False)
    logits: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.seqs:
            raise ValueError("an iteration needs at least one sequence")
        news, cached, logits = zip(*self.seqs)      # one pass in C: the serving loop builds one per step
        if min(news) < 1 or min(cached) < 0:
            bad = next(seq for seq in self.seqs if seq.new < 1 or seq.cached < 0)
            raise ValueError(f"a sequence needs new >= 1 and cached >= 0 tokens, got {tuple(bad)}")
        object.__setattr__(self, "tokens", sum(news))
        object.__setattr__(self, "logits", sum(logits))

    @classmethod
    def of(cls, phase: str, batch: int, context: int) -> "Iteration":
        """The iteration of today's one-step phases (see the module docstring)."""
        if batch < 1 or context < (phase == "prefill"):
            raise ValueError(f"need batch >= 1 and context >= {int(phase == 'prefill')} for {phase}, "
                             f"got batch {batch}, context {context}")
        if batch > COUNT_LIMIT:   # an iteration holds one entry per sequence
            raise ValueError(f"batch {batch} is more sequences than one step simulates (at most {COUNT_LIMIT})")
        if phase == "prefill":
            return cls((Seq(context, 0),) * batch)
        if phase == "decode":
            return cls((Seq(1, context),) * batch)
        raise ValueError(f"phase must be 'prefill' or 'decode', got {phase!r}")

    @property
    def batch(self) -> int:
        return len(self.seqs)

    @cached_property
    def tokens_per_sequence(self) -> int:
        """New tokens per sequence when all sequences have the same number, else 1 (MoE routing
        reuse then stays within each token)."""
        first = self.seqs[0].new
        return first if all(seq.new == first for seq in self.seqs) else 1

    def groups(self, form=kernel_form) -> dict:
        """{form: Step}, one attention group per kernel form (``form(seq)``) in order of first
        appearance: each a single op whose FLOPs and KV bytes are the sums over its sequences (exact
        for the work; equal sequences give today's batched step)."""
        if form is kernel_form:
            return self._kernel_groups
        return self._groups(form)

    @cached_property
    def _kernel_groups(self) -> dict:
        decode = [seq for seq in self.seqs if seq.new == 1]      # kernel_form, inlined: the serving hot path
        prefill = [seq for seq in self.seqs if seq.new != 1]
        forms = {"decode": decode, "prefill": prefill}
        order = ("decode", "prefill") if self.seqs[0].new == 1 else ("prefill", "decode")
        return {form: Step.of_seqs(forms[form]) for form in order if forms[form]}

    def _groups(self, form) -> dict:
        forms: dict = {}
        for seq in self.seqs:
            forms.setdefault(form(seq), []).append(seq)
        return {key: Step.of_seqs(seqs) for key, seqs in forms.items()}

    def split(self, parts: int) -> list["Iteration"]:
        """`parts` contiguous runs of equally many sequences (data-parallel units; `parts`
        divides the batch)."""
        size = self.batch // parts
        return [Iteration(self.seqs[p * size:(p + 1) * size]) for p in range(parts)]

    def context(self) -> int:
        """A trace header's context: prompt tokens (prefill), tokens cached (decode), else the
        longest sequence's keys."""
        first, phase = self.seqs[0], self.phase()
        if phase != "mixed":
            return first.new if phase == "prefill" else first.cached
        return max(seq.new + seq.cached for seq in self.seqs)

    def phase(self) -> str:
        """'prefill' or 'decode' when the iteration is one of today's phases, else 'mixed'."""
        first = self.seqs[0]
        uniform = all(seq == first for seq in self.seqs) and first.logits
        if uniform and first.cached == 0 and first.new > 1:
            return "prefill"
        if uniform and first.new == 1:
            return "decode"
        return "mixed"
