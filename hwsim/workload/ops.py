"""Operator IR: one node of an inference step's DAG, with its work in FLOPs and bytes.

The trace generator emits these; mappers split them over hardware; components time them.
Byte fields are split by kind so a machine can place each kind in a different memory
(weights in flash, KV cache in LPDDR, activations on chip) and so rooflines can be
drawn per resource.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

# kind -> operator class, the key an architecture's `mapping:` uses to place operators
OP_CLASS = {
    "embedding": "memory",        # gather rows of the embedding table
    "matmul": "gemm",             # activations x weights (QKV, O, FFN, experts, router, LM head)
    "attn_score": "attention",    # Q x K^T against the KV cache
    "attn_context": "attention",  # scores x V against the KV cache
    "kv_write": "memory",         # append new K and V to the cache
    "kv_load": "memory",          # read earlier tokens' K and V ahead of attention (mapping.kv_prefetch)
    "host_load": "memory",        # copy a layer's spilled weights / K,V from a second memory (mapping.offload)
    "fused_layer": "gemm",        # a whole decoder layer as one streaming dataflow kernel (mapping.dataflow)
    "softmax": "vector",
    "norm": "vector",
    "activation": "vector",       # GELU / SiLU / ReLU, gated product
    "rope": "vector",
    "elementwise": "vector",      # residual adds, scaling
    "topk": "vector",             # MoE router selection
    "dispatch": "communication",  # MoE token scatter to experts
    "combine": "communication",   # MoE weighted gather back
    "collective": "communication",
}
KINDS = tuple(OP_CLASS)
COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send")
CLASSES = tuple(sorted(set(OP_CLASS.values())))


@dataclass(frozen=True, slots=True)
class Op:
    """One operator. For matmuls the work is `count` independent (m x k) @ (k x n) products.

    flops counts a multiply-add as 2. Bytes are what the operator must move if nothing is
    reused across operators: weights read, activations in and out, KV cache read and written.
    """

    id: int
    name: str
    kind: str
    layer: int                   # -1 outside the transformer blocks (embedding, LM head)
    flops: float
    compute_dtype: str
    weight_bytes: float = 0.0
    act_in_bytes: float = 0.0
    act_out_bytes: float = 0.0
    kv_read_bytes: float = 0.0
    kv_write_bytes: float = 0.0
    m: int = 0
    n: int = 0
    k: int = 0
    count: int = 1
    expert: int = -1             # MoE expert id (routed), -2 shared expert, -1 not an expert op
    device: int = -1             # rank that runs it (a collective: its group's first rank); -1 unplaced
    collective: str = ""         # communication ops: one of COLLECTIVES; "" for the kind's default
    group: int = 0               # communication ops: ranks taking part (device .. device + group - 1)
    seqs: tuple[tuple[int, int], ...] = ()   # attention ops: (queries, keys) of each sequence, sorted; () unknown
    deps: tuple[int, ...] = field(default=())
    stages: tuple["Op", ...] = field(default=())   # a fused kernel's operators, in pipeline order (mapping.dataflow)

    @property
    def op_class(self) -> str:
        return OP_CLASS[self.kind]

    @property
    def total_bytes(self) -> float:
        return (self.weight_bytes + self.act_in_bytes + self.act_out_bytes
                + self.kv_read_bytes + self.kv_write_bytes)

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved (arithmetic intensity)."""
        return self.flops / self.total_bytes if self.total_bytes else float("inf")


_FIELDS = tuple(f.name for f in fields(Op))


def derive(op: Op, **changes) -> Op:
    """``dataclasses.replace(op, **changes)`` without its per-call field bookkeeping: the writer of a
    many-device trace copies an operator a million times."""
    op = Op(*[changes.pop(name) if name in changes else getattr(op, name) for name in _FIELDS])
    if changes:
        raise TypeError(f"Op has no field(s) {', '.join(changes)}")
    return op
