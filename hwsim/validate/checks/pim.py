"""pim_gpt and cent_aim: PIM-GPT against the T4 machines, CENT's artifact rows.

PIM-GPT measured a real T4, whose batch-1 decode in eager PyTorch is host-bound: the target row uses
nvidia_t4_eager (the roofline plus eager PyTorch's measured cost per kernel launch times HF GPT-2's
kernels per operator); the T4 built from tensor-core tiles (nvidia_t4_tiles, GPU hardware only) is
shown beside it as INFO, to show how much of the published speedup is framework overhead.

Assumptions (the sources do not state them): PIM-GPT decodes with CONTEXT tokens cached, in bf16
on PIM and fp16 on the T4.

PIM-GPT's failing rows, looked at again for issue 14: on PIM-GPT only the weights grow with model size
(non-VMM work is 1.9% of GPT3-XL here, about 1% published), so its latency tracks the weight bytes
(GPT3-XL 1.60 ms, GPT3-large 0.81 ms for 1.71x the bytes at equal layer counts), while the eager T4's
launch-bound time tracks the layer count: the speedup falls with size, and GPT3-XL (24.6x) and GPT2-XL
(39.1x) land under 41x. GPT3-XL reaches 41x only at <= 0.96 ms; its MAC columns alone take 0.74 ms
(3.03 GB of bf16 weights with the LM head, 128 banks x 32 B per 1 ns MAC), and each 64-column row adds an
all-bank ACT and PRE (28 + 16 ns beside 64 ns of MACs; 98.3% row hits, as published) before the
global-buffer writes and readouts. What would decide these rows is not in the retrievable sources
(reference/pim_dram.md 1.3, 1.6, 6): PIM-GPT's DRAM timing table (MAC row-to-column and precharge
times, row size, MACs per bank, data rate), its per-model speedup figure (which model is 41x and
which 137x) and how its T4 baseline ran. The ASIC 100 MHz row (1.21x against "at most about 20%", a
secondary source) rests on two unsourced inputs, the ASIC's 128 lanes and the partial-sum adders being
those lanes; nothing is changed for it.

CENT's decoding row is what its artifact computes (run_sim.py process_throughputs, phase decoding): the
arithmetic mean of per-sequence-length tokens/s and mJ/token over the lengths it simulates, every
seqlen_gap = 128 tokens from prefill + 128 to prefill + decoding = 640..4096 (28 lengths; a length L
decodes with L - 1 tokens cached). Attention, softmax and the KV appends grow with the length, the
matmuls do not. Each case runs on `devices` CENT devices, all tensor parallel (PP 1), with the host's
PCIe lanes split over them as CENT splits them and 16 partial-sum lanes in each. CENT's pipeline splits
(PP > 1: several blocks per device on channel groups sharing its accelerator and DMA, one hidden-vector
hop per block, throughput = PP / token latency) are not modelled: such a case fails with no figure.
"""
from __future__ import annotations

import copy
import math

from hwsim.validate.runner import Row, check

CONTEXT = 512
CENT_PREFILL, CENT_DECODING, CENT_SEQLEN_GAP = 512, 3584, 128   # run_sim.py defaults; simulation.sh gap 128
CENT_CONTEXTS = tuple(length - 1 for length in range(CENT_PREFILL + CENT_SEQLEN_GAP,
                                                     CENT_PREFILL + CENT_DECODING + 1, CENT_SEQLEN_GAP))
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
            rows.append(Row(f"pim-gpt {model} speedup vs T4 ({label})", (low + high) / 2, speedup, "x",
                            low <= speedup <= high, "41-137x", info))
    xl = _run("pim_gpt", "gpt3-xl")
    hit = xl.components["pim"]["row_hit_rate"]
    rows.append(Row("pim-gpt gpt3-xl row-buffer hit rate", ROW_HIT[0], hit, "fraction",
                    abs(hit - ROW_HIT[0]) <= ROW_HIT[1], "abs 0.01"))
    share = sum(o.end_ps - o.start_ps for o in xl.ops if o.op_class == "vector") * 1e-12 / xl.latency_s
    rows.append(Row("pim-gpt gpt3-xl non-GEMV share of latency", NON_GEMV[0], share, "fraction",
                    NON_GEMV[1] <= share <= NON_GEMV[2], "0.5-2%"))
    slowdown = _run(_slow_asic(), "gpt3-xl").latency_s / xl.latency_s
    rows.append(Row("pim-gpt gpt3-xl ASIC 100 MHz slowdown", SLOW_ASIC, slowdown, "x", slowdown <= SLOW_ASIC,
                    "<= 1.2x"))
    return rows


def cent_accounting_j(report, machine) -> float:
    """A step's energy as CENT's calculator counts it (cent_power_calculator.py, run_sim.py): DRAM
    commands and link, no refresh, standby only while the channels run command streams, and for one
    channel per device, since its command_processor divides the channel-summed standby cycles by the
    channels per device twice. CENT's controller, SRAM and accelerator terms are not modeled here."""
    from hwsim.components.dram.presets import load_preset
    stats, pim = report.components["pim"], machine.spec.components["pim"]
    precharged_w = load_preset(pim["preset"]).energy["background_precharged_mW"] * 1e-3
    standby = precharged_w * stats["stream_s"] * pim["devices"] + stats["open_row_energy_j"] / pim["channels"]
    return stats["command_energy_j"] + stats["link_energy_j"] + standby


def context_mean(machine, model: str, contexts) -> tuple[float, float, float]:
    """(tokens/s, mJ/token as CENT counts it, physical mJ/token) of decode steps at `contexts` cached
    tokens, each the arithmetic mean over the steps, as CENT's process_throughputs averages its
    per-length rows (pandas mean of 'Throughput (tokens/s)' and 'Token energy (mJ)')."""
    runs = [_run(machine, model, context=c) for c in contexts]
    return (sum(1 / r.latency_s for r in runs) / len(runs),
            sum(cent_accounting_j(r, machine) for r in runs) / len(runs) * 1e3,
            sum(r.energy_j for r in runs) / len(runs) * 1e3)


def cent_machine(case: dict):
    """cent_aim on the case's devices, all tensor parallel (PP 1 x TP devices); None for a split with
    pipeline stages (CENT's PP runs several blocks per device on channel groups), not modelled here."""
    if case["pp"] != 1 or case["tp"] != case["devices"]:
        return None
    return _variant("cent_aim", {("pim", "devices"): case["devices"]})


@check("cent_aim")
def cent_aim(group: dict) -> list[Row]:
    """tok/s; mJ/token as CENT counts it (the published figure's accounting); mJ/token with every
    channel's standby and refresh over the whole token (physical, shown as INFO: no published twin).
    A case with pipeline stages fails with no figure (nan) rather than stopping the run."""
    rel, rows = group["tolerance"]["rel"], []
    for case in group["cases"]:
        machine = cent_machine(case)
        split = f" PP{case['pp']}" if case["pp"] != 1 else ""
        label = f"cent {case['model']} {case['devices']} dev{split} TP{case['tp']}"
        published = (("tok/s", case["tokens_per_s"], "tok/s"), ("mJ/token (as CENT)", case["mJ_per_token"], "mJ"))
        if machine is None:
            rows += [Row(f"{label} {name}", value, math.nan, unit, False, "PP not modelled")
                     for name, value, unit in published]
            continue
        tokens_per_s, cent_mj, physical_mj = context_mean(machine, case["model"], CENT_CONTEXTS)
        channels = case["devices"] * machine.spec.components["pim"]["channels"]
        for (name, value, unit), simulated in zip(published, (tokens_per_s, cent_mj)):
            rows.append(Row(f"{label} {name}", value, simulated, unit, abs(simulated / value - 1) <= rel,
                            f"rel {rel:.0%}"))
        rows.append(Row(f"{label} mJ/token ({channels} ch)", case["mJ_per_token"], physical_mj, "mJ", False,
                        "standby x32", info=True))
    return rows
