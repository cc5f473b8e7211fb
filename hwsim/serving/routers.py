"""Routers: which replica a request goes to (serving.md section 3, global routing). Each policy is
a small registered class; ``make_router(name)`` builds one.

- ``round-robin`` (Vidur's default global scheduler): request i goes to replica i mod N.
- ``least-tokens`` (least outstanding tokens, splitwise-sim's token-JSQ; Vidur's least-outstanding-
  requests counted in tokens): the replica whose unfinished requests still have the fewest tokens
  to compute (prompt left, recompute after preemption, outputs) when the request arrives; ties go
  to the lowest replica. The router sees a replica as of the end of its iteration in flight.
"""
from __future__ import annotations

from hwsim.config.errors import did_you_mean
from hwsim.serving.loop import ReplicaLoop
from hwsim.serving.state import Live

ROUTERS: dict[str, type["Router"]] = {}


def register(cls):
    ROUTERS[cls.name] = cls
    return cls


def make_router(name: str) -> "Router":
    """The routing policy `name`."""
    if name not in ROUTERS:
        raise ValueError(f"unknown router '{name}'{did_you_mean(name, ROUTERS)}; choose from {', '.join(ROUTERS)}")
    return ROUTERS[name]()


class Router:
    name = ""

    def pick(self, live: Live, replicas: list[ReplicaLoop]) -> ReplicaLoop:
        raise NotImplementedError


@register
class RoundRobin(Router):
    name = "round-robin"

    def __init__(self):
        self.count = 0

    def pick(self, live, replicas):
        self.count += 1
        return replicas[(self.count - 1) % len(replicas)]


@register
class LeastTokens(Router):
    name = "least-tokens"

    def pick(self, live, replicas):
        return min(replicas, key=lambda replica: replica.outstanding_tokens)


def route(lives: list[Live], router: Router, replicas: list[ReplicaLoop]) -> None:
    """Serve `lives` (in arrival order) on `replicas`: each replica runs up to a request's arrival,
    the router picks one for it, and at the end every replica runs to completion."""
    for live in lives:
        for replica in replicas:
            replica.advance(live.request.arrival_s)
        router.pick(live, replicas).add(live)
    for replica in replicas:
        replica.advance()
