"""A point-to-point link: bandwidth, latency, per-message overhead, duplex and packetisation.

Timing of one message of ``n`` payload bytes on an idle link (all in integer picoseconds):

    occupancy = overhead + serialisation(wire_bytes(n))   # the transmitter is busy this long
    arrival   = start + occupancy + latency               # latency is pipelined (wire, switch)

so an isolated message costs ``alpha + wire_bytes(n) * beta`` with ``alpha = overhead + latency``
and ``beta = 1 / bandwidth``. Packetisation follows LLMCompass's link model: the payload is cut into
packets of at most ``max_payload`` bytes, each carrying a ``header``; header and payload are each
rounded up to whole flits. A link whose software-measured payload rate is published (``sustained``:
what a p2p or NCCL bus-bandwidth test sees, protocol overheads included) serialises payload bytes at
that rate instead (``beta = 1 / sustained``, no packetisation on top); ``bandwidth`` stays the
datasheet figure.
"""
from __future__ import annotations

from typing import Literal, Optional

from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteCount, ByteSize, Latency

PS_PER_S = 10**12


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class LinkSpec(Strict):
    """One link's parameters; ``bandwidth`` is per direction."""

    source: str                           # where the figures come from (spec, paper, measurement)
    bandwidth: Bandwidth                  # bytes/s per direction (datasheet)
    sustained: Optional[Bandwidth] = None # payload bytes/s per direction that software measures
    latency: Latency = "0s"              # seconds, propagation + switching, does not occupy the link
    overhead: Latency = "0s"             # seconds per message at the sender (setup, doorbell), occupies it
    duplex: Literal["full", "half"] = "full"   # half: both directions share one channel
    flit: ByteSize = "1B"                 # bytes, the link's transfer unit
    header: ByteCount = "0B"               # bytes of header per packet
    max_payload: Optional[ByteSize] = None     # bytes per packet; None = one packet per message

    @property
    def latency_ps(self) -> int:
        return round(self.latency * PS_PER_S)

    @property
    def overhead_ps(self) -> int:
        return round(self.overhead * PS_PER_S)

    @property
    def alpha_ps(self) -> int:
        """Fixed cost of one isolated message (ps)."""
        return self.overhead_ps + self.latency_ps

    def packets(self, nbytes: int) -> int:
        if self.max_payload is None:
            return 1
        return max(1, _ceil_div(nbytes, self.max_payload))

    @property
    def rate(self) -> float:
        """Bytes/s that ``wire_bytes`` move at: the sustained payload rate if given, else the datasheet."""
        return self.sustained or self.bandwidth

    def wire_bytes(self, nbytes: int) -> int:
        """Bytes on the wire for an ``nbytes`` payload: payload and headers in whole flits (the
        payload alone with a ``sustained`` rate, which already includes them)."""
        nbytes = int(nbytes)
        if self.sustained is not None:
            return nbytes
        flit = self.flit
        header_flits = _ceil_div(self.header, flit)
        packets = self.packets(nbytes)
        if self.max_payload is None:
            payload_flits = _ceil_div(nbytes, flit)
        else:
            full, last = divmod(nbytes, self.max_payload)
            payload_flits = full * _ceil_div(self.max_payload, flit) + _ceil_div(last, flit)
        return (packets * header_flits + payload_flits) * flit

    def serialisation_ps(self, nbytes: int) -> int:
        """Time (ps, rounded up) to put ``nbytes`` of payload, packetised, on the wire."""
        return _ceil_div(self.wire_bytes(nbytes) * PS_PER_S, round(self.rate))

    def occupancy_ps(self, nbytes: int) -> int:
        """How long one message keeps the transmitter busy (ps)."""
        return self.overhead_ps + self.serialisation_ps(nbytes)

    def message_ps(self, nbytes: int) -> int:
        """Time (ps) of one message on an idle link, from send to last byte received."""
        return self.occupancy_ps(nbytes) + self.latency_ps

    def efficiency(self, nbytes: int) -> float:
        """Payload fraction of the wire bytes (1 without packetisation and flit padding)."""
        return nbytes / self.wire_bytes(nbytes) if nbytes else 0.0
