"""One scheduler iteration as the trace generator sees it: a mixed batch of sequences, each with
its new tokens (a whole prompt, a prompt chunk, or one decode token) and its cached tokens.

Today's one-step phases are special cases: prefill of B sequences of C prompt tokens is B x
``Seq(C, 0)``; decode of B sequences at context C is B x ``Seq(1, C)``. An ``Iteration`` is
hashable and compares by its exact shape, so it is the key of the serving layer's iteration memo.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Seq(NamedTuple):
    """One sequence of an iteration: `new` tokens computed now on top of `cached` tokens already
    in the KV cache; `logits` when the iteration samples its next token (false for a prompt chunk
    that does not finish the prompt)."""

    new: int
    cached: int
    logits: bool = True


@dataclass(frozen=True)
class Step:
    """Attention geometry of a group of equal sequences: queries, keys attended, causal
    (query, key) pairs, per sequence. Query i of n (i = 1..n) sees cached + i keys, so
    pairs = n * cached + n (n + 1) / 2."""

    batch: int
    queries: int
    keys: int
    pairs: int

    @classmethod
    def of_seq(cls, batch: int, seq: Seq) -> "Step":
        n, c = seq.new, seq.cached
        return cls(batch, n, c + n, n * c + n * (n + 1) // 2)

    @property
    def tokens(self) -> int:
        return self.batch * self.queries


@dataclass(frozen=True)
class Iteration:
    """The sequences of one iteration, in batch order (token rows are laid out sequence-major)."""

    seqs: tuple[Seq, ...]

    def __post_init__(self):
        if not self.seqs:
            raise ValueError("an iteration needs at least one sequence")
        for seq in self.seqs:
            if seq.new < 1 or seq.cached < 0:
                raise ValueError(f"a sequence needs new >= 1 and cached >= 0 tokens, got {tuple(seq)}")

    @classmethod
    def of(cls, phase: str, batch: int, context: int) -> "Iteration":
        """The iteration of today's one-step phases (see the module docstring)."""
        if batch < 1 or context < (phase == "prefill"):
            raise ValueError(f"need batch >= 1 and context >= {int(phase == 'prefill')} for {phase}, "
                             f"got batch {batch}, context {context}")
        if phase == "prefill":
            return cls((Seq(context, 0),) * batch)
        if phase == "decode":
            return cls((Seq(1, context),) * batch)
        raise ValueError(f"phase must be 'prefill' or 'decode', got {phase!r}")

    @property
    def batch(self) -> int:
        return len(self.seqs)

    @property
    def tokens(self) -> int:
        return sum(seq.new for seq in self.seqs)

    @property
    def logits(self) -> int:
        """Sequences that sample a token this iteration (rows of the LM head)."""
        return sum(seq.logits for seq in self.seqs)

    @property
    def tokens_per_sequence(self) -> int:
        """New tokens per sequence when all sequences have the same number, else 1 (MoE routing
        reuse then stays within each token)."""
        first = self.seqs[0].new
        return first if all(seq.new == first for seq in self.seqs) else 1

    def groups(self) -> list[Step]:
        """Sequences of equal (new, cached) shape as attention groups, in order of first appearance."""
        counts: dict[tuple[int, int], int] = {}
        for seq in self.seqs:
            counts[seq.new, seq.cached] = counts.get((seq.new, seq.cached), 0) + 1
        return [Step.of_seq(count, Seq(*shape)) for shape, count in counts.items()]

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
