"""Where every byte of a step lives: weights, routed experts, KV cache and activations per memory.

Bytes follow the machine's mapping: an operator's bytes go to the memory its component keeps that
kind of bytes in (``Component.memory_for``), so a component that streams weights from a store
(flash_offload, expert_offload's backing store) names that store instead of its working memory.

- weights: each parameter tensor once per memory (operators are deduplicated by layer, name and
  expert, so the two micro-batches of ``overlap: token_split`` do not count weights twice), in the
  run's weight format, as the device trace splits them (TP: matrices / tp, norms, embedding and
  router whole; PP: each stage its layers). With the model known, the embedding is the whole table
  (the trace gathers only the step's rows), a tied LM head shares it, and every routed expert is
  resident, not only the routed ones: all of them on every device without expert parallelism
  (matrices / tp), each device's placed experts (redundant copies included) under EP.
- KV cache: where attention runs, for the step's sequences x keys (prefill: the prompt; decode:
  context + 1) x per-token K/V (MHA/GQA: 2 kv_heads x head_dim, split over tp; MLA: the latent
  kv_lora_rank + rope dim, shared by all heads, whole on every tp rank) in the KV format, per layer.
- activations: the largest input + output of one operator on that memory (a lower bound of the
  live set, which holds at least one operator's operands). A component without a memory for them
  (a fabric, flash dies computing in place) keeps them in its own buffers: not listed.

A component whose ``memory_owner()`` names another (``memory_of:``) keeps the bytes its own memories
do not hold in that one's, plus its ``cached_share()`` of the weights its own memories hold (a neuron
cache in DRAM over weights in flash). Weights and KV cache on a component that declares no memory for them are listed under
``<component> (no memory modeled)``, unchecked.

A replayed trace has no model: weights are what its operators read (routed experts only, the
embedding rows gathered: a lower bound) and the KV cache per layer is the larger of what attention
reads and what kv_write writes (exact for MHA/GQA; MLA's latent, read twice, is counted twice).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Optional

from hwsim.components.base import Component, Memory
from hwsim.workload.model import ModelSpec
from hwsim.workload.params import ffn
from hwsim.workload.precision import nbytes
from hwsim.workload.trace import Trace


@dataclass
class Usage:
    """Bytes of one memory by kind, against its capacity (None: no source gives it)."""

    memory: str
    capacity: Optional[float]
    weights: float = 0.0
    experts: float = 0.0
    kv: float = 0.0
    activations: float = 0.0
    reserved: float = 0.0
    reserved_for: str = ""

    @property
    def needs(self) -> float:
        return self.weights + self.experts + self.kv + self.activations + self.reserved

    @property
    def fits(self) -> bool:
        return self.capacity is None or self.needs <= self.capacity

    @property
    def load(self) -> float:
        """needs / capacity (0 when the capacity is not modeled)."""
        return self.needs / self.capacity if self.capacity else 0.0


@dataclass
class Footprint:
    """The step's bytes in every memory of the machine, with what the fit check and its hints need."""

    machine: str
    model: str
    batch: int
    keys: int                       # tokens per sequence the KV cache holds
    weight_format: str
    usages: list[Usage] = field(default_factory=list)
    from_model: bool = True         # False: accounted from a replayed trace alone (see module docstring)

    @property
    def worst(self) -> Optional[Usage]:
        """The memory that overflows most (highest needs / capacity), None if none has a capacity."""
        checked = [u for u in self.usages if u.capacity]
        return max(checked, key=lambda u: u.load) if checked else None

    @property
    def fits(self) -> bool:
        return all(u.fits for u in self.usages)

    def to_dict(self) -> dict:
        return {"batch": self.batch, "kv_tokens_per_sequence": self.keys, "weight_format": self.weight_format,
                "from_model": self.from_model, "fits": self.fits,
                "memories": [{**asdict(u), "needs": u.needs, "fits": u.fits} for u in self.usages]}


def footprint(machine, components: dict[str, Component], trace: Trace, model: ModelSpec | None = None,
              placement=None) -> Footprint:
    """Bytes per memory of ``trace`` on ``machine`` (its built ``components``); ``model`` for the
    resident parameters and the KV cache (see the module docstring); ``placement``: the expert
    placement of an EP plan (``DeviceTrace.placement``)."""
    plan = machine.spec.parallelism
    tp = plan.tp if plan else 1
    usage: dict[str, Usage] = {}
    weights: dict[tuple, tuple[Usage, float]] = {}
    kv_read: dict[tuple, float] = defaultdict(float)
    kv_written: dict[tuple, float] = defaultdict(float)

    by_kind: dict[tuple[str, str], Optional[Memory]] = {}     # memories of components that place by kind

    def memory_of(kind: str, op) -> Optional[Memory]:
        """The memory keeping ``op``'s ``kind`` bytes: its component's, else its memory owner's.
        A component with its own memories and the base ``memory_for`` places bytes by kind alone, so
        its answer is kept (many-device steps ask millions of times)."""
        component = machine.placement(op)
        if (component, kind) in by_kind:
            return by_kind[component, kind]
        memory, owner = components[component].memory_for(kind, op), components[component].memory_owner()
        if owner is None and type(components[component]).memory_for is Component.memory_for:
            by_kind[component, kind] = memory
        if memory is not None or owner is None:
            return memory
        instance = owner if owner in components else f"{owner}[{max(op.device, 0)}]"
        if instance not in components:
            raise ValueError(f"{machine.name}: component '{component}' keeps its bytes in '{owner}' (memory_of), "
                             f"which the machine does not have")
        return components[instance].memory_for(kind, op)

    def at(kind: str, op) -> Usage:
        memory = memory_of(kind, op) or Memory(f"{machine.placement(op)} (no memory modeled)", None, frozenset())
        if memory.name not in usage:
            usage[memory.name] = Usage(memory.name, memory.capacity, reserved=memory.reserved,
                                       reserved_for=memory.reserved_for)
        return usage[memory.name]

    moe = model is not None and model.moe is not None
    expert_ops = {}                                      # (layer, device) -> a routed expert op there
    for op in trace.ops:
        if op.weight_bytes:
            if moe and op.expert >= 0:
                expert_ops.setdefault((op.layer, op.device), op)
            else:
                name, size = _resident(op, model, trace)
                where = at("weights", op)
                key = (where.memory, op.layer, name, op.expert)
                weights[key] = (where, max(size, weights.get(key, (where, 0.0))[1]))
        if (op.act_in_bytes or op.act_out_bytes) and memory_of("activations", op):
            where = at("activations", op)
            where.activations = max(where.activations, op.act_in_bytes + op.act_out_bytes)
        if model is not None and op.kind == "attn_score":
            at("kv", op).kv += _kv_bytes(model, op, trace, tp)
        elif model is None and (op.kv_read_bytes or op.kv_write_bytes):
            where = at("kv", op)
            kv_read[where.memory, op.layer, op.device] += op.kv_read_bytes
            kv_written[where.memory, op.layer, op.device] += op.kv_write_bytes
    for where, size in weights.values():
        where.weights += size
    for key in kv_read.keys() | kv_written.keys():
        usage[key[0]].kv += max(kv_read[key], kv_written[key])
    if moe:
        per_expert = nbytes(ffn(model, model.moe.expert_intermediate), trace.precision.weights)
        for (layer, device), op in _expert_homes(trace, expert_ops).items():
            moe_index = sum(model.is_moe_layer(l) for l in range(layer))
            count = (len(placement.experts_on(moe_index, device)) if placement is not None
                     else model.moe.routed_experts / tp)
            at("experts", op).experts += count * per_expert
    _add_caches(components, usage)
    step = _step(trace)
    return Footprint(machine.name, trace.model, trace.batch, step, trace.precision.weights,
                     sorted(usage.values(), key=lambda u: u.memory), from_model=model is not None)


def _add_caches(components: dict, usage: dict[str, Usage]) -> None:
    """Count each component's ``cached_share()`` of the weights in its own memories in its owner's
    first memory too (the copy a cache keeps there)."""
    for component in components.values():
        share, owner = component.cached_share(), component.memory_owner()
        if not share or owner not in components:
            continue
        home = components[owner].memories()[0]
        for memory in component.memories():
            if memory.name in usage:
                cached = usage.setdefault(home.name, Usage(home.name, home.capacity))
                cached.weights += share * usage[memory.name].weights
                cached.experts += share * usage[memory.name].experts


def _resident(op, model, trace) -> tuple[str, float]:
    """(tensor name, resident bytes) of a non-expert operator's weights: the whole embedding table
    (and a tied LM head sharing it) when the model is known, else the bytes the operator reads."""
    if model is None or op.kind != "embedding" and not (op.name == "lm_head" and model.tied_embeddings):
        return op.name, op.weight_bytes
    learned = model.max_position if model.positional == "learned" else 0
    return "embedding", nbytes((model.vocab + learned) * model.hidden, trace.precision.weights)


def _kv_bytes(model: ModelSpec, op, trace: Trace, tp: int) -> float:
    """KV cache of one layer's attention operator: the keys it reads from the cache (summed over
    its sequences, which a kernel form may run at unequal contexts) x per-token K/V bytes; its K
    reads are half of that (MHA/GQA) or all of it (MLA's latent). An operator on keys computed in
    the step (MLA whole prompts) holds its sequences x keys."""
    att = model.attention
    if op.kv_read_bytes:
        return op.kv_read_bytes * (1 if att.kind == "mla" else 2)
    sequences = op.count // att.heads
    if att.kind == "mla":
        per_token = att.kv_lora_rank + att.qk_rope_head_dim
    else:
        per_token = 2 * att.n_kv_heads * model.head_dim / tp
    return nbytes(sequences * op.n * per_token, trace.precision.kv_cache)


def _expert_homes(trace: Trace, expert_ops: dict) -> dict:
    """(MoE layer, device) -> an expert op placed there, for every device that runs that layer's
    work (devices may hold experts no token of this step was routed to)."""
    devices = defaultdict(set)
    for op in trace.ops:
        if op.layer >= 0 and op.kind == "matmul":
            devices[op.layer].add(op.device)
    template = {layer: op for (layer, _), op in expert_ops.items()}
    return {(layer, device): expert_ops.get((layer, device), replace(template[layer], device=device))
            for layer in template for device in sorted(devices[layer])}


def _step(trace: Trace) -> int:
    """Tokens per sequence in the KV cache: the prompt (prefill) or context + 1 (decode)."""
    return trace.context + (trace.phase == "decode")
