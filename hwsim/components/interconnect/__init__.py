"""Interconnects: packetised links, device topologies, collectives over them, and the on-chip network.

- ``link``: one link's parameters (bandwidth, latency, per-message overhead, duplex, packetisation)
  and their timing in integer picoseconds; shipped presets in ``presets/`` (each with ``source:``).
- ``network``: ranks and switches joined by links; messages are routed over the real channels,
  which serialise them first-in first-out, so concurrent traffic contends.
- ``collectives``: all-reduce (ring, binomial tree, recursive halving-doubling), all-gather,
  reduce-scatter and all-to-all (uniform or a per-destination byte matrix) as message DAGs run on a
  network; ``closed_forms`` holds the alpha-beta costs they must equal when uncontended.
- ``fabric``: the ``link_fabric`` machine component, timing collective/dispatch/combine operators.
- ``noc``: a cycle-level on-chip network (mesh, torus, crossbar) with virtual channels and credits.
"""
