"""`type: expert_offload`: a roofline processor whose routed experts live in a backing store
(host DRAM over PCIe, or flash) and are cached in its fast memory, HybriMoE/ExpertFlow-style.

Everything but the routed experts (attention, norms, router, shared experts, embeddings) is
resident. An expert is touched when its first matrix (``expertE.up``) is submitted: every matrix of
the expert that is not resident is fetched over the store (one transfer per matrix, in issue
order, one at a time), and the expert's matmuls wait until their weights have arrived: a miss
stalls the matmul by ``arrival - start`` (a cold miss on an idle machine: exactly the transfer
time). The fetched matrices enter the cache (``ExpertCache``: LRU or score-based) unless nothing
but the current MoE layer and unused prefetches is left to evict, in which case they are streamed
(a prefetch that finds no room is skipped).

Prefetch: at the first ``.down`` of MoE layer l (every ``.up`` of the layer, hence its demand
fetches, has been issued by then) the predictor names experts of the next MoE layer, whose
transfers queue behind the demand fetches (``TransferQueue``: demand first) and overlap layer l's
compute; prefetches for layer l that have not started when its routing is known are cancelled:

- ``previous``: the experts the previous decode step used at that layer (temporal reuse);
- ``affinity``: for each expert of layer l, its ``width`` most frequent successors so far
  (inter-layer affinity learned online from this run's own routing; with a batch, a step's
  layer sets are unions over its tokens).

A prefetched expert that is used before it arrives stalls only for the rest of its transfer; one
that is never used cost store bandwidth and cache space (statistic ``wasted_prefetches``).
Weights moving into fast memory do not count against its bandwidth (an assumption).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Literal

from pydantic import confloat

from hwsim.components.analytic.device import AnalyticDevice, AnalyticDeviceParams
from hwsim.components.base import Memory, ps, register
from hwsim.components.expert_cache.backing import Backing
from hwsim.components.expert_cache.cache import ExpertCache
from hwsim.components.expert_cache.transfers import TransferQueue
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import ByteSize


class CacheParams(Strict):
    capacity: ByteSize                                 # fast memory set aside for experts (B)
    policy: Literal["lru", "score"] = "lru"
    decay: confloat(gt=0, le=1) = 1.0                  # score policy: weight kept per later access


class PrefetchParams(Strict):
    predictor: Literal["none", "previous", "affinity"] = "none"
    width: Count = 1                                   # affinity: successors prefetched per expert


class ExpertOffloadParams(AnalyticDeviceParams):
    assumptions: str = ""
    cache: CacheParams
    backing: Backing
    prefetch: PrefetchParams = PrefetchParams()


def _part(op) -> str:
    return op.name.rsplit(".", 1)[-1]


@register
class ExpertOffloadDevice(AnalyticDevice):
    """Roofline processor with routed experts offloaded to host memory or flash behind an expert cache."""

    type_name = "expert_offload"
    Params = ExpertOffloadParams
    resource_units = {**AnalyticDevice.resource_units, "backing": "B/s"}
    stats = {**AnalyticDevice.stats, "expert_accesses": "routed-expert activations", "expert_hits":
             "activations whose weights were resident or being prefetched", "expert_hit_rate": "hits / accesses",
             "fetched_bytes": "bytes fetched on demand (B)", "prefetched_bytes": "bytes prefetched (B)",
             "prefetches": "expert matrices prefetched", "wasted_prefetches": "prefetched but not used (yet)",
             "cancelled_prefetches": "prefetches dropped before they started (their layer's routing was known)",
             "stall_s": "expert matmul time spent waiting for weights (s)", "backing_busy_s": "store busy (s)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self.cache = ExpertCache(params.cache.capacity, params.cache.policy, params.cache.decay)
        self._store = TransferQueue(params.backing.transfer_ps)   # keys (layer, expert, part)
        self._alive_until_ps = 0
        self._streamed: set[tuple] = set()             # fetched but not cached (this layer only)
        self._sizes: dict[str, float] = {}             # matrix part ('up', 'down') -> bytes, learned
        self._step: dict[int, set[int]] = defaultdict(set)      # this step: MoE layer -> experts
        self._previous: dict[int, set[int]] = {}                # the previous step's
        self._successors: dict[tuple, Counter] = defaultdict(Counter)   # (layer, e) -> (next layer, e') counts
        self._layer = -1                                # current MoE layer
        self._prefetched_for = -1                       # layer whose prefetch was issued
        self._pending: set[tuple] = set()               # prefetched, not used yet
        self._tally = Counter()

    # ---- timing ---------------------------------------------------------------------------------

    def time(self, op):
        base = super().time(op)
        if op.kind != "matmul" or op.expert < 0:
            return base
        self._sizes.setdefault(_part(op), op.weight_bytes)
        if _part(op) == "up":
            self._access(op.layer, op.expert)
        elif self._prefetched_for != op.layer:
            self._prefetch(op.layer)
        key = (op.layer, op.expert, _part(op))
        if key not in self.cache and key not in self._streamed:       # a part first seen now
            self._fetch(key, op.weight_bytes, "fetched_bytes")
        begin = max(self.sim.now, self._free_at_ps)
        stall = max(0, self._store.arrival[key] - begin)
        self._tally["stall_ps"] += stall
        duration = stall + ps(base.duration_s)
        return replace(base, duration_s=duration * 1e-12, duration_ps=duration,
                       bound="backing" if stall else base.bound)

    def _fetch(self, key, nbytes: float, counter: str) -> bool:
        """Move ``key``'s weights in after what the store already has queued; False if a prefetch
        finds no room (skipped)."""
        cached = self.cache.admit(key, nbytes, self._live)
        if not cached and counter == "prefetched_bytes":
            return False
        if not cached:
            self._streamed.add(key)
        self._tally["backing_ps"] += self._store.request(key, nbytes, self.sim.now, counter == "fetched_bytes")
        self._keep_alive()
        self._used["backing"] += nbytes
        self._tally[counter] += nbytes
        return True

    def _keep_alive(self) -> None:
        """The run is not over while the store is still moving weights."""
        if self._store.free_ps > self._alive_until_ps:
            self._alive_until_ps = self._store.free_ps
            self.sim.schedule_at(self._alive_until_ps, _idle)

    def _live(self, key) -> bool:
        """Entries of the current MoE layer and prefetches not used yet are not evicted."""
        return key[0] == self._layer or key in self._pending

    # ---- accesses, steps and prediction ---------------------------------------------------------

    def _access(self, layer: int, expert: int) -> None:
        """One activation of ``expert`` at MoE ``layer``: hit or fetch every known part."""
        if layer < self._layer:                        # a new decode step begins
            self._previous, self._step = dict(self._step), defaultdict(set)
            self._prefetched_for = -1
        if layer != self._layer:
            self._layer, self._streamed = layer, set()
        before = max((l for l in self._step if l < layer), default=None)
        for source in self._step.get(before, ()):
            self._successors[(before, source)][(layer, expert)] += 1
        self._step[layer].add(expert)
        keys = [(layer, expert, part) for part in self._sizes]
        hits = [self.cache.touch(key) for key in keys]
        self._tally["expert_accesses"] += 1
        self._tally["expert_hits"] += all(hits)
        for key, hit in zip(keys, hits):
            if key in self._pending:
                self._pending.discard(key)
                self._tally["useful_prefetches"] += 1
                self._store.promote(key, self.sim.now)
                self._keep_alive()
            if not hit:
                self._fetch(key, self._sizes[key[2]], "fetched_bytes")

    def _next_layer(self, layer: int):
        later = [l for l in (*self._step, *self._previous) if l > layer]
        return min(later, default=None)

    def _prefetch(self, layer: int) -> None:
        """Cancel the waiting prefetches up to ``layer`` (its routing is known now) and issue the
        predictor's experts for the MoE layer after it."""
        self._prefetched_for = layer
        for key, nbytes, duration_ps in self._store.cancel(lambda key: key[0] <= layer, self.sim.now):
            self.cache.discard(key)
            self._pending.discard(key)
            self._used["backing"] -= nbytes
            self._tally["prefetched_bytes"] -= nbytes
            self._tally["backing_ps"] -= duration_ps
            self._tally["prefetches"] -= 1
            self._tally["cancelled_prefetches"] += 1
        predictor = self.params.prefetch.predictor
        if predictor == "previous":
            target = self._next_layer(layer)
            predicted = [(target, e) for e in sorted(self._previous.get(target, ()))]
        elif predictor == "affinity":
            width = self.params.prefetch.width
            predicted = list(dict.fromkeys(key for e in sorted(self._step[layer]) for key, _ in
                                           self._successors[(layer, e)].most_common(width)))
        else:
            predicted = []
        for target, expert in predicted:
            for part, nbytes in self._sizes.items():
                key = (target, expert, part)
                if key not in self.cache and self._fetch(key, nbytes, "prefetched_bytes"):
                    self._pending.add(key)
                    self._tally["prefetches"] += 1

    # ---- report ---------------------------------------------------------------------------------

    def capacity(self, resource):
        return self.params.backing.peak_bandwidth if resource == "backing" else super().capacity(resource)

    def memories(self):
        """Device memory for dense weights, KV cache and activations, less the expert cache it sets
        aside; the routed experts live in the backing store (host DRAM or flash, whose capacity the
        machine does not give: listed, not checked)."""
        p = self.params
        return [Memory(f"{self.name}.memory", p.memory.capacity, frozenset({"weights", "kv", "activations"}),
                       reserved=p.cache.capacity, reserved_for="expert cache"),
                Memory(f"{self.name}.backing", None, frozenset({"experts"}))]

    def statistics(self):
        c = self._tally
        return {**super().statistics(), "expert_accesses": c["expert_accesses"], "expert_hits": c["expert_hits"],
                "expert_hit_rate": c["expert_hits"] / c["expert_accesses"] if c["expert_accesses"] else 0.0,
                "fetched_bytes": c["fetched_bytes"], "prefetched_bytes": c["prefetched_bytes"],
                "prefetches": c["prefetches"], "wasted_prefetches": c["prefetches"] - c["useful_prefetches"],
                "cancelled_prefetches": c["cancelled_prefetches"],
                "stall_s": c["stall_ps"] * 1e-12, "backing_busy_s": c["backing_ps"] * 1e-12}


def _idle() -> None:
    """A no-op event at the end of a transfer."""
