"""Run packets through an on-chip network and report per-packet latencies and hop counts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import run_cycles
from .router import RouterSpec
from .topology import NocTopology
from .traffic import Packets


@dataclass(frozen=True)
class NocResult:
    """Per packet (cycles): created, injected (head leaves the terminal), ejected (tail received)."""

    packets: Packets
    injected: np.ndarray
    ejected: np.ndarray
    routers_passed: np.ndarray      # BookSim2's "hops": routers the packet went through

    @property
    def latency(self) -> np.ndarray:
        """Packet latency: creation to tail ejection, source queueing included (BookSim's plat)."""
        return self.ejected - self.packets.created

    @property
    def network_latency(self) -> np.ndarray:
        """Head injection to tail ejection (BookSim's nlat)."""
        return self.ejected - self.injected

    @property
    def delivered(self) -> np.ndarray:
        return self.ejected >= 0

    def window(self, start: int, stop: int) -> np.ndarray:
        """Mask of packets created in cycles [start, stop): the measured ones after warm-up."""
        created = self.packets.created
        return (created >= start) & (created < stop)


def simulate_noc(topology: NocTopology, router: RouterSpec, packets: Packets,
                 max_cycles: int | None = None) -> NocResult:
    """Simulate until every packet is delivered (or ``max_cycles``; undelivered packets keep -1)."""
    if topology.vc_classes > 1 and router.num_vcs % topology.vc_classes:
        raise ValueError(f"{topology.name} needs an even num_vcs (dateline classes), got {router.num_vcs}")
    order = np.argsort(packets.src, kind="stable")          # per-terminal queues, in creation order
    queue_start = np.searchsorted(packets.src[order], np.arange(topology.terminals + 1))
    if max_cycles is None:
        last = int(packets.created.max()) if len(packets) else 0
        max_cycles = last + 100 * (int(packets.flits.sum()) + topology.routers) + 1000
    injected, ejected, passed = run_cycles(
        topology.neighbour_router, topology.neighbour_port, topology.terminal, topology.terminal_router,
        topology.terminal_port, topology.route, topology.dimension, topology.wraps, topology.vc_classes,
        router.num_vcs, router.vc_buf_size, router.routing_delay, router.vc_alloc_delay,
        router.sw_alloc_delay, router.crossbar_delay, router.link_latency, router.credit_delay,
        packets.src, packets.dst, packets.created, packets.flits, order.astype(np.int64),
        queue_start.astype(np.int64), max_cycles)
    return NocResult(packets, injected, ejected, passed)
