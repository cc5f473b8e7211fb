"""Collectives as DAGs of point-to-point messages, run over a ``Network``.

A schedule is a list of ``Message``; a message is sent once every message in its ``deps`` has
arrived. Step-based algorithms (ring, tree, recursive halving-doubling, pairwise all-to-all) are
built as a list of steps; ``_chain`` gives each rank blocking send-receive semantics: its sends
of a step wait for what it received since its last sends and for those sends to arrive.
Reduction compute is not charged here (gamma = 0): the compute unit that reduces owns that time.

Byte arguments: ``nbytes`` is the per-rank buffer (all-reduce input, all-gather output,
reduce-scatter input); all-to-all takes a ``[ranks, ranks]`` matrix of bytes from row to column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from .network import Network


@dataclass(frozen=True)
class Message:
    src: int
    dst: int
    nbytes: int
    deps: tuple[int, ...] = ()


Step = list[tuple[int, int, int]]     # (src, dst, bytes) sent in one step


def _chain(steps: Sequence[Step]) -> list[Message]:
    messages: list[Message] = []
    last_sends: dict[int, list[int]] = {}
    received: dict[int, list[int]] = {}
    for step in steps:
        sent: dict[int, list[int]] = {}
        for src, dst, nbytes in step:
            deps = tuple(received.get(src, ())) + tuple(last_sends.get(src, ()))
            sent.setdefault(src, []).append(len(messages))
            messages.append(Message(src, dst, int(nbytes), deps))
        for src, indices in sent.items():
            last_sends[src] = indices
            received[src] = []
        for index in (i for indices in sent.values() for i in indices):
            received.setdefault(messages[index].dst, []).append(index)
    return messages


def _split(nbytes: int, parts: int) -> list[int]:
    """``nbytes`` in ``parts`` chunks that differ by at most one byte."""
    base, extra = divmod(int(nbytes), parts)
    return [base + (i < extra) for i in range(parts)]


def _ring_steps(group: Sequence[int], nbytes: int, rounds: int) -> list[Step]:
    """``rounds`` x (p-1) ring steps over ``group``; chunk c of the buffer travels one hop per step."""
    p = len(group)
    chunks = _split(nbytes, p)
    steps = []
    for step in range(rounds * (p - 1)):
        steps.append([(group[i], group[(i + 1) % p], chunks[(i - step) % p]) for i in range(p)])
    return steps


def _power_of_two(p: int, algorithm: str) -> int:
    if p & (p - 1):
        raise ValueError(f"{algorithm} needs a power-of-two number of ranks, got {p}")
    return p.bit_length() - 1


def _halving_doubling_steps(group: Sequence[int], nbytes: int) -> list[Step]:
    """Rabenseifner: reduce-scatter by recursive halving, then all-gather by recursive doubling."""
    p = len(group)
    levels = _power_of_two(p, "recursive halving-doubling")
    halving = []
    for level in range(levels):
        distance = p >> (level + 1)
        size = nbytes * distance // p            # halves every step: n/2, n/4, ..., n/p
        halving.append([(group[i], group[i ^ distance], size) for i in range(p)])
    return halving + halving[::-1]


def _binomial_steps(group: Sequence[int], nbytes: int) -> list[Step]:
    """Reduce to group[0] over a binomial tree, then broadcast back down it."""
    p = len(group)
    reduce = []
    span = 1
    while span < p:
        reduce.append([(group[i], group[i - span], nbytes) for i in range(span, p, 2 * span)])
        span *= 2
    broadcast = [[(dst, src, size) for src, dst, size in step] for step in reversed(reduce)]
    return reduce + broadcast


def _star_steps(group: Sequence[int], nbytes: int) -> list[Step]:
    """Every other rank sends its whole buffer to group[0], which reduces and sends the result back
    (TPI-LLM's star all-reduce, arXiv 2410.00531 section 3: two hops of latency whatever the rank count)."""
    gather = [(rank, group[0], nbytes) for rank in group[1:]]
    return [gather, [(dst, src, size) for src, dst, size in gather]]


def _pairwise_steps(matrix: np.ndarray) -> list[Step]:
    """Step s: rank i sends its block for rank (i + s) mod p."""
    p = len(matrix)
    return [[(i, (i + s) % p, int(matrix[i, (i + s) % p])) for i in range(p)] for s in range(1, p)]


def all_reduce(ranks: int, nbytes: int, algorithm: str = "ring") -> list[Message]:
    """All-reduce of an ``nbytes`` buffer: ``ring``, ``tree`` (binomial), ``halving_doubling`` or
    ``star`` (through rank 0)."""
    group = range(ranks)
    builders = {"ring": lambda: _ring_steps(group, nbytes, 2),
                "star": lambda: _star_steps(group, nbytes),
                "tree": lambda: _binomial_steps(group, nbytes),
                "halving_doubling": lambda: _halving_doubling_steps(group, nbytes)}
    if algorithm not in builders:
        raise ValueError(f"unknown all-reduce algorithm {algorithm!r}; known: {', '.join(builders)}")
    return _chain(builders[algorithm]())


def all_gather(ranks: int, nbytes: int) -> list[Message]:
    """Ring all-gather; ``nbytes`` is the gathered output per rank (each rank owns nbytes/ranks)."""
    return _chain(_ring_steps(range(ranks), nbytes, 1))


def reduce_scatter(ranks: int, nbytes: int) -> list[Message]:
    """Ring reduce-scatter; ``nbytes`` is the input per rank (each rank ends with nbytes/ranks)."""
    return _chain(_ring_steps(range(ranks), nbytes, 1))


def uniform_matrix(ranks: int, nbytes: int) -> np.ndarray:
    """All-to-all bytes where each rank sends ``nbytes`` in total, split evenly over the others."""
    matrix = np.zeros((ranks, ranks), dtype=np.int64)
    for i in range(ranks):
        others = [j for j in range(ranks) if j != i]
        matrix[i, others] = _split(nbytes, ranks - 1)
    return matrix


def all_to_all(matrix, algorithm: str = "pairwise") -> list[Message]:
    """All-to-all from a ``[ranks, ranks]`` byte matrix (MoE dispatch/combine).

    ``pairwise``: p-1 blocking exchange steps (MPICH's long-message algorithm).
    ``direct``: every rank posts all its sends at once, in order i+1, i+2, ... (NCCL-style); the
    channels serialise them.
    """
    if algorithm == "pairwise":
        return _chain(_pairwise_steps(_square(matrix)))
    if algorithm == "direct":
        return [Message(src, dst, nbytes) for src, dst, nbytes in zip(*(a.tolist() for a in direct_all_to_all(matrix)))]
    raise ValueError(f"unknown all-to-all algorithm {algorithm!r}; known: pairwise, direct")


class Batch(NamedTuple):
    """Messages without dependencies, all sent at once in array order: ranks and bytes per message."""

    src: np.ndarray
    dst: np.ndarray
    nbytes: np.ndarray


def _square(matrix) -> np.ndarray:
    """An all-to-all's byte matrix as int64, refused unless square and non-negative."""
    matrix = np.asarray(matrix, dtype=np.int64)
    p = len(matrix)
    if matrix.shape != (p, p) or (matrix < 0).any():
        raise ValueError(f"all-to-all needs a square non-negative byte matrix, got shape {matrix.shape}")
    return matrix


def direct_all_to_all(matrix) -> Batch:
    """The ``direct`` all-to-all of a ``[ranks, ranks]`` byte matrix as arrays: rank i sends to
    i+1, i+2, ... (mod ranks) in that order, the non-empty pairs only."""
    matrix = _square(matrix)
    p = len(matrix)
    src = np.repeat(np.arange(p), p - 1)
    dst = (src + np.tile(np.arange(1, p), p)) % p
    nbytes = matrix[src, dst]
    sent = nbytes > 0
    return Batch(src[sent], dst[sent], nbytes[sent])


def hierarchical_all_reduce(nodes: int, ranks_per_node: int, nbytes: int) -> list[Message]:
    """Ring reduce-scatter inside each node, ring all-reduce of each 1/ranks_per_node shard across
    nodes (one rail per local rank), ring all-gather inside each node."""
    g = ranks_per_node
    local = [list(range(node * g, (node + 1) * g)) for node in range(nodes)]
    rails = [list(range(lane, nodes * g, g)) for lane in range(g)]
    shard = nbytes // g

    def parallel(groups, make):
        per_group = [make(group) for group in groups]
        return [sum(steps, []) for steps in zip(*per_group)]

    return _chain(parallel(local, lambda grp: _ring_steps(grp, nbytes, 1))
                  + parallel(rails, lambda grp: _ring_steps(grp, shard, 2))
                  + parallel(local, lambda grp: _ring_steps(grp, nbytes, 1)))


class CollectiveRun:
    """Runs one schedule on a network from ``start_ps``; ``done(run)`` is called at the end.

    ``arrival_ps[i]`` is when message i arrived; ``end_ps`` the last arrival.
    """

    def __init__(self, network: Network, messages: list[Message], start_ps: Optional[int] = None,
                 done: Optional[Callable[["CollectiveRun"], None]] = None):
        self.network = network
        self.messages = messages
        self.done = done
        self.start_ps = network.sim.now if start_ps is None else start_ps
        self.end_ps: Optional[int] = None
        self.arrival_ps = np.full(len(messages), -1, dtype=np.int64)
        self._waiting = [len(m.deps) for m in messages]
        self._dependents: list[list[int]] = [[] for _ in messages]
        for index, message in enumerate(messages):
            for dep in message.deps:
                self._dependents[dep].append(index)
        self._left = len(messages)
        for index, waiting in enumerate(self._waiting):
            if waiting == 0:
                network.sim.schedule_at(self.start_ps, self._send, index)
        if not messages:
            network.sim.schedule_at(self.start_ps, self._finish)

    @property
    def duration_ps(self) -> int:
        return self.end_ps - self.start_ps

    def _send(self, index: int) -> None:
        message = self.messages[index]
        self.network.send(message.src, message.dst, message.nbytes, self._arrived, index)

    def _arrived(self, index: int) -> None:
        self.arrival_ps[index] = self.network.sim.now
        for dependent in self._dependents[index]:
            self._waiting[dependent] -= 1
            if self._waiting[dependent] == 0:
                self._send(dependent)
        self._left -= 1
        if self._left == 0:
            self._finish()

    def _finish(self) -> None:
        self.end_ps = self.network.sim.now
        if self.done is not None:
            self.done(self)


def sources_and_bytes(schedule: list[Message] | Batch) -> tuple[np.ndarray, np.ndarray]:
    """Each message's sending rank and bytes (int64 arrays)."""
    if isinstance(schedule, Batch):
        return schedule.src, schedule.nbytes
    return (np.array([m.src for m in schedule], dtype=np.int64), np.array([m.nbytes for m in schedule], dtype=np.int64))


def inflated(schedule: list[Message] | Batch, factor: float) -> list[Message] | Batch:
    """The schedule with each message's bytes times ``factor``, rounded up."""
    if isinstance(schedule, Batch):
        return schedule._replace(nbytes=np.ceil(schedule.nbytes * factor).astype(np.int64))
    return [replace(m, nbytes=math.ceil(m.nbytes * factor)) for m in schedule]


def start(network: Network, schedule: list[Message] | Batch, start_ps: int, done: Callable) -> None:
    """Run ``schedule`` on ``network`` from ``start_ps``; ``done(run)`` at its end."""
    if isinstance(schedule, Batch):
        BatchRun(network, schedule, start_ps, done)
    else:
        CollectiveRun(network, schedule, start_ps=start_ps, done=done)


class BatchRun:
    """Runs a ``Batch`` on a network from ``start_ps``, with ``CollectiveRun``'s times and ``done``
    call: there each message is sent in its own event, all at ``start_ps`` and one after the other,
    and the run ends with the last arrival; here one event sends them all (``Network.send_all``)
    and one event at the last arrival ends the run (in the same place among events at that time:
    the messages' own arrivals were scheduled while they were sent)."""

    def __init__(self, network: Network, batch: Batch, start_ps: int, done: Callable[["BatchRun"], None]):
        self.network, self.batch, self.done = network, batch, done
        self.start_ps = start_ps
        self.end_ps: Optional[int] = None
        self.arrival_ps = np.full(len(batch.src), -1, dtype=np.int64)
        network.sim.schedule_at(start_ps, self._send if len(batch.src) else self._finish)

    def _send(self) -> None:
        self.arrival_ps = self.network.send_all(*self.batch)
        self.network.sim.schedule_at(int(self.arrival_ps.max()), self._finish)

    def _finish(self) -> None:
        self.end_ps = self.network.sim.now
        self.done(self)


def time_alone(network: Network, messages: list[Message]) -> int:
    """Duration (ps) of one collective run alone on ``network`` (which must be idle)."""
    run = CollectiveRun(network, messages)
    network.sim.run()
    return run.duration_ps
