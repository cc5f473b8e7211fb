"""tellme: TeLLMe v2 on the KV260, BitNet b1.58-large (0.7B; the model of its HLS config: 24 layers,
hidden 1536, FFN 4096) with ternary weights, int8 activations and an fp16 KV cache.
Decode tokens/s at DECODE_CONTEXT cached tokens; TTFT = prefill latency of the prompt.
Inputs come from architectures/tellme_kv260.yaml (nothing fitted).

Why decode is too fast (hwsim 25.2 ms a token, published 40 ms). hwsim runs the released HLS design
step by step: per token 24 layers x 13 URAM weight regions are loaded (175 MB, top_bitnet.hpp /
load_weight.hpp) through three 256-bit AXI masters narrowed to 128-bit HP ports at 250 MHz (12 GB/s,
under the 14.4 GB/s the DDR4 sustains): 14.6 ms; the table lookups of linear.hpp, never overlapped
with the loads: 5.75 ms (1,438,368 cycles); the LM head on the four A53s (49 MB of int8 weights):
3.4 ms; attention on its decode unit (decode_attention.hpp: a score pass, then the output pass, one
cached key per 112 cycles each): 1.4 ms; norms and the rest: 0.06 ms. The missing ~15 ms is not in any
source read: the release's host loop (chatbot.py decode_step: PYNQ buffers, non-cacheable by
default, so their syncs flush nothing; 26 register writes; polling) costs well under 1 ms. Loading
the weights at 5.8 GB/s (30% of the DDR4 peak, ~1.9 GB/s per port) instead of 12 GB/s would close
the gap, but neither the paper text we could read (its abstract and introduction) nor the release
gives the block design (HP port widths and clocks, the interconnect) or a measured PL read bandwidth
on the KV260, and the A53 cluster's sustained bandwidth has no published figure here either: the row
stays a FAIL.

Why TTFT is too fast (-12% at 64 tokens, -16% at 128). Prefill is lookup-bound (token-serial
lookups); its attention runs as reverse_attention.hpp does (8 queries a group, dot products at an
initiation interval of 5 under the HLS's 32-adder limit: 0.066 s at 128 tokens). The shortfall still
grows faster than the prompt (0.05 s at 64 tokens, 0.15 s at 128), which a per-token cost cannot do;
what hwsim leaves out for want of the synthesis schedule is pipeline fill and drain: of every
pipelined loop of linear.hpp per K block and of every attention loop per key (0 cycles assumed)."""
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
