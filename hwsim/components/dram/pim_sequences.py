"""Attention of a batch of sequences on CENT's cache layouts, each sequence at its own context.

CENT's artifact runs attention per query, at that query's sequence length (TransformerBlock.py:
Vector_Matrix_Mul_score_pim_only_trace(row, seqlen) and Vector_Matrix_Mul_output_pim_only_trace for
one sequence; store_to_DRAM_multi_channel lays out one sequence's cache). A serving iteration's
attention op lists each sequence's (queries, keys) (``Op.seqs``); these functions turn that list
into the GEMV runs of the busiest channel, so that an iteration of unequal contexts costs what its
sequences cost, not a batch padded to the longest one. Sequences of one shape run as one batched
GEMV exactly as an iteration of equal sequences does (so equal contexts keep today's timing).

- Scores (``keys_over_banks``): token t of every sequence sits in bank t of all banks, so a
  sequence's keys fill ceil(keys / banks) bank rows and sequences cannot share a pass: groups of
  sequences with equal (queries, rows per bank) run one after another, each as today's batched
  score GEMV of its sequences.
- Context (``values_by_kv_head``): every KV head of every sequence lies whole in one channel; the
  sequences' KV heads (sequence-major, in ``Op.seqs`` order) go to the channels round-robin, as a
  batch of equal sequences fills them today. Each head is streamed once per query head of its group
  and per query; the channel with the most key passes (sum of queries x keys over its heads) sets
  the op's time, its heads in order, consecutive heads of equal shape as one run.
"""
from __future__ import annotations

import math
from functools import lru_cache
from itertools import groupby


@lru_cache(maxsize=4096)     # every layer of an iteration asks the same (pure, small results)
def score_groups(shapes, banks: int) -> tuple[tuple[int, int, int], ...]:
    """[(sequences, queries, keys per bank)] of the score runs, in order, for sequences ``shapes``
    ((queries, keys), ...) spread over ``banks`` banks (key t in bank t mod banks)."""
    rows = [(q, math.ceil(k / banks)) for q, k in shapes]
    return tuple((len(list(run)), q, per_bank) for (q, per_bank), run in groupby(sorted(rows)))


@lru_cache(maxsize=4096)
def context_runs(shapes, kv_heads: int, channels: int) -> tuple[tuple[tuple[int, int, int], ...], int]:
    """([(heads, queries, keys)] run one after another by the busiest channel, channels holding V)
    for sequences ``shapes`` ((queries, keys), ...) of ``kv_heads`` KV heads each over ``channels``."""
    heads = [shape for shape in shapes for _ in range(kv_heads)]          # sequence-major
    used = min(channels, len(heads))
    per_channel = [heads[c::channels] for c in range(used)]
    busiest = max(range(used), key=lambda c: (sum(q * k for q, k in per_channel[c]), -c))
    return tuple((len(list(run)), q, k) for (q, k), run in groupby(per_channel[busiest])), used
