"""A one-direction point-to-point channel with latency and bandwidth."""
from hwsim.engine.clock import PS_PER_S, positive_fraction
from hwsim.engine.kernel import nonnegative_int


class Link:
    """Messages leave FIFO: one starts when the link is free, occupies it for
    ``ceil((nbytes + overhead_bytes) / bandwidth)`` ps, and arrives ``latency_ps`` after that.

    Statistics: ``messages``, ``bytes_sent`` (payload), ``busy_ps`` (total occupancy of all
    messages sent, including any still in flight) and ``utilization()``.
    """

    def __init__(self, sim, latency_ps, bandwidth_bytes_per_s, name="link", overhead_bytes=0):
        self.sim = sim
        self.name = name
        self.latency_ps = nonnegative_int(latency_ps, f"{name}: latency_ps")
        self.overhead_bytes = nonnegative_int(overhead_bytes, f"{name}: overhead_bytes")
        bandwidth = positive_fraction(bandwidth_bytes_per_s, f"{name}: bandwidth_bytes_per_s")
        self.bandwidth_bytes_per_s = bandwidth  # a Fraction
        ps_per_byte = PS_PER_S / bandwidth
        self._num, self._den = ps_per_byte.numerator, ps_per_byte.denominator
        self.free_at_ps = 0
        """Time the last accepted message finishes occupying the link."""
        self.messages = 0
        self.bytes_sent = 0
        self.busy_ps = 0

    def occupancy_ps(self, nbytes):
        """Time ``nbytes`` of payload (plus the per-message overhead) occupy the link, in ps."""
        return -(-(nbytes + self.overhead_bytes) * self._num // self._den)

    def reserve(self, nbytes, ready_ps, min_end_ps=0, setup_ps=0):
        """Book the link for one message of ``nbytes`` whose first byte is ready at ``ready_ps``;
        no event is scheduled. It starts when the link is free, spends ``setup_ps`` before the data
        (a per-message overhead), and ends no earlier than ``min_end_ps`` (the last byte's arrival
        when forwarding cut-through). Returns ``(start_ps, end_ps)``: the message occupies the link
        over that span and arrives ``latency_ps`` after ``end_ps``."""
        if type(nbytes) is not int or nbytes < 0:
            nbytes = nonnegative_int(nbytes, f"{self.name}: nbytes")
        start = max(ready_ps, self.free_at_ps)
        end = max(start + setup_ps + self.occupancy_ps(nbytes), min_end_ps)
        self.free_at_ps = end
        self.messages += 1
        self.bytes_sent += nbytes
        self.busy_ps += end - start
        return start, end

    def send(self, nbytes, callback, *args):
        """Send ``nbytes`` now; call ``callback(*args)`` when the message arrives. Returns that
        arrival time (ps)."""
        sim = self.sim
        arrival = self.reserve(nbytes, sim.now)[1] + self.latency_ps
        sim.schedule(arrival - sim.now, callback, *args)
        return arrival

    def utilization(self, elapsed_ps=None):
        """Fraction of ``elapsed_ps`` (default: the simulator's ``now``) the link was busy."""
        elapsed_ps = self.sim.now if elapsed_ps is None else elapsed_ps
        return self.busy_ps / elapsed_ps if elapsed_ps else 0.0

    def __repr__(self):
        return (f"Link({self.name!r}, latency {self.latency_ps} ps, "
                f"{float(self.bandwidth_bytes_per_s):g} B/s)")
