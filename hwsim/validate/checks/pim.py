"""pim_gpt: PIM-GPT against the T4 machines (CENT's rows are in cent.py).

PIM-GPT measured a real T4, whose batch-1 decode in eager PyTorch is host-bound: the target row uses
nvidia_t4_eager (the roofline plus eager PyTorch's measured cost per kernel launch times HF GPT-2's
kernels per operator); the T4 built from tensor-core tiles (nvidia_t4_tiles, GPU hardware only) is
shown beside it as INFO, to show how much of the published speedup is framework overhead.

Assumptions (the sources do not state them): PIM-GPT decodes with CONTEXT tokens cached, in bf16
on PIM and fp16 on the T4.

PIM-GPT's failing rows, looked at again for issue 14: on PIM-GPT only the weights grow with model size
(non-VMM work is 1.9% of GPT3-XL here, 1.16% published), so its latency tracks the weight bytes
(GPT3-XL 1.60 ms, GPT3-large 0.81 ms for 1.71x the bytes at equal layer counts), while the eager T4's
launch-bound time tracks the layer count (GPT3-XL 39.3 ms, GPT2-XL 68.8 ms at 45 us per kernel): the
speedup falls with size, and GPT3-XL (24.7x) and GPT2-XL (39.1x) land under 41x. GPT3-XL reaches 41x only
at <= 0.96 ms; its MAC columns alone take 0.74 ms (3.03 GB of bf16 weights with the LM head, 128 banks x
32 B per 1 ns MAC), and each 64-column row adds an all-bank ACT and PRE (28 + 16 ns beside 64 ns of MACs;
98.3% row hits, as published) before the global-buffer writes and readouts. What would decide these rows
is not in the retrievable sources (reference/pim_dram.md 1.3, 1.6, 6; searched again for issue 14: the
stored copies of the arXiv HTML, the npj text mirror and the summaries give the abstract and
introduction only): PIM-GPT's DRAM timing table (MAC row-to-column and precharge times, row size, MACs
per bank, data rate), its per-model speedup figure (which model is 41x and which 137x) and how its T4
baseline ran.
The ASIC 100 MHz row (1.21x against "at most about 20%", a secondary source): the ASIC-clocked work is
the non-GEMV ops (1.89% of GPT3-XL at 1 GHz) and the partial-sum adds (0.45%), and 10x slower they add
9 x 2.34% = 21%. With the published 1.16% non-VMM share the same arithmetic gives 1 + 9 x (1.16% +
0.45%) = 1.145x, within the bound: the row fails on the ASIC's cost per softmax, GELU and LayerNorm
element, which rests on two unsourced inputs (the ASIC's 128 lanes, the trace's FLOPs per element where
PIM-GPT evaluates Taylor series and Newton-Raphson steps of unretrieved length); nothing is changed for it.
"""
from __future__ import annotations

import copy
import math

from hwsim.validate.runner import Row, check, in_range, within

CONTEXT = 512
SPEEDUP = (41.0, 137.0)
ROW_HIT = (0.98, 0.01)              # published "about 98%", absolute tolerance
NON_GEMV = (0.0116, 0.005, 0.02)    # GPT3-XL non-VMM share 1.16%; "about 1%": accept 0.5-2%
SLOW_ASIC = 1.20                    # 1 GHz -> 100 MHz costs at most ~20%


def _run(machine, model, fmt="bf16", context=CONTEXT):
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    return simulate(machine, model, phase="decode", batch=1, context=context, precision=Precision(fmt, fmt, fmt))


def _variant(name: str, changes: dict):
    """Machine `name` with component keys replaced: {("pim", "devices"): 32, ...}."""
    from hwsim.machine import load_machine, machine_from_dict
    data = copy.deepcopy(load_machine(name).spec.model_dump(mode="json"))
    for (*path, key), value in changes.items():
        node = data["components"]
        for part in path:
            node = node[part]
        node[key] = value
    return machine_from_dict(data)


def _slow_asic(clock="100MHz"):
    return _variant("pim_gpt", {("asic", "clock"): clock, ("pim", "reduction", "clock"): clock})


@check("pim_gpt")
def pim_gpt(group: dict) -> list[Row]:
    rows, low, high = [], *SPEEDUP
    for model in group["models"]:
        pim = _run("pim_gpt", model)
        for gpu_machine, label, info in (("nvidia_t4_eager", "eager PyTorch", False),
                                         ("nvidia_t4_tiles", "GPU only", True)):
            speedup = _run(gpu_machine, model, "fp16").latency_s / pim.latency_s
            rows.append(in_range(f"pim-gpt {model} speedup vs T4 ({label})", speedup, "x", low, high, info=info))
    xl = _run("pim_gpt", "gpt3-xl")
    hit = xl.components["pim"]["row_hit_rate"]
    rows.append(within("pim-gpt gpt3-xl row-buffer hit rate", ROW_HIT[0], hit, "fraction",
                       ROW_HIT[0] - ROW_HIT[1], ROW_HIT[0] + ROW_HIT[1], "abs 0.01"))
    share = sum(o.end_ps - o.start_ps for o in xl.ops if o.op_class == "vector") * 1e-12 / xl.latency_s
    rows.append(within("pim-gpt gpt3-xl non-GEMV share of latency", NON_GEMV[0], share, "fraction",
                       NON_GEMV[1], NON_GEMV[2], "0.5-2%"))
    slowdown = _run(_slow_asic(), "gpt3-xl").latency_s / xl.latency_s
    rows.append(within("pim-gpt gpt3-xl ASIC 100 MHz slowdown", SLOW_ASIC, slowdown, "x", -math.inf, SLOW_ASIC,
                       "<= 1.2x"))
    return rows
