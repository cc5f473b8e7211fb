"""cent_aim and cent_parallel: CENT's artifact rows, tensor parallel and pipeline parallel.

CENT's decoding row is what its artifact computes (run_sim.py process_throughputs, phase decoding): the
arithmetic mean of per-sequence-length tokens/s and mJ/token over the lengths it simulates, every
seqlen_gap = 128 tokens from prefill + 128 to prefill + decoding = 640..4096 (28 lengths; a length L
decodes with L - 1 tokens cached). Attention, softmax and the KV appends grow with the length, the
matmuls do not.

Each case runs on cent_aim laid out as CENT's artifact lays out its split (``cent_machine``):
- PP 1 x TP devices: cent_aim on the case's devices, the host's 144 PCIe lanes split over them and 16
  partial-sum lanes in each;
- PP x TP = devices (run_sim.py --model_parallel): ``pp`` stages of ``tp`` devices, each stage one
  instance of the TP machine holding an equal run of the blocks (hwsim.mapping.parallel's PP), each
  device still on 144 // devices lanes; the hidden vector crosses from stage to stage over the CXL
  switch (CENT cxl_latency.py vector_latency: 240 ns device to device, split here over the two links
  through the switch, at the device's lanes);
- PP = blocks, TP 1 (run_sim.py pipeline_parallel): one stage per block, blocks_per_device =
  ceil(blocks / devices) blocks on each device, each block on 32 // blocks_per_device channels (CENT's
  channels_per_block), the device's accelerator, its RISC-V cores and its partial-sum lanes time-shared
  by its blocks (their clock / blocks_per_device: CENT multiplies the accelerator latency by
  blocks_per_device), the hidden vector handed on after every block.
Throughput with stages counts ``pp`` requests in flight (Report.pipelined_tokens_per_s, CENT's ``1000 /
token_latency * pp``). That count takes the stages as equal, which they are not: the LM head and the
host's top-k sampling lengthen the last stage, and hwsim's equal contiguous runs put 80 blocks on 32
stages as 3 each on the first 26 (the slowest stage sets a real pipeline's pace; CENT's count and this
one do not look at it).
The splits with few devices per stage run slower than CENT's, most for Llama2-70B (PP 8 x TP 4 -8%, PP 16 x
TP 2 -12%, which fails, PP 32 x TP 1 -10%; 13B PP 10 x TP 2 -7%). The matmul time per stage is what
grows: CENT's token latency rises by 3.86 ms from TP 4 to TP 2 and by 7.90 ms from TP 2 to TP 1
(processed_results.csv, 70B decoding: 47.56, 61.40, 89.72 s over 3584 tokens), hwsim's (context 2623)
by 5.02 and 8.26 ms, its matmuls taking 7.29, 11.94 and 19.20 ms per token. At TP 2 hwsim's token takes
19.10 ms against CENT's 16.72 (16 / tokens/s); 0.94 ms of that 2.38 ms gap is the FC partial sums across
1K-element global-buffer chunks (70B: 8 chunks of the hidden input, 28 of the FFN's): hwsim
adds them on the 16 lanes per device of machine assumption (4), 0.94 ms per token at TP 2 and twice that
at TP 1, where CENT's reuse-GB GEMV writes the previous chunk's accumulators back into the MAC registers
with WR_BIAS before the next chunk's MACs (TransformerBlock.py Vector_Matrix_Mul_weight_pim_only_trace),
a register write per output per chunk in the channel's command stream. hwsim's AiM command set has no
WR_BIAS (nor its timing from aim_simulator's GDDR6-AiM spec), so that mapping is not modelled yet. The
other 1.4 ms lies in the matmuls' command streams and is not located further here (CENT's per-command
aim_simulator logs are not shipped with its artifact).
mJ/token as CENT counts it (cent_accounting_j, CENT's power_calculator; for stages summed over them, as
CENT sums its blocks) is compared for the TP and PP x TP splits; not for one stage per block, whose
energy CENT takes from per-device traces of several blocks at once, which hwsim does not reproduce.
Every mJ row is below CENT's, from -2.5% (7B TP 8) to -13% (70B PP 32 x TP 1), and three 70B rows fail
(PP 4 x TP 8 -11.7%, PP 16 x TP 2 -10.1%, PP 32 x TP 1 -13.0%): the count leaves out the terms of CENT's
power_calculator that hwsim does not model (machine assumption (6)): the memory controllers' energy per
ISR and per command (MEM_CTR), the global, shared and instruction buffers' SRAM (GB/SB/IB static and
dynamic), the accelerators' and RISC-V cores' energy and the device controller's (RED/EXP/VEC/RV,
DV_CTR). They are all positive and grow with the command count and the block latency, both largest for
70B. Their size per row is not computed here: it needs the per-trace command counts of CENT's
command_processor (aim_simulator logs), which the artifact does not ship.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from hwsim.validate.runner import Row, check, relative

DATA = Path(__file__).resolve().parents[1] / "data" / "cent.yaml"
CENT_PREFILL, CENT_DECODING, CENT_SEQLEN_GAP = 512, 3584, 128   # run_sim.py defaults; simulation.sh gap 128
CENT_CONTEXTS = tuple(length - 1 for length in range(CENT_PREFILL + CENT_SEQLEN_GAP,
                                                     CENT_PREFILL + CENT_DECODING + 1, CENT_SEQLEN_GAP))
CENT_ROW = 1024             # AiM row of 1K columns (CENT utils.py --DRAM-column): V takes ceil(L / 1024) rows
SWITCH_HOP = "120ns"        # CENT cxl_latency.py one_hop_round_trip_latency 240 ns over the switch's two links


def cent_accounting_j(report, machine) -> float:
    """A step's energy as CENT's calculator counts it (cent_power_calculator.py, run_sim.py): DRAM
    commands and link, no refresh, standby only while the channels run command streams, and for one
    channel per device, since its command_processor divides the channel-summed standby cycles by the
    channels per device twice. CENT's controller, SRAM and accelerator terms are not modeled here.
    A pipeline's stages (pim[0], pim[1], ...) are summed."""
    from hwsim.components.dram.presets import load_preset
    pim = machine.spec.components["pim"]
    precharged_w = load_preset(pim["preset"]).energy["background_precharged_mW"] * 1e-3
    total = 0.0
    for name, stats in report.components.items():
        if name.split("[")[0] == "pim":
            total += (stats["command_energy_j"] + stats["link_energy_j"] + stats["open_row_energy_j"] / pim["channels"]
                      + precharged_w * stats["stream_s"] * pim["devices"])
    return total


def row_strata(contexts=CENT_CONTEXTS) -> tuple[tuple[int, int], ...]:
    """(context, weight) per group of `contexts` whose V spans the same number of AiM rows: the group's
    mean context and how many of `contexts` it stands for. Within a group the step's latency grows
    linearly with the context (softmax and score passes over the tokens), between groups it jumps by a
    row of V per KV head; so the weighted mean over the groups' mean contexts is CENT's 28-length mean
    up to the curvature of 1 / latency inside a group (measured on the tensor-parallel rows, whose full
    means are cheap: test_cent_rows.py). 4 steps instead of 28 for the slow pipeline rows."""
    groups: dict[int, list[int]] = {}
    for context in contexts:
        groups.setdefault(-(-(context + 1) // CENT_ROW), []).append(context)
    return tuple((round(sum(g) / len(g)), len(g)) for g in groups.values())


def context_mean(machine, model: str, contexts, weights=None) -> tuple[float, float, float]:
    """(tokens/s, mJ/token as CENT counts it, physical mJ/token) of decode steps at `contexts` cached
    tokens, each the arithmetic mean over the steps (`weights`: how many steps each stands for), as
    CENT's process_throughputs averages its per-length rows (pandas mean of 'Throughput (tokens/s)' and
    'Token energy (mJ)'). Tokens/s counts the plan's stages as requests in flight
    (Report.pipelined_tokens_per_s)."""
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    weights = weights or [1] * len(contexts)
    runs = [simulate(machine, model, phase="decode", batch=1, context=c, precision=Precision("bf16", "bf16", "bf16"))
            for c in contexts]

    def mean(values):
        return sum(w * v for w, v in zip(weights, values)) / sum(weights)
    return (mean(r.pipelined_tokens_per_s for r in runs), mean(cent_accounting_j(r, machine) for r in runs) * 1e3,
            mean(r.energy_j for r in runs) * 1e3)


def blocks_per_device(model: str, devices: int, pp: int, tp: int) -> int:
    """Blocks sharing one device's channels in CENT's layout of the split: 1 for PP x TP = devices
    (model_parallel), ceil(blocks / devices) for one stage per block (pipeline_parallel)."""
    from hwsim.workload.model import load_model
    blocks = load_model(model).layers
    if pp * tp == devices:
        return 1
    if tp == 1 and pp == blocks:
        return -(-blocks // devices)
    raise ValueError(f"CENT splits {devices} devices as PP x TP = {devices} or one stage per block "
                     f"(PP {blocks}, TP 1), not PP {pp} x TP {tp}")


def cent_machine(model: str, devices: int, pp: int, tp: int):
    """cent_aim laid out as CENT's artifact lays out PP x TP on `devices` (see the module docstring)."""
    import copy

    from hwsim.config.units import parse_quantity
    from hwsim.machine import load_machine, machine_from_dict
    data = copy.deepcopy(load_machine("cent_aim").spec.model_dump(mode="json", exclude_none=True))
    share = blocks_per_device(model, devices, pp, tp)
    parts = data["components"]
    pim, accel = parts["pim"], parts["accel"]
    link = pim["link"]
    lanes = link["lanes"] // devices                       # CENT run_sim.py PCIe_lanes_per_device
    pim.update(devices=tp, channels=pim["channels"] // share)
    link["lanes"] = lanes * tp
    for unit in [accel["timing"], pim["reduction"], *(s["accelerator"] for s in pim["staging"].values()
                                                      if "accelerator" in s)]:
        unit["clock"] = f'{parse_quantity(unit["clock"], "frequency") / share:.12g}Hz'
    if pp > 1:
        pim["count"] = accel["count"] = pp
        parts["cxl"] = {"type": "link_fabric", "topology": "switch", "ranks": pp,
                        "source": "CENT CXL switch between the pipeline stages (cxl_latency.py vector_latency)",
                        "link": {"source": "CENT cxl_latency.py: 240 ns device to device over two links; "
                                           "the device's PCIe lanes at the host link's rate per lane",
                                 "bandwidth": f'{parse_quantity(link["bandwidth"], "bandwidth") * lanes:.12g}B/s', "latency": SWITCH_HOP}}
        data["mapping"]["communication"] = "cxl"
        data["parallelism"] = {"pp": pp}
    data["name"] = f"cent-aim-{devices}-pp{pp}-tp{tp}"
    return machine_from_dict(data)


@lru_cache(maxsize=None)
def shipped_cases(path: Path = DATA) -> tuple[dict, ...]:
    return tuple(yaml.safe_load(path.read_text())["cent_parallel"])


@check("cent_aim")
def cent_aim(group: dict) -> list[Row]:
    """tok/s; mJ/token as CENT counts it (the published figure's accounting); mJ/token with every
    channel's standby and refresh over the whole token (physical, shown as INFO: no published twin)."""
    rel, rows = group["tolerance"]["rel"], []
    for case in group["cases"]:
        machine = cent_machine(case["model"], case["devices"], case["pp"], case["tp"])
        label = f"cent {case['model']} {case['devices']} dev TP{case['tp']}"
        tokens_per_s, cent_mj, physical_mj = context_mean(machine, case["model"], CENT_CONTEXTS)
        channels = case["devices"] * machine.spec.components["pim"]["channels"]
        published = (("tok/s", case["tokens_per_s"], "tok/s"), ("mJ/token (as CENT)", case["mJ_per_token"], "mJ"))
        for (name, value, unit), simulated in zip(published, (tokens_per_s, cent_mj)):
            rows.append(relative(f"{label} {name}", value, simulated, unit, rel))
        rows.append(Row(f"{label} mJ/token ({channels} ch)", case["mJ_per_token"], physical_mj, "mJ", False,
                        "standby x32", info=True))
    return rows


@check("cent_parallel", shipped=True)
def cent_parallel(group: dict) -> list[Row]:
    """Decoding tokens/s of every PP x TP split of CENT's artifact (data/cent.yaml) and, for the splits
    of its model_parallel mode, mJ/token as CENT counts it, within 10% (the cent_aim group's tolerance),
    averaged over CENT's lengths by their row strata (row_strata)."""
    rows = []
    for case in shipped_cases():
        machine = cent_machine(case["model"], case["devices"], case["pp"], case["tp"])
        tokens_per_s, cent_mj, _ = context_mean(machine, case["model"], *zip(*row_strata()))
        label = f"cent {case['model']} {case['devices']} dev PP{case['pp']} x TP{case['tp']}"
        for key, shown, unit, simulated in (("tokens_per_s", "tok/s", "tok/s", tokens_per_s),
                                            ("mJ_per_token", "mJ/token (as CENT)", "mJ", cent_mj)):
            if key in case:
                rows.append(relative(f"{label} {shown}", case[key], simulated, unit, 0.10))
    return rows
