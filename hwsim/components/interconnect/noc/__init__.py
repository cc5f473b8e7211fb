"""Cycle-level on-chip network: input-queued virtual-channel routers with credit flow control.

``topology`` builds mesh, torus and crossbar networks as port tables, ``router`` holds the router
parameters, ``traffic`` makes synthetic packet streams, ``kernel`` is the numba cycle loop and
``simulate`` ties them together and returns per-packet latencies.
"""
from hwsim.components.interconnect.noc.router import RouterSpec
from hwsim.components.interconnect.noc.simulate import NocResult, simulate_noc
from hwsim.components.interconnect.noc.topology import NocTopology, crossbar, mesh, torus
from hwsim.components.interconnect.noc.traffic import Packets, bernoulli_packets

__all__ = ["RouterSpec", "NocResult", "simulate_noc", "NocTopology", "crossbar", "mesh", "torus",
           "Packets", "bernoulli_packets"]
