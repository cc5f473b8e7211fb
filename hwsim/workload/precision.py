"""Number formats: storage bits per element and the compute format an operator runs in."""
from __future__ import annotations

from dataclasses import dataclass

# storage bits per element; ternary packs 5 trits in a byte (1.6 bits), as BitNet/TeLLMe kernels do
BITS: dict[str, float] = {
    "fp32": 32, "tf32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8,
    "int4": 4, "fp4": 4, "int3": 3, "int2": 2, "ternary": 1.6, "int1": 1,
}
INTEGER = {"int8", "int4", "int3", "int2", "ternary", "int1"}


def check(name: str) -> str:
    if not isinstance(name, str) or name not in BITS:
        from hwsim.config.errors import did_you_mean
        raise ValueError(f"unknown number format '{name}'{did_you_mean(name, BITS)}; "
                         f"known: {', '.join(BITS)}")
    return name


def nbytes(elements: float, dtype: str) -> float:
    """Storage bytes of `elements` values of `dtype` (fractional for sub-byte formats)."""
    return elements * BITS[dtype] / 8


def compute_format(weights: str, activations: str) -> str:
    """The format a matmul runs in: integer kernels when both sides are integer (W4A8 -> int8),
    otherwise the activation format (W4A16 dequantises to fp16)."""
    if weights in INTEGER and activations in INTEGER:
        return "int8" if BITS[activations] <= 8 else activations
    return activations


@dataclass(frozen=True)
class Precision:
    """Formats of one run: weights, activations and KV cache."""

    weights: str = "bf16"
    activations: str = "bf16"
    kv_cache: str = "bf16"

    def __post_init__(self):
        for name in (self.weights, self.activations, self.kv_cache):
            check(name)

    @property
    def matmul(self) -> str:
        return compute_format(self.weights, self.activations)

    def __str__(self) -> str:
        return f"W:{self.weights} A:{self.activations} KV:{self.kv_cache}"
