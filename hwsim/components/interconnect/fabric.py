"""A link fabric as a machine component: times communication operators over a real topology.

    fabric:
      type: link_fabric
      source: "8 x H100 SXM over NVLink4 through NVSwitch"
      topology: switch            # switch | ring | fully_connected | hierarchical
      ranks: 8                    # hierarchical: nodes x ranks_per_node instead
      link: nvlink4_h100          # a preset name or an inline link {bandwidth: ..., latency: ...}
      all_reduce: ring            # ring | tree | halving_doubling | star
      protocols: {...}            # optional: NCCL's LL / LL128 / Simple, see below

Operators (``hwsim/workload/ops.py`` kinds), with ``p`` ranks:
- ``collective``: by ``op.collective``, an all-reduce (default) of ``act_in_bytes`` per rank
  (tensor-parallel partial sums), an all-gather, a reduce-scatter, or a pipeline ``send``;
- ``dispatch`` / ``combine``: an all-to-all moving ``act_out_bytes`` / ``act_in_bytes`` in total,
  the tokens of each rank spread evenly over all ranks (1/p stays local), unless ``prepare``
  gave the op a routed byte matrix (expert placement, ``hwsim.mapping``).
An op runs over ranks ``op.device .. op.device + op.group - 1`` (default: all ranks).
Each operator runs as its messages over the fabric's channels, so operators in flight together
contend for links. Reduction arithmetic is not charged here (gamma = 0).

``protocols`` (optional) models NCCL's protocols the way NCCL's own tuner does (src/graph/tuning.cc):
protocol P costs a base latency once plus a per-step latency for each of the collective's steps
(ring all-reduce 2(p-1), all-gather and reduce-scatter p-1, a send or an all-to-all 1), and moves
payload at ``efficiency`` x the link's rate (``all_reduce_efficiency`` on an all-reduce, if given;
at most ``max_rate``). Per collective operator the fabric takes the protocol with the least time
for the bytes the busiest rank sends, as NCCL's tuner picks. Point-to-point operators (``send``,
``all_to_all``: NCCL's grouped send/recv) bypass NCCL's tuner: with ``p2p_ll_threshold`` set they
take ``ll`` when their largest message is at most that many bytes and ``simple`` above, NCCL's
p2p rule (src/enqueue.cc, NCCL_P2P_LL_THRESHOLD); without it they are picked like collectives.
The messages then carry their payload inflated by rate / protocol rate over links whose latency
is the protocols' (the link's own ``latency`` is not added on top), after the protocol's
latencies. Without ``protocols``, messages pay the link's latency per hop.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal, Optional, Union

import numpy as np
from pydantic import NonNegativeFloat, model_validator

from hwsim.components.base import Component, Execution, Resource, register
from hwsim.config.counts import Devices
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteCount, Duration

from . import collectives, network
from .link import LinkSpec
from .presets import link_preset


class Protocol(Strict):
    """One NCCL protocol: its latencies and its payload rate relative to the link's."""

    base: Duration                         # once per collective (s)
    step: Duration                         # per algorithm step (s)
    efficiency: NonNegativeFloat = 1.0     # payload rate / the link's rate
    all_reduce_efficiency: Optional[NonNegativeFloat] = None   # on an all-reduce, if not `efficiency`
    max_rate: Optional[Bandwidth] = None   # payload bytes/s at most

    def rate(self, link_rate: float, collective: str) -> float:
        """Payload bytes/s of this protocol for `collective` over a link of `link_rate`."""
        factor = self.all_reduce_efficiency if collective == "all_reduce" and self.all_reduce_efficiency is not None \
            else self.efficiency
        return min(factor * link_rate, self.max_rate or math.inf)


P2P = ("send", "all_to_all")               # NCCL runs these as (grouped) send/recv, outside its tuner


class Protocols(Strict):
    source: str
    choices: dict[str, Protocol]           # name -> protocol; the fastest is taken per operator
    p2p_ll_threshold: Optional[ByteCount] = None   # sends: `ll` up to this many bytes, `simple` above

    @model_validator(mode="after")
    def _p2p_names(self):
        if self.p2p_ll_threshold is not None and not {"ll", "simple"} <= set(self.choices):
            raise ValueError("p2p_ll_threshold needs protocols named 'll' and 'simple' among the choices")
        return self

    def pick(self, collective: str, steps: int, busiest_bytes: int, largest_message: int, link_rate: float) -> str:
        """NCCL's p2p rule for sends (with `p2p_ll_threshold`), else the protocol with the least
        base + steps x step + busiest rank's bytes / rate (NCCL's tuner's choice)."""
        if collective in P2P and self.p2p_ll_threshold is not None:
            return "ll" if largest_message <= self.p2p_ll_threshold else "simple"
        times = {name: p.base + steps * p.step + busiest_bytes / p.rate(link_rate, collective)
                 for name, p in self.choices.items() if p.rate(link_rate, collective) > 0}
        return min(times, key=times.get)


class LinkFabricParams(Strict):
    source: str
    topology: Literal["switch", "ring", "fully_connected", "hierarchical"]
    link: Union[str, LinkSpec]                     # preset name or inline; intra-node if hierarchical
    ranks: Optional[Devices] = None
    nodes: Optional[Devices] = None                  # hierarchical only
    ranks_per_node: Optional[Devices] = None
    inter_link: Union[str, LinkSpec, None] = None  # hierarchical only: the rank NICs
    all_reduce: Literal["ring", "tree", "halving_doubling", "star"] = "ring"
    all_to_all: Literal["direct", "pairwise"] = "direct"
    protocols: Optional[Protocols] = None          # NCCL's protocols (see the module docstring)

    @model_validator(mode="after")
    def _shape(self):
        hierarchical = self.topology == "hierarchical"
        if hierarchical and (self.nodes is None or self.ranks_per_node is None or self.inter_link is None):
            raise ValueError("a hierarchical fabric needs nodes, ranks_per_node and inter_link")
        if hierarchical and self.protocols is not None:
            raise ValueError("protocols are NCCL's within one node (NVLink latencies); a hierarchical fabric "
                             "does not take them")
        if not hierarchical and (self.ranks is None or self.nodes or self.ranks_per_node or self.inter_link):
            raise ValueError(f"a {self.topology} fabric takes ranks (and no nodes/ranks_per_node/inter_link)")
        for link in (self.link, self.inter_link):
            if isinstance(link, str):
                try:
                    link_preset(link)
                except KeyError as exc:            # unknown name: report it with the suggestion
                    raise ValueError(exc.args[0]) from None
        return self


def _collective(op) -> str:
    """The collective an operator runs: its own, or its kind's default."""
    return op.collective or ("all_reduce" if op.kind == "collective" else "all_to_all")


def _spec(link: Union[str, LinkSpec]) -> LinkSpec:
    return link_preset(link) if isinstance(link, str) else link


@register
class LinkFabric(Component):
    type_name = "link_fabric"
    Params = LinkFabricParams
    stats = {"bytes": "payload bytes of all messages (B)", "messages": "point-to-point messages",
             "busiest_link_s": "busy time of the most used channel (s)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        link = _spec(params.link)
        if params.protocols is not None:       # the protocols' latencies replace the link's
            link = link.model_copy(update={"latency": 0.0})
        self.link_rate = link.rate
        if params.topology == "hierarchical":
            self.net = network.hierarchical(sim, params.nodes, params.ranks_per_node, link, _spec(params.inter_link))
        else:
            builder = {"switch": network.switch, "ring": network.ring, "fully_connected": network.fully_connected}
            self.net = builder[params.topology](sim, params.ranks, link)
        self._bytes = 0
        self._messages = 0
        self._traffic: dict[int, np.ndarray] = {}

    def prepare(self, traffic: dict[int, np.ndarray]) -> None:
        """Routed byte matrices ``[group, group]`` of dispatch/combine operators, by op id (the
        expert placement's, from ``hwsim.mapping``); operators without one spread evenly."""
        self._traffic = traffic

    def traffic_matrix(self, op) -> np.ndarray:
        """Bytes from rank i to rank j (of the op's group) for a dispatch/combine."""
        if op.id in self._traffic:
            return self._traffic[op.id]
        total = op.act_out_bytes if op.kind == "dispatch" else op.act_in_bytes
        p = self._group(op)
        per_pair = int(round(total / (p * p)))
        matrix = np.full((p, p), per_pair, dtype=np.int64)
        np.fill_diagonal(matrix, 0)
        return matrix

    def _group(self, op) -> int:
        p = op.group or self.net.ranks
        if max(op.device, 0) + p > self.net.ranks:
            raise ValueError(f"{op.name}: ranks {max(op.device, 0)}..{max(op.device, 0) + p - 1} exceed "
                             f"the {self.net.ranks} ranks of fabric '{self.name}'")
        return p

    def schedule(self, op) -> list[collectives.Message] | collectives.Batch:
        """The operator's messages over ranks ``device .. device + group - 1`` (default: all); a
        ``direct`` all-to-all as one ``Batch`` (its messages have no dependencies).

        ``collective`` ops default to an all-reduce of ``act_in_bytes``; all_gather moves
        ``act_out_bytes`` (the gathered output), reduce_scatter ``act_in_bytes``, and ``send`` moves
        ``act_out_bytes`` from the group's first rank to its last (a pipeline hand-off)."""
        if op.kind not in ("collective", "dispatch", "combine"):
            raise ValueError(f"component '{self.name}' ({self.type_name}) times collective, dispatch and "
                             f"combine operators, not '{op.kind}' ({op.name}); map that class elsewhere")
        p, first = self._group(op), max(op.device, 0)
        kind = _collective(op)
        if kind == "all_to_all" and self.params.all_to_all == "direct":
            batch = collectives.direct_all_to_all(self.traffic_matrix(op))
            return batch._replace(src=batch.src + first, dst=batch.dst + first)
        if kind == "all_reduce" and self.params.topology == "hierarchical" and p == self.net.ranks:
            return collectives.hierarchical_all_reduce(self.params.nodes, self.params.ranks_per_node,
                                                       int(op.act_in_bytes))
        build = {"all_reduce": lambda: collectives.all_reduce(p, int(op.act_in_bytes), self.params.all_reduce),
                 "all_gather": lambda: collectives.all_gather(p, int(op.act_out_bytes)),
                 "reduce_scatter": lambda: collectives.reduce_scatter(p, int(op.act_in_bytes)),
                 "all_to_all": lambda: collectives.all_to_all(self.traffic_matrix(op), self.params.all_to_all),
                 "send": lambda: [collectives.Message(0, p - 1, int(op.act_out_bytes))]}
        if kind not in build:
            raise ValueError(f"{op.name}: unknown collective {kind!r}; known: {', '.join(build)}")
        return [replace(m, src=m.src + first, dst=m.dst + first) for m in build[kind]()] if first else build[kind]()

    def steps(self, op) -> int:
        """Algorithm steps of the operator (NCCL's count for ring collectives)."""
        p = self._group(op)
        return {"all_reduce": 2 * (p - 1), "all_gather": p - 1, "reduce_scatter": p - 1}.get(_collective(op), 1)

    def with_protocol(self, op, messages):
        """(start delay in ps, messages as the fastest protocol sends them)."""
        src, nbytes = collectives.sources_and_bytes(messages)
        sent = np.zeros(self.net.ranks, dtype=np.int64)
        np.add.at(sent, src, nbytes)
        kind = _collective(op)
        name = self.params.protocols.pick(kind, self.steps(op), int(sent.max()), int(nbytes.max(initial=0)),
                                          self.link_rate)
        protocol = self.params.protocols.choices[name]
        inflate = self.link_rate / protocol.rate(self.link_rate, kind)
        delay_ps = round((protocol.base + self.steps(op) * protocol.step) * 1e12)
        return delay_ps, collectives.inflated(messages, inflate)

    def submit(self, op, done):
        messages = self.schedule(op)
        sizes = collectives.sources_and_bytes(messages)[1]
        self._bytes += int(sizes.sum())
        self._messages += len(sizes)
        start_ps = self.sim.now
        delay_ps = 0
        if self.params.protocols is not None:
            delay_ps, messages = self.with_protocol(op, messages)

        def finished(run):
            done(op, Execution(start_ps, run.end_ps, f"{self.name}.links"))

        collectives.start(self.net, messages, start_ps + delay_ps, finished)

    def _busiest(self):
        return max(self.net.channels, key=lambda c: c.bytes_sent / c.spec.rate)

    def resources(self):
        channel = self._busiest()
        bandwidth = channel.spec.rate
        return [Resource(f"{self.name}.links", "B/s", bandwidth, channel.bytes_sent,
                         channel.bytes_sent / bandwidth)]

    def statistics(self):
        return {"bytes": float(self._bytes), "messages": float(self._messages),
                "busiest_link_s": self._busiest().busy_ps * 1e-12}
