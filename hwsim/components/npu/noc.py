"""The NPU's optional on-chip network (`noc:`): operand traffic timed on the cycle-level NoC kernel.

Without `noc:` the tiles see the scratchpad as one aggregate bandwidth. With it, the packets an
operator moves (noc_traffic.py) run through hwsim.components.interconnect.noc: input-queued VC
routers with credits, XY routing on a mesh or torus, or one crossbar. Network time is the cycle
the last tail flit arrives, every packet created at cycle 0.

Kept fast by simulating a representative window, not every packet of a large operator:
- up to `window_packets` packets: the exact simulation (zero-load latencies on small operators);
- more: the pattern scaled to about `window_packets` packets (pair counts rounded; pairs that
  round to zero ride along in the scale), simulated once and twice over; every further copy costs
  what the second one added: cycles = once + (twice - once) x (total / window - 1), never less
  than the busiest terminal port needs (one flit per cycle in and out).
Simulations are cached per (network, packet counts), so repeated layers cost nothing.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import model_validator

from hwsim.components.interconnect.noc import RouterSpec, crossbar, mesh, simulate_noc, torus
from hwsim.components.npu.noc_traffic import packets
from hwsim.config.counts import bounded
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize, Frequency

# Simulated cycle by cycle, packet by packet: a 64 x 64 mesh (4,096 routers) is beyond any built
# on-chip network (Tesla's D1 has 354 nodes), and a 65,536-packet window beyond what a layer needs.
RoutersPerDimension = bounded(64)
WindowPackets = bounded(65536)


class NocParams(Strict):
    topology: Literal["mesh", "torus", "crossbar"]
    dims: list[RoutersPerDimension]           # routers per dimension: [k, k] mesh/torus, [ports] crossbar
    clock: Frequency                          # Hz, routers and links
    flit_bytes: ByteSize                      # bytes a link moves per cycle
    packet_bytes: ByteSize = "64B"            # bytes per packet (a whole number of flits, no header flit)
    router: RouterSpec = RouterSpec()
    window_packets: WindowPackets = 4096              # largest pattern simulated packet by packet

    @model_validator(mode="after")
    def _shape(self):
        grid = self.topology in ("mesh", "torus")
        if grid and (len(self.dims) != 2 or self.dims[0] != self.dims[1] or self.dims[0] < 2):
            raise ValueError(f"a {self.topology} needs dims [k, k] with k >= 2 (square grids only), got {self.dims}")
        if not grid and len(self.dims) != 1:
            raise ValueError(f"a crossbar needs dims [ports], got {self.dims}")
        if self.packet_bytes % self.flit_bytes:
            raise ValueError(f"packet_bytes ({self.packet_bytes} B) must be a multiple of flit_bytes "
                             f"({self.flit_bytes} B)")
        return self

    @property
    def terminals(self) -> int:
        return int(np.prod(self.dims))

    @property
    def flits(self) -> int:
        """Flits per packet."""
        return self.packet_bytes // self.flit_bytes

    @property
    def peak_Bps(self) -> float:
        """Bytes/s all terminals can inject (each one flit per cycle): the network's roofline rate."""
        return self.terminals * self.flit_bytes * self.clock


@lru_cache(maxsize=None)
def _topology(kind: str, size: int):
    return {"mesh": mesh, "torus": torus, "crossbar": crossbar}[kind](size)


@lru_cache(maxsize=4096)
def _last_arrival(kind: str, size: int, router: RouterSpec, flits: int, counts: bytes, terminals: int) -> int:
    """Cycle the last tail flit is received, all packets of `counts` created at cycle 0."""
    matrix = np.frombuffer(counts, dtype=np.int64).reshape(terminals, terminals)
    result = simulate_noc(_topology(kind, size), router, packets(matrix, flits))
    if not result.delivered.all():
        raise RuntimeError(f"NoC {kind} {size}: packets undelivered (deadlock?)")
    return int(result.ejected.max())


def _simulated(noc: NocParams, counts: np.ndarray) -> int:
    return _last_arrival(noc.topology, noc.dims[0], noc.router, noc.flits,
                         np.ascontiguousarray(counts, dtype=np.int64).tobytes(), noc.terminals)


def network_cycles(noc: NocParams, counts: np.ndarray) -> float:
    """NoC cycles to deliver `counts[src, dst]` packets (module docstring: exact or windowed)."""
    total = int(counts.sum())
    if total == 0:
        return 0.0
    if total <= noc.window_packets:
        return float(_simulated(noc, counts))
    port_floor = noc.flits * max(int(counts.sum(axis=0).max()), int(counts.sum(axis=1).max()))
    window = np.rint(counts * (max(noc.window_packets, counts.size) / total)).astype(np.int64)
    once, twice = _simulated(noc, window), _simulated(noc, 2 * window)
    return max(once + (twice - once) * (total / int(window.sum()) - 1), float(port_floor))
