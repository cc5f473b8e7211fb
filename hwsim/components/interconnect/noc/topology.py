"""On-chip network topologies as port tables the cycle kernel reads.

Router ports: in a k x k mesh or torus, ports 0..3 go to x+1, x-1, y+1, y-1 and port 4 is the
local terminal; terminal (node) id = y * k + x, as in BookSim2. A crossbar is one router whose
ports are all terminals. ``route[r, t]`` is the output port at router r towards terminal t
(dimension-order XY routing: x first, then y; a torus takes the shorter way round, ties go +).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

X_PLUS, X_MINUS, Y_PLUS, Y_MINUS, LOCAL = range(5)
_DIM = np.array([0, 0, 1, 1, -1], dtype=np.int64)


@dataclass(frozen=True)
class NocTopology:
    name: str
    neighbour_router: np.ndarray   # [routers, ports] downstream router, -1 for terminals/unused
    neighbour_port: np.ndarray     # [routers, ports] input port at that router
    terminal: np.ndarray           # [routers, ports] terminal on this port, -1 if none
    terminal_router: np.ndarray    # [terminals]
    terminal_port: np.ndarray      # [terminals]
    route: np.ndarray              # [routers, terminals] output port
    dimension: np.ndarray          # [routers, ports] 0 = x, 1 = y, -1 = terminal
    wraps: np.ndarray              # [routers, ports] 1 if the link is a torus wrap-around
    vc_classes: int                # 2 on a torus (dateline classes against deadlock), else 1

    @property
    def routers(self) -> int:
        return self.neighbour_router.shape[0]

    @property
    def terminals(self) -> int:
        return len(self.terminal_router)

    def routers_on_path(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Routers a packet from ``src`` to ``dst`` passes through (BookSim's hop count)."""
        src, dst = np.asarray(src), np.asarray(dst)
        if self.name.startswith("crossbar"):
            return np.ones_like(src)
        k = int(round(np.sqrt(self.terminals)))
        dx = np.abs(src % k - dst % k)
        dy = np.abs(src // k - dst // k)
        if self.name.startswith("torus"):
            dx, dy = np.minimum(dx, k - dx), np.minimum(dy, k - dy)
        return dx + dy + 1


def _grid(k: int, wrap: bool) -> NocTopology:
    if k < 2:
        raise ValueError(f"a {k}x{k} grid has no links; use k >= 2")
    n = k * k
    nbr_r = np.full((n, 5), -1, dtype=np.int64)
    nbr_p = np.full((n, 5), -1, dtype=np.int64)
    wraps = np.zeros((n, 5), dtype=np.int64)
    terminal = np.full((n, 5), -1, dtype=np.int64)
    for r in range(n):
        x, y = r % k, r // k
        for port, (dx, dy), back in ((X_PLUS, (1, 0), X_MINUS), (X_MINUS, (-1, 0), X_PLUS),
                                     (Y_PLUS, (0, 1), Y_MINUS), (Y_MINUS, (0, -1), Y_PLUS)):
            nx, ny = x + dx, y + dy
            if 0 <= nx < k and 0 <= ny < k:
                nbr_r[r, port], nbr_p[r, port] = ny * k + nx, back
            elif wrap:
                nbr_r[r, port], nbr_p[r, port] = (ny % k) * k + nx % k, back
                wraps[r, port] = 1
        terminal[r, LOCAL] = r
    route = np.full((n, n), LOCAL, dtype=np.int64)
    for r in range(n):
        for t in range(n):
            for dim, (plus, minus) in enumerate(((X_PLUS, X_MINUS), (Y_PLUS, Y_MINUS))):
                here, there = (r % k, t % k) if dim == 0 else (r // k, t // k)
                if here == there:
                    continue
                forward = (there - here) % k if wrap else there - here
                route[r, t] = plus if (forward <= k // 2 if wrap else forward > 0) else minus
                break
    return NocTopology(f"{'torus' if wrap else 'mesh'} {k}x{k}", nbr_r, nbr_p, terminal,
                       np.arange(n, dtype=np.int64), np.full(n, LOCAL, dtype=np.int64), route,
                       np.tile(_DIM, (n, 1)), wraps, 2 if wrap else 1)


def mesh(k: int) -> NocTopology:
    """k x k 2D mesh, one terminal per router."""
    return _grid(k, wrap=False)


def torus(k: int) -> NocTopology:
    """k x k 2D torus (wrap-around links), one terminal per router."""
    return _grid(k, wrap=True)


def crossbar(ports: int) -> NocTopology:
    """One router joining ``ports`` terminals: every packet crosses exactly one switch."""
    none = np.full((1, ports), -1, dtype=np.int64)
    route = np.arange(ports, dtype=np.int64)[None, :]
    return NocTopology(f"crossbar {ports}", none, none, np.arange(ports, dtype=np.int64)[None, :],
                       np.zeros(ports, dtype=np.int64), np.arange(ports, dtype=np.int64), route,
                       none.copy(), np.zeros((1, ports), dtype=np.int64), 1)
