"""Alpha-beta costs of the collectives (MPICH's cost comments; shared/reference/style_moe.md B3).

``p`` ranks, ``n`` bytes (the buffer as in ``collectives``), ``alpha`` seconds per message,
``beta`` seconds per byte; reduction compute (gamma) is not included. On idle links with one
port per rank, each simulated collective in ``collectives`` takes exactly this long (up to the
picosecond rounding of each message).
"""
from __future__ import annotations

import math


def _lg(p: int) -> int:
    return math.ceil(math.log2(p)) if p > 1 else 0


def all_reduce_ring(p, n, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * n * beta


def all_reduce_halving_doubling(p, n, alpha, beta):
    """Rabenseifner: reduce-scatter by recursive halving + all-gather by recursive doubling."""
    return 2 * _lg(p) * alpha + 2 * (p - 1) / p * n * beta


def all_reduce_tree(p, n, alpha, beta):
    """Binomial-tree reduce then broadcast: 2 lg p full-buffer messages on the critical path."""
    return 2 * _lg(p) * (alpha + n * beta)


def all_reduce_star(p, n, alpha, beta, overhead=0.0):
    """Gather to one rank, then send the sum back: 2 messages of latency on the critical path, and the
    centre's one port carries p - 1 full buffers in and p - 1 out (TPI-LLM, arXiv 2410.00531 section 3).
    The centre posts its p - 1 sends one after another, each paying the sender ``overhead`` (LogP's o,
    part of alpha), so all but the first add it once more."""
    return 2 * alpha + 2 * (p - 1) * n * beta + (p - 2) * overhead if p > 1 else 0.0


def all_gather_ring(p, n, alpha, beta):
    return (p - 1) * alpha + (p - 1) / p * n * beta


reduce_scatter_ring = all_gather_ring


def all_to_all_pairwise(p, n, alpha, beta):
    """``n`` = bytes one rank sends to all the others together."""
    return (p - 1) * alpha + n * beta


def all_to_all_lower_bound(matrix, beta):
    """No all-to-all beats its busiest port: max over ranks of bytes out and bytes in, times beta."""
    sent = [sum(row) - row[i] for i, row in enumerate(matrix)]
    received = [sum(col) - col[j] for j, col in enumerate(zip(*matrix))]
    return max(sent + received) * beta


def hierarchical_all_reduce(nodes, ranks_per_node, n, intra_alpha, intra_beta, inter_alpha, inter_beta):
    """Intra-node reduce-scatter + inter-node all-reduce of a 1/ranks_per_node shard + intra all-gather."""
    g = ranks_per_node
    return (reduce_scatter_ring(g, n, intra_alpha, intra_beta)
            + all_reduce_ring(nodes, n / g, inter_alpha, inter_beta)
            + all_gather_ring(g, n, intra_alpha, intra_beta))


def nccl_bus_bandwidth(collective: str, ranks: int, nbytes: float, seconds: float) -> float:
    """NCCL-tests' bus bandwidth (B/s): algbw = S/t times the collective's factor."""
    factors = {"all_reduce": 2 * (ranks - 1) / ranks, "all_gather": (ranks - 1) / ranks,
               "reduce_scatter": (ranks - 1) / ranks, "all_to_all": (ranks - 1) / ranks,
               "broadcast": 1.0, "reduce": 1.0}
    return nbytes / seconds * factors[collective]
