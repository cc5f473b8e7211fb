"""Parameters of an input-queued virtual-channel router (all delays in router cycles).

Pipeline of a head flit received in cycle ``a`` (BookSim2's IQ router, speculation off):
route computation in cycles ``[a, a + routing_delay)``, VC allocation for ``vc_alloc_delay``
cycles, switch allocation for ``sw_alloc_delay``; a flit that wins switch allocation in cycle
``w`` crosses the crossbar and the link and is received downstream in cycle
``w + crossbar_delay + link_latency + 1`` (the receiver reads it the cycle after it leaves the
wire). Body flits follow one per cycle. A credit for a freed buffer slot is usable upstream
``credit_delay`` cycles after the switch allocation (or terminal ejection) that freed it; an
output VC is released when the credit of its packet's tail returns (BookSim's
``wait_for_tail_credit = 1``). BookSim2 sends the credit in the allocation cycle over a backward
channel and adds its own ``credit_delay`` on receipt, so hwsim's ``credit_delay`` equals BookSim's
``credit_delay + link_latency + 1`` (read in its iq_router.cpp, not fitted).
"""
from __future__ import annotations

from hwsim.config.counts import bounded
from hwsim.config.schema import Strict

# The router is simulated cycle by cycle with a state array per port, VC and buffer slot: these
# bounds are far above any built router (BookSim's defaults: 4 VCs of 8 flits, 1-cycle stages)
# and keep one network's state and cycle count small enough to simulate.
VirtualChannels = bounded(64)
BufferFlits = bounded(1024)
StageCycles = bounded(1024)           # a pipeline stage or wire of at least one cycle
ExtraCycles = bounded(1024, low=0)    # a delay that may be absent


class RouterSpec(Strict):
    num_vcs: VirtualChannels = 4             # virtual channels per input port (even for a torus)
    vc_buf_size: BufferFlits = 8             # flits of buffer per virtual channel
    routing_delay: ExtraCycles = 1           # cycles
    vc_alloc_delay: StageCycles = 1          # cycles
    sw_alloc_delay: StageCycles = 1          # cycles
    crossbar_delay: ExtraCycles = 1          # cycles
    link_latency: ExtraCycles = 1            # cycles on the wire between routers (and terminals)
    credit_delay: StageCycles = 4            # cycles from freeing a slot to the credit's use upstream

    @property
    def hop_cycles(self) -> int:
        """Cycles a head flit spends per router-to-router hop with no contention."""
        return (self.routing_delay + self.vc_alloc_delay + self.sw_alloc_delay - 1
                + self.crossbar_delay + self.link_latency + 1)

    def zero_load_latency(self, routers: int, flits: int) -> int:
        """Cycles from packet creation to tail ejection on an idle network through ``routers``
        routers (BookSim's hop count): the injection link, each router with the link after it
        (the last one to the ejecting terminal), then the tail ``flits - 1`` cycles behind."""
        return self.link_latency + 1 + routers * self.hop_cycles + flits - 1
