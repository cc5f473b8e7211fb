"""Event kernel: integer-picosecond Simulator, clock domains and point-to-point links."""
from hwsim.engine.clock import ClockDomain
from hwsim.engine.kernel import CLOCK, EVENT, NORMAL, STAT, Simulator
from hwsim.engine.link import Link

__all__ = ["Simulator", "ClockDomain", "Link", "CLOCK", "EVENT", "NORMAL", "STAT"]
