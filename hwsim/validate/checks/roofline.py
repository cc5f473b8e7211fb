"""roofline_floor: every shipped machine x a dense and an MoE model, decode and prefill, is
never faster than max(used / peak) of any resource. `simulate` raises on a violation; here the
margin is shown."""
from __future__ import annotations

import math

from hwsim.validate.runner import Row, check, within

# (machine, model, weight format): Mixtral's 46.7 B fp16 weights (87 GiB) do not fit the H100's 80 GB, fp8 do
CASES = [("nvidia_a100_80gb", "llama2-7b", "fp16"), ("nvidia_h100_sxm", "mixtral-8x7b", "fp8"),
         ("nvidia_t4", "gpt2-xl", "fp16")]


@check("roofline_floor")
def roofline_floor(group: dict) -> list[Row]:
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision

    rows = []
    for machine, model, weights in CASES:
        for phase, context in (("decode", 1000), ("prefill", 512)):
            report = simulate(machine, model, phase=phase, batch=1, context=context,
                              precision=Precision(weights, "fp16", "fp16"))
            rows.append(within(f"roofline {machine} {model} {phase}", report.floor_s, report.latency_s,
                               "s", report.floor_s, math.inf, "time >= floor"))
    return rows
