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

from pydantic import Field

from hwsim.config.schema import Strict


class RouterSpec(Strict):
    num_vcs: int = Field(4, gt=0)            # virtual channels per input port (even for a torus)
    vc_buf_size: int = Field(8, gt=0)        # flits of buffer per virtual channel
    routing_delay: int = Field(1, ge=0)      # cycles
    vc_alloc_delay: int = Field(1, gt=0)     # cycles
    sw_alloc_delay: int = Field(1, gt=0)     # cycles
    crossbar_delay: int = Field(1, ge=0)     # cycles
    link_latency: int = Field(1, ge=0)       # cycles on the wire between routers (and terminals)
    credit_delay: int = Field(4, gt=0)       # cycles from freeing a slot to the credit's use upstream

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
