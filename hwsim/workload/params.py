"""Parameter counts computed from a model's shape: the total, what one token touches, and where they sit.

Counting rules (one per weight tensor of the HF/reference implementations):
- embedding: token table vocab x hidden, plus the max_position x hidden table when positions are learned;
- attention per layer: Q, K, V and output projections (MHA/GQA/MQA), or for MLA the Q path (direct,
  or down-projection + norm + up-projection when q_lora_rank is set), the joint KV down-projection
  hidden -> kv_lora_rank + rope dim, its norm, the K/V up-projection and the output projection;
  `attention.bias` adds a bias vector to every one of those projections;
- norms: two per layer plus the final norm; layernorm has weight and bias, rmsnorm a weight only;
- FFN: 3 matrices when gated (SwiGLU), else 2; `ffn.bias` adds biases, for experts too;
- MoE layers: routed experts, shared experts, router (hidden x routed experts, no bias);
- lm_head: vocab x hidden unless tied to the token table.

Tiny per-model extras are not counted (QK-norms of Qwen3/OLMoE, Qwen's shared-expert gate,
DeepSeek-V3's routing bias, OPT's two spare position rows); each is below 0.001% of the total.

Active convention: `active` is every weight except the routed experts a token is not routed to,
i.e. the total minus (routed_experts - top_k) experts per MoE layer. The embedding tables and the
LM head are counted in full, as Mistral (12.9B of 46.7B), Qwen (2.7B of 14.3B; 3.3B of 30.5B)
and OLMoE (1.3B of 6.9B) do in their published actives. DeepSeek publishes actives without the
input embedding table (37B of 671B, 2.4B of 15.7B); `active - embedding` reproduces those.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwsim.workload.model import ModelSpec


@dataclass(frozen=True)
class ParamCount:
    """Parameters of a model by place, in elements (not bytes)."""

    embedding: int              # token table (+ learned position table)
    attention: int              # all layers' attention projections (+ biases, + MLA's norms)
    norms: int                  # per-layer norms and the final norm
    ffn_dense: int              # dense FFN layers
    experts_routed: int         # every routed expert of every MoE layer
    experts_routed_active: int  # top_k routed experts per MoE layer
    experts_shared: int         # shared experts of every MoE layer
    router: int                 # MoE gates
    lm_head: int                # 0 when tied to the token table

    @property
    def total(self) -> int:
        return (self.embedding + self.attention + self.norms + self.ffn_dense + self.experts_routed
                + self.experts_shared + self.router + self.lm_head)

    @property
    def active(self) -> int:
        """Parameters one token touches (see the module docstring for the convention)."""
        return self.total - self.experts_routed + self.experts_routed_active


def linear(n_in: int, n_out: int, bias: bool) -> int:
    """Weights (and bias) of an n_in -> n_out projection."""
    return n_in * n_out + (n_out if bias else 0)


def norm(model: ModelSpec, width: int) -> int:
    return width * (2 if model.norm == "layernorm" else 1)


def attention_layer(model: ModelSpec) -> int:
    """Parameters of one layer's attention block."""
    a, hidden, bias = model.attention, model.hidden, model.attention.bias
    if a.kind == "mla":
        qk_dim = a.qk_nope_head_dim + a.qk_rope_head_dim
        if a.q_lora_rank:
            q = (linear(hidden, a.q_lora_rank, bias) + norm(model, a.q_lora_rank)
                 + linear(a.q_lora_rank, a.heads * qk_dim, bias))
        else:
            q = linear(hidden, a.heads * qk_dim, bias)
        kv = (linear(hidden, a.kv_lora_rank + a.qk_rope_head_dim, bias) + norm(model, a.kv_lora_rank)
              + linear(a.kv_lora_rank, a.heads * (a.qk_nope_head_dim + a.v_head_dim), bias))
        return q + kv + linear(a.heads * a.v_head_dim, hidden, bias)
    q_width, kv_width = a.heads * model.head_dim, a.n_kv_heads * model.head_dim
    return (linear(hidden, q_width, bias) + 2 * linear(hidden, kv_width, bias)
            + linear(q_width, hidden, bias))


def ffn(model: ModelSpec, width: int) -> int:
    """Parameters of one FFN (dense layer or one expert) of intermediate `width`."""
    inputs = 2 if model.ffn.gated else 1
    return inputs * linear(model.hidden, width, model.ffn.bias) + linear(width, model.hidden, model.ffn.bias)


def count_params(model: ModelSpec) -> ParamCount:
    """Count `model`'s parameters from its shape (exact under the rules in the module docstring)."""
    moe = model.moe
    moe_layers = sum(model.is_moe_layer(layer) for layer in range(model.layers))
    dense_layers = model.layers - moe_layers
    table = model.vocab * model.hidden
    positions = model.max_position * model.hidden if model.positional == "learned" else 0
    expert = ffn(model, moe.expert_intermediate) if moe else 0
    return ParamCount(
        embedding=table + positions,
        attention=model.layers * attention_layer(model),
        norms=(2 * model.layers + 1) * norm(model, model.hidden),
        ffn_dense=dense_layers * ffn(model, model.ffn.intermediate) if dense_layers else 0,
        experts_routed=moe_layers * moe.routed_experts * expert if moe else 0,
        experts_routed_active=moe_layers * moe.top_k * expert if moe else 0,
        experts_shared=moe_layers * moe.shared_experts * ffn(model, moe.shared_width) if moe else 0,
        router=moe_layers * model.hidden * moe.routed_experts if moe else 0,
        lm_head=0 if model.tied_embeddings else table,
    )
