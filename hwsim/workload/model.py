"""Model shapes (dense and MoE) as strict schemas, loaded from workloads/models/*.yaml."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from hwsim.config.loader import find_file, load_document
from hwsim.config.schema import Strict, parse
from hwsim.workload import precision

MODELS_DIR = Path(__file__).resolve().parents[2] / "workloads" / "models"


class Attention(Strict):
    """Self-attention: MHA (kv_heads = heads), GQA, MQA (kv_heads = 1) or DeepSeek MLA."""

    kind: Literal["mha", "gqa", "mqa", "mla"]
    heads: PositiveInt
    kv_heads: Optional[PositiveInt] = None     # default: heads (mha), 1 (mqa); required for gqa
    head_dim: Optional[PositiveInt] = None     # default: hidden / heads
    bias: bool = False                         # biases on Q, K, V and output projections
    # MLA only (DeepSeek-V2/V3 config.json names)
    q_lora_rank: Optional[PositiveInt] = None  # None: Q projected directly from hidden
    kv_lora_rank: Optional[PositiveInt] = None
    qk_nope_head_dim: Optional[PositiveInt] = None
    qk_rope_head_dim: Optional[PositiveInt] = None
    v_head_dim: Optional[PositiveInt] = None

    @model_validator(mode="after")
    def _consistent(self):
        mla_fields = ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
        if self.kind == "mla":
            missing = [f for f in mla_fields if getattr(self, f) is None]
            if missing:
                raise ValueError(f"mla attention needs {', '.join(missing)}")
        elif any(getattr(self, f) is not None for f in mla_fields + ("q_lora_rank",)):
            raise ValueError(f"lora/rope head fields only apply to kind: mla, not {self.kind}")
        if self.kind == "gqa" and self.kv_heads is None:
            raise ValueError("gqa attention needs kv_heads")
        if self.kind == "mqa" and self.kv_heads not in (None, 1):
            raise ValueError(f"mqa means kv_heads 1, got {self.kv_heads}")
        if self.kind == "mha" and self.kv_heads not in (None, self.heads):
            raise ValueError(f"mha means kv_heads == heads ({self.heads}), got {self.kv_heads}; use gqa")
        if self.kv_heads and self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        return self

    @property
    def n_kv_heads(self) -> int:
        if self.kind == "mqa":
            return 1
        return self.kv_heads or self.heads


class FFN(Strict):
    """Feed-forward block; `gated` means three matrices (SwiGLU/GeGLU), else up + down."""

    activation: Literal["relu", "gelu", "silu"]
    gated: bool
    intermediate: Optional[PositiveInt] = None  # dense FFN width; None when every layer is MoE
    bias: bool = False


class MoE(Strict):
    """Mixture of experts replacing the FFN in every layer except `dense_layers`."""

    routed_experts: int = Field(gt=0, le=4096)        # the trace has ops per expert (DeepSeek-V3: 256)
    top_k: PositiveInt
    expert_intermediate: PositiveInt
    shared_experts: NonNegativeInt = 0
    shared_intermediate: Optional[PositiveInt] = None  # width of ONE shared expert (default: expert's)
    dense_layers: list[NonNegativeInt] = []            # layers that keep a dense FFN
    groups: PositiveInt = 1                             # expert groups (DeepSeek-V3 8, Pangu 8)
    topk_groups: Optional[PositiveInt] = None          # groups a token may use (DeepSeek-V3: 4)
    routing: Literal["topk", "group_limited", "one_per_group"] = "topk"
    score: Literal["softmax", "sigmoid"] = "softmax"

    @model_validator(mode="after")
    def _consistent(self):
        if self.top_k > self.routed_experts:
            raise ValueError(f"top_k ({self.top_k}) exceeds routed_experts ({self.routed_experts})")
        if self.routed_experts % self.groups:
            raise ValueError(f"routed_experts ({self.routed_experts}) must divide into {self.groups} groups")
        if self.routing == "one_per_group" and self.top_k != self.groups:
            raise ValueError(f"one_per_group routing takes one expert per group: top_k must equal groups ({self.groups})")
        if self.routing == "group_limited":
            if self.topk_groups is None or self.topk_groups > self.groups:
                raise ValueError("group_limited routing needs topk_groups <= groups")
            if self.top_k > self.topk_groups * self.routed_experts // self.groups:
                raise ValueError("top_k exceeds the experts of the kept groups")
        return self

    @property
    def shared_width(self) -> int:
        return self.shared_intermediate or self.expert_intermediate


class Published(Strict):
    """Parameter counts as the model's publisher states them (tests check ours against these)."""

    total_params: float
    active_params: Optional[float] = None
    source: str
    note: Optional[str] = None


class ModelSpec(Strict):
    """The shape of one transformer LLM: enough to count its parameters and build its trace."""

    name: str
    source: str
    family: str
    layers: int = Field(gt=0, le=1000)       # the trace has ops per layer (Llama-3.1-405B: 126)
    hidden: PositiveInt
    vocab: PositiveInt
    max_position: PositiveInt
    positional: Literal["rope", "learned"]   # learned: a max_position x hidden table (GPT-2, OPT)
    norm: Literal["layernorm", "rmsnorm"]
    tied_embeddings: bool
    attention: Attention
    ffn: FFN
    moe: Optional[MoE] = None
    dtype: str = "bf16"                      # released weight format
    activation_dtype: Optional[str] = None   # default: dtype (BitNet b1.58: int8)
    published: Published

    @field_validator("dtype", "activation_dtype")
    @classmethod
    def _known_format(cls, value):
        return value if value is None else precision.check(value)

    @model_validator(mode="after")
    def _consistent(self):
        needs_dense = self.moe is None or bool(self.moe.dense_layers)
        if needs_dense and self.ffn.intermediate is None:
            raise ValueError("ffn.intermediate is required: some layers have a dense FFN")
        if self.moe and any(layer >= self.layers for layer in self.moe.dense_layers):
            raise ValueError(f"moe.dense_layers must be < layers ({self.layers})")
        if self.attention.head_dim is None and self.hidden % self.attention.heads:
            raise ValueError("attention.head_dim is required when hidden is not a multiple of heads")
        return self

    @property
    def head_dim(self) -> int:
        return self.attention.head_dim or self.hidden // self.attention.heads

    def is_moe_layer(self, layer: int) -> bool:
        return self.moe is not None and layer not in self.moe.dense_layers


def load_model(path_or_name) -> ModelSpec:
    """Load a model file, or a shipped preset by name ('llama2-7b')."""
    path = find_file(path_or_name, MODELS_DIR, "model preset")
    doc = load_document(path, search_dirs=[MODELS_DIR])
    return parse(ModelSpec, doc.data, doc.source)


def shipped_models() -> list[str]:
    return sorted(p.stem for p in MODELS_DIR.glob("*.yaml"))
