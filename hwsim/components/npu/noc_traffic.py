"""Which terminal sends how many packets to which, for one NPU operator on a tiled on-chip network.

With a `noc:` block the scratchpad is one slice per router: tile i and slice i share terminal i.
Every operand is striped over all slices in packet-sized units; a tile reading X bytes of an
operand fetches ceil(X / packet_bytes) packets, its j-th packet from slice (i + j) mod S (its part
of the operand starts at its own slice, so the tiles start on different slices). Reads travel
slice -> tile, result writes tile -> slice, striped the same way. A plan's tiles are terminals
0 .. tiles_used - 1 and split its bytes evenly (A over split_count x split_m tiles, B over
split_count x split_n, C over all used tiles), so the bytes sum to `Plan.noc_bytes`.

`counts[src, dst]` is the packet count of each terminal pair; `packets` turns it into the packet
list the NoC kernel runs: all created at cycle 0 (the operator's operands are ready), each source
interleaving its destinations in proportion to their counts (a fair weighted round robin, phase
shifted by (dst - src) so the sources do not all start on the same destination).
"""
from __future__ import annotations

import numpy as np

from hwsim.components.interconnect.noc import Packets
from hwsim.components.npu.mapper import GemmWork, Plan


def striped(bytes_per_tile: np.ndarray, slices: int, packet_bytes: int) -> np.ndarray:
    """[slice, tile] packets of one operand stream per tile, dealt over the slices from the tile's own."""
    packets = np.ceil(np.asarray(bytes_per_tile, dtype=float) / packet_bytes).astype(np.int64)
    position = (np.arange(slices)[:, None] - np.arange(len(packets))[None, :]) % slices
    return packets // slices + (position < packets % slices)


def traffic(reads: list[np.ndarray], writes: list[np.ndarray], terminals: int, packet_bytes: int) -> np.ndarray:
    """[src, dst] packets of per-tile read streams (slice -> tile) and write streams (tile -> slice)."""
    counts = np.zeros((terminals, terminals), dtype=np.int64)
    for stream in reads:
        counts[:, :len(stream)] += striped(stream, terminals, packet_bytes)
    for stream in writes:
        counts[:len(stream), :] += striped(stream, terminals, packet_bytes).T
    return counts


def gemm_traffic(plan: Plan, work: GemmWork, terminals: int, packet_bytes: int) -> np.ndarray:
    """Packets a GEMM plan moves: each used tile reads its A and B slices and writes its C slice."""
    used = plan.tiles_used
    a = np.full(used, work.a_bytes / (plan.split_count * plan.split_m))
    b = np.full(used, work.b_bytes / (plan.split_count * plan.split_n))
    c = np.full(used, work.c_bytes / used)
    return traffic([a, b], [c], terminals, packet_bytes)


def stream_traffic(read_bytes: float, write_bytes: float, terminals: int, packet_bytes: int) -> np.ndarray:
    """Packets a streaming (vector) operator spread over every tile moves."""
    return traffic([np.full(terminals, read_bytes / terminals)], [np.full(terminals, write_bytes / terminals)],
                   terminals, packet_bytes)


def packets(counts: np.ndarray, flits: int) -> Packets:
    """The packet list of `counts`: created at cycle 0, each source's destinations interleaved fairly."""
    terminals = counts.shape[0]
    src, dst = np.nonzero(counts)
    per_pair = counts[src, dst]
    pair = np.repeat(np.arange(len(src)), per_pair)
    index = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)   # j-th of its pair
    phase = ((dst - src) % terminals + 0.5) / terminals
    order = np.lexsort(((index + phase[pair]) / per_pair[pair], src[pair]))
    chosen = pair[order]
    return Packets(src[chosen].astype(np.int64), dst[chosen].astype(np.int64), np.zeros(len(chosen), np.int64),
                   np.full(len(chosen), flits, np.int64))
