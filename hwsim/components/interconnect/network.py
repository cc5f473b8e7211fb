"""Ranks and switches joined by links; messages are routed hop by hop over directed channels.

Each link is two channels (full duplex) or one shared channel (half duplex); a channel is the
event kernel's ``Link`` (FIFO serialisation, latency, statistics). A channel sends one message at a
time, first come first served, so traffic that shares a channel contends. A message
moves cut-through with buffering at each hop (times in integer ps):

    hop 1:  start = max(send time, channel free);  data leaves at start + overhead
    hop h:  start = max(head arrives, channel free);  end = max(start + serialisation, tail arrives)

so on idle channels a message over a path arrives ``overhead + serialisation + sum(latencies)``
after it is sent, and a busy channel delays it and everything behind it. Channels are reserved
when a message is sent (in event order), which makes the order on every channel the order in
which messages entered the network.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

import numba
import numpy as np

from hwsim.engine import Link, Simulator

from .link import LinkSpec


class Channel(Link):
    """One direction of a link (both, if half duplex): the kernel's FIFO ``Link`` carrying the
    packetised wire bytes of a ``LinkSpec``, reserved hop by hop for cut-through routing."""

    def __init__(self, sim: Simulator, spec: LinkSpec, name: str):
        super().__init__(sim, spec.latency_ps, spec.rate, name)
        self.spec = spec

    def occupancy_ps(self, nbytes: int) -> int:
        """Serialisation (ps) of ``nbytes`` of payload as packetised wire bytes."""
        return super().occupancy_ps(self.spec.wire_bytes(nbytes))

    def carry(self, head_ps: int, tail_ps: int, nbytes: int, overhead_ps: int) -> tuple[int, int]:
        """Carry a message whose head reaches this channel at ``head_ps`` and whose last byte
        reaches it at ``tail_ps``; returns when they reach the far end (ps)."""
        start, end = self.reserve(nbytes, head_ps, min_end_ps=tail_ps, setup_ps=overhead_ps)
        return start + overhead_ps + self.latency_ps, end + self.latency_ps


class Network:
    """Nodes ``0..ranks-1`` are endpoints; ``add_switch`` adds switch nodes after them."""

    def __init__(self, sim: Simulator, ranks: int):
        if ranks < 1:
            raise ValueError(f"a network needs at least one rank, got {ranks}")
        self.sim = sim
        self.ranks = ranks
        self.nodes = ranks
        self.channels: list[Channel] = []
        self._out: dict[int, list[tuple[int, int]]] = {}   # node -> [(neighbour, channel index)]
        self._routes: dict[tuple[int, int], tuple[int, ...]] = {}
        self._trees: dict[tuple[int, bool], dict] = {}
        self._table = None                                 # send_all's route and channel arrays

    def add_switch(self) -> int:
        self.nodes += 1
        return self.nodes - 1

    def connect(self, a: int, b: int, spec: LinkSpec) -> None:
        """Join nodes ``a`` and ``b`` with one link (two channels, or one if half duplex)."""
        for node in (a, b):
            if not 0 <= node < self.nodes:
                raise ValueError(f"node {node} does not exist (nodes 0..{self.nodes - 1})")
        forward = len(self.channels)
        self.channels.append(Channel(self.sim, spec, f"{a}->{b}"))
        backward = forward
        if spec.duplex == "full":
            backward += 1
            self.channels.append(Channel(self.sim, spec, f"{b}->{a}"))
        self._out.setdefault(a, []).append((b, forward))
        self._out.setdefault(b, []).append((a, backward))
        self._routes.clear()
        self._trees.clear()
        self._table = None

    def route(self, src: int, dst: int) -> tuple[int, ...]:
        """Channel indices of the shortest path (breadth-first; ties go to the first link added).
        Only switches and the endpoints themselves carry a message, never a third rank, unless no
        such path exists (a ring of ranks forwards through its neighbours)."""
        key = (src, dst)
        if key not in self._routes:
            path = self._shortest(src, dst, through_ranks=False) or self._shortest(src, dst, through_ranks=True)
            if path is None:
                raise ValueError(f"no path from rank {src} to rank {dst}")
            self._routes[key] = path
        return self._routes[key]

    def _shortest(self, src, dst, through_ranks):
        previous = self._tree(src, through_ranks)
        if dst not in previous:
            return None
        path = []
        node = dst
        while previous[node] is not None:
            node, channel = previous[node]
            path.append(channel)
        return tuple(reversed(path))

    def _tree(self, src, through_ranks) -> dict:
        """Breadth-first search from ``src``: node -> (node before it, channel), ``src`` -> None.
        A node's entry is set when it is first reached, so every path read from the tree is the one
        a search stopping at that node finds."""
        key = (src, through_ranks)
        if key not in self._trees:
            previous = {src: None}
            queue = deque([src])
            while queue:
                node = queue.popleft()
                if node != src and node < self.ranks and not through_ranks:
                    continue
                for neighbour, channel in self._out.get(node, ()):
                    if neighbour not in previous:
                        previous[neighbour] = (node, channel)
                        queue.append(neighbour)
            self._trees[key] = previous
        return self._trees[key]

    def send(self, src: int, dst: int, nbytes: int, on_arrival: Callable, *args) -> int:
        """Send ``nbytes`` from rank ``src`` to rank ``dst`` now; ``on_arrival(*args)`` runs when the
        last byte arrives. Returns the arrival time (ps)."""
        now = self.sim.now
        if src == dst:
            self.sim.schedule(0, on_arrival, *args)
            return now
        head = tail = now
        for hop, index in enumerate(self.route(src, dst)):
            channel = self.channels[index]
            head, tail = channel.carry(head, tail, nbytes, channel.spec.overhead_ps if hop == 0 else 0)
        self.sim.schedule_at(tail, on_arrival, *args)
        return tail

    def send_all(self, src: np.ndarray, dst: np.ndarray, nbytes: np.ndarray) -> np.ndarray:
        """Send many messages now, in array order, exactly as ``send`` one after the other (the
        same channel reservations and statistics) but in one compiled pass and without events;
        returns each message's arrival time (ps)."""
        routes, hops, classes, overhead, latency, representatives = self._tables()
        sizes, size_index = np.unique(nbytes, return_inverse=True)
        occupancy = np.array([[self.channels[c].occupancy_ps(int(n)) for n in sizes] for c in representatives],
                             dtype=np.int64).reshape(len(representatives), len(sizes))
        state = np.array([[c.free_at_ps, c.messages, c.bytes_sent, c.busy_ps] for c in self.channels], dtype=np.int64)
        tails = np.empty(len(src), dtype=np.int64)
        _carry_all(self.sim.now, routes[src, dst], hops[src, dst], nbytes.astype(np.int64), size_index.ravel(),
                   occupancy, classes, overhead, latency, state, tails)
        for channel, (free, messages, sent, busy) in zip(self.channels, state.tolist()):
            channel.free_at_ps, channel.messages, channel.bytes_sent, channel.busy_ps = free, messages, sent, busy
        return tails

    def _tables(self):
        """[ranks, ranks, hops] channel routes (-1 padded) and [ranks, ranks] hop counts; per channel
        its timing class (channels alike in occupancy), first-hop overhead and latency (ps); a
        channel of each class."""
        if self._table is None:
            paths = [[self.route(a, b) if a != b else () for b in range(self.ranks)] for a in range(self.ranks)]
            longest = max(len(path) for row in paths for path in row)
            routes = np.full((self.ranks, self.ranks, max(longest, 1)), -1, dtype=np.int64)
            hops = np.zeros((self.ranks, self.ranks), dtype=np.int64)
            for a, row in enumerate(paths):
                for b, path in enumerate(row):
                    routes[a, b, :len(path)] = path
                    hops[a, b] = len(path)
            kinds: dict = {}
            classes = np.array([kinds.setdefault((id(c.spec), c._num, c._den, c.overhead_bytes), len(kinds))
                                for c in self.channels], dtype=np.int64)
            representatives = [int(np.flatnonzero(classes == k)[0]) for k in range(len(kinds))]
            overhead = np.array([c.spec.overhead_ps for c in self.channels], dtype=np.int64)
            latency = np.array([c.latency_ps for c in self.channels], dtype=np.int64)
            self._table = (routes, hops, classes, overhead, latency, representatives)
        return self._table

    def path_alpha_ps(self, src: int, dst: int) -> int:
        """Fixed cost (ps) of one message from ``src`` to ``dst`` on idle channels."""
        path = [self.channels[i].spec for i in self.route(src, dst)]
        return path[0].overhead_ps + sum(spec.latency_ps for spec in path)


@numba.njit(cache=True)
def _carry_all(now, routes, hops, nbytes, size_index, occupancy, classes, overhead, latency, state,
               tails):  # pragma: no cover - compiled
    """``Network.send`` of each message in order: per hop, ``Channel.carry`` (``Link.reserve`` with
    the first hop's overhead); ``state`` rows are each channel's free time, messages, bytes and busy ps."""
    for m in range(len(tails)):
        head = tail = now
        for h in range(hops[m]):
            c = routes[m, h]
            setup = overhead[c] if h == 0 else 0
            start = max(head, state[c, 0])
            end = max(start + setup + occupancy[classes[c], size_index[m]], tail)
            state[c, 0] = end
            state[c, 1] += 1
            state[c, 2] += nbytes[m]
            state[c, 3] += end - start
            head = start + setup + latency[c]
            tail = end + latency[c]
        tails[m] = tail


def fully_connected(sim: Simulator, ranks: int, link: LinkSpec) -> Network:
    """Every pair of ranks has its own link."""
    net = Network(sim, ranks)
    for a in range(ranks):
        for b in range(a + 1, ranks):
            net.connect(a, b, link)
    return net


def ring(sim: Simulator, ranks: int, link: LinkSpec) -> Network:
    """Rank i is linked to rank i+1 (mod ranks); other pairs forward through the ranks between."""
    net = Network(sim, ranks)
    for a in range(ranks if ranks > 2 else ranks - 1):
        net.connect(a, (a + 1) % ranks, link)
    return net


def switch(sim: Simulator, ranks: int, link: LinkSpec) -> Network:
    """A star: each rank has one link (its port) to a non-blocking switch; switch delay is part of
    the link latency, so a message crosses two links."""
    net = Network(sim, ranks)
    hub = net.add_switch()
    for rank in range(ranks):
        net.connect(rank, hub, link)
    return net


def hierarchical(sim: Simulator, nodes: int, ranks_per_node: int, intra: LinkSpec, inter: LinkSpec) -> Network:
    """``nodes`` servers of ``ranks_per_node`` ranks: a switch inside each server (NVLink, UB) and
    one NIC per rank on a shared inter-node switch (RDMA rails). Rank r is in server
    ``r // ranks_per_node``."""
    net = Network(sim, nodes * ranks_per_node)
    for node in range(nodes):
        hub = net.add_switch()
        for local in range(ranks_per_node):
            net.connect(node * ranks_per_node + local, hub, intra)
    fabric = net.add_switch()
    for rank in range(net.ranks):
        net.connect(rank, fabric, inter)
    return net
