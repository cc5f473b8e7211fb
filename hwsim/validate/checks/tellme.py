"""tellme: TeLLMe v2 on the KV260, BitNet b1.58-large (0.7B; the model of its HLS config: 24 layers,
hidden 1536, FFN 4096) with ternary weights, int8 activations and an fp16 KV cache.
Decode tokens/s at DECODE_CONTEXT cached tokens; TTFT = prefill latency of the prompt.
Inputs come from architectures/tellme_kv260.yaml (nothing fitted)."""
from __future__ import annotations

from hwsim.validate.runner import Row, check, relative

MACHINE, MODEL = "tellme_kv260", "bitnet-b1.58-0.7b"
DECODE_CONTEXT = 64     # assumption: the paper's "up to 25 tok/s" is read at a short context


def _latency_s(phase: str, context: int) -> float:
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    return simulate(MACHINE, MODEL, phase=phase, batch=1, context=context,
                    precision=Precision("ternary", "int8", "fp16")).latency_s


@check("tellme")
def tellme(group: dict) -> list[Row]:
    rel = group["tolerance"]["rel"]
    rows = []
    for case in group["cases"]:
        if "decode_tokens_per_s" in case:
            target, published = f"tellme {case['board']} decode (ctx {DECODE_CONTEXT})", case["decode_tokens_per_s"]
            simulated, unit = 1.0 / _latency_s("decode", DECODE_CONTEXT), "tok/s"
        else:
            target, published = f"tellme {case['board']} TTFT {case['prompt_tokens']} tokens", case["ttft_s"]
            simulated, unit = _latency_s("prefill", case["prompt_tokens"]), "s"
        rows.append(relative(target, published, simulated, unit, rel))
    return rows
