"""pim_gpt and cent_aim: PIM-GPT against the T4 machines, CENT's Llama2-13B artifact row.

PIM-GPT measured a real T4, whose batch-1 decode in eager PyTorch is host-bound: the target row uses
nvidia_t4_eager (the roofline plus eager PyTorch's measured cost per kernel launch times HF GPT-2's
kernels per operator); the T4 built from tensor-core tiles (nvidia_t4_tiles, GPU hardware only) is
shown beside it as INFO, to show how much of the published speedup is framework overhead.

Assumptions (the sources do not state them): PIM-GPT decodes with CONTEXT tokens cached, in bf16
on PIM and fp16 on the T4. CENT's decode row is the mean of per-sequence-length tokens/s and mJ/token
over its simulated lengths 640..4096 (step 128; run_sim.py process_throughputs), sampled here at
CENT_CONTEXTS with the same arithmetic means.
"""
from __future__ import annotations

import copy

from hwsim.validate.runner import Row, check

CONTEXT = 512
CENT_CONTEXTS = (639, 1151, 1663, 2175, 2687, 3199, 3711, 4095)   # cached tokens: CENT seqlen - 1
SPEEDUP = (41.0, 137.0)
ROW_HIT = (0.98, 0.01)              # published "about 98%", absolute tolerance
NON_GEMV = (0.0116, 0.005, 0.02)    # GPT3-XL non-VMM share 1.16%; "about 1%": accept 0.5-2%
SLOW_ASIC = 1.20                    # 1 GHz -> 100 MHz costs at most ~20%


def _run(machine, model, fmt="bf16", context=CONTEXT):
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    return simulate(machine, model, phase="decode", batch=1, context=context, precision=Precision(fmt, fmt, fmt))


def _slow_asic(clock="100MHz"):
    from hwsim.machine import load_machine, machine_from_dict
    data = copy.deepcopy(load_machine("pim_gpt").spec.model_dump(mode="json"))
    data["components"]["asic"]["clock"] = clock
    data["components"]["pim"]["reduction"]["clock"] = clock
    return machine_from_dict(data)


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


@check("cent_aim")
def cent_aim(group: dict) -> list[Row]:
    """tok/s; mJ/token as CENT counts it (the published figure's accounting); mJ/token with every
    channel's standby and refresh over the whole token (physical, shown as INFO: no published twin)."""
    from hwsim.machine import load_machine
    machine, rel, rows = load_machine("cent_aim"), group["tolerance"]["rel"], []
    for case in group["cases"]:
        runs = [_run(machine, case["model"], context=c) for c in CENT_CONTEXTS]
        tokens_per_s = sum(1 / r.latency_s for r in runs) / len(runs)
        cent_mj = sum(cent_accounting_j(r, machine) for r in runs) / len(runs) * 1e3
        physical_mj = sum(r.energy_j for r in runs) / len(runs) * 1e3
        label = f"cent {case['model']} {case['devices']} dev TP{case['tp']}"
        for name, published, simulated, unit in (("tok/s", case["tokens_per_s"], tokens_per_s, "tok/s"),
                                                 ("mJ/token (as CENT)", case["mJ_per_token"], cent_mj, "mJ")):
            rows.append(Row(f"{label} {name}", published, simulated, unit,
                            abs(simulated / published - 1) <= rel, f"rel {rel:.0%}"))
        rows.append(Row(f"{label} mJ/token (640 ch)", case["mJ_per_token"], physical_mj, "mJ", False,
                        "standby x32", info=True))
    return rows
