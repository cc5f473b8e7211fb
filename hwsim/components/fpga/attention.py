"""TeLLMe's attention units (HLS release: reverse_attention.hpp, decode_attention.hpp), in cycles.

The units hold one sequence's queries on chip and stream its K and V from DRAM, `lanes` fp16 values
(one AXI word) a cycle; a hidden vector is B = heads x head_dim / lanes blocks.

Prefill (reverse_attention.hpp, fuse_qkv_pe_bundle_block_stream), T tokens from an empty cache:
queries in groups of P = `parallel`; group b meets the keys b P .. T-1 (the reversed causal order),
so pairs = sum_b (T - b P). Per pair: VEC_COMPUTE, B pipelined iterations, each P dot products of
`lanes` products summed into P partials: P (lanes + 1) half adds on `adders` adders (the HLS
`allocation hadd limit`), II = ceil(P (lanes + 1) / adders); VEC_REDUCE, one cycle a head; the
online softmax with the V update, P x heads pipelined iterations. Per group: OUTPUT, P x B cycles.
    score   = pairs x B x II           softmax = pairs x heads
    context = pairs x P x heads + groups x P x B

Decode (decode_attention.hpp), one query against T keys (the cache and itself): the score pass,
B + heads cycles a key (QK blocks, then the online softmax), must end before the output pass can
use the softmax sums; the output pass, heads + B cycles a key, then B to write.
    score = T (B + heads)              softmax = 0 (inside the score pass)
    context = T (heads + B) + B

Pipeline fill and drain are not counted (no synthesis report: 0 cycles, as the TLMM engine's).
A batch runs its sequences one after another. Scores and probabilities stay on chip: an op moves its
K or V, the queries (score) and the outputs (context) through DRAM, and takes max(cycles / clock,
those bytes / bandwidth).
"""
from __future__ import annotations

import math
from typing import Optional

from hwsim.components.base import OpTiming, SerialComponent, ps, register
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, Frequency

KINDS = ("attn_score", "softmax", "attn_context")


class StreamingAttentionParams(Strict):
    source: str
    assumptions: Optional[str] = None
    clock: Frequency
    heads: Count                     # query heads the unit is built for (NUM_ATT_HEADS)
    lanes: Count                     # fp16 values per block, one AXI word (HIDDEN_BLOCK_SIZE)
    parallel: Count                  # queries per prefill group (ATTN_MATMUL_PARALLEL)
    adders: Count                    # half-precision adders of the prefill dot products (hadd limit)
    memory_bandwidth: Bandwidth      # DRAM -> unit, bytes/s
    memory_of: Optional[str] = None  # component whose memory holds the KV cache


def prefill_cycles(tokens: int, blocks: int, heads: int, lanes: int, parallel: int, adders: int) -> dict:
    """Cycles of one sequence's prefill attention, per op kind (module docstring)."""
    groups = math.ceil(tokens / parallel)
    pairs = groups * tokens - parallel * groups * (groups - 1) // 2
    ii = math.ceil(parallel * (lanes + 1) / adders)
    return {"attn_score": pairs * blocks * ii, "softmax": pairs * heads,
            "attn_context": pairs * parallel * heads + groups * parallel * blocks}


def decode_cycles(keys: int, blocks: int, heads: int) -> dict:
    """Cycles of one query against `keys` keys, per op kind (module docstring)."""
    return {"attn_score": keys * (blocks + heads), "softmax": 0, "attn_context": keys * (heads + blocks) + blocks}


@register
class StreamingAttention(SerialComponent):
    type_name = "streaming_attention"
    Params = StreamingAttentionParams
    resource_units = {"compute": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time running ops (s)", "cycles": "attention unit cycles"}

    def memory_owner(self):
        return self.params.memory_of

    def cycles(self, op) -> int:
        """Cycles of an attention op (attn_score, softmax or attn_context) on this unit."""
        p = self.params
        if op.kind not in KINDS:
            raise ValueError(f"{self.name} runs attention ops ({', '.join(KINDS)}), got '{op.kind}' op '{op.name}'")
        if op.count % p.heads:
            raise ValueError(f"{self.name}: op '{op.name}' has {op.count} heads x sequences, not a multiple "
                             f"of the unit's {p.heads} heads")
        queries, keys = op.m, (op.k if op.kind == "attn_context" else op.n)
        head_dim = op.n if op.kind == "attn_context" else op.k
        blocks = math.ceil(p.heads * head_dim / p.lanes) if op.kind != "softmax" else 0
        if queries == 1:
            per_sequence = decode_cycles(keys, blocks, p.heads)[op.kind]
        elif queries == keys:
            per_sequence = prefill_cycles(queries, blocks, p.heads, p.lanes, p.parallel, p.adders)[op.kind]
        else:
            raise ValueError(f"{self.name}: op '{op.name}' has {queries} queries over {keys} keys; the unit "
                             f"runs a prefill from an empty cache or one decoded token")
        return per_sequence * (op.count // p.heads)

    @staticmethod
    def dram_bytes(op) -> float:
        """Bytes an attention op moves through DRAM on the fused unit (scores stay on chip)."""
        return op.kv_read_bytes + {"attn_score": op.act_in_bytes, "attn_context": op.act_out_bytes}.get(op.kind, 0.0)

    def time(self, op):
        cycles = self.cycles(op)
        nbytes = self.dram_bytes(op)
        compute_s = cycles / self.params.clock
        memory_s = nbytes / self.params.memory_bandwidth
        duration_s = max(compute_s, memory_s)
        return OpTiming(duration_s, "compute" if compute_s >= memory_s else "memory",
                        used={"compute": op.flops, "memory": nbytes}, floor_s={"compute": compute_s},
                        duration_ps=ps(duration_s), counts={"cycles": cycles})

    def capacity(self, resource):
        """Compute has no single peak (the op's FLOPs over its cycles; 1 before any op); memory: the bandwidth."""
        return 1.0 if resource == "compute" else self.params.memory_bandwidth

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "cycles": self._counts["cycles"]}
