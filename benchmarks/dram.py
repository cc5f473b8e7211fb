"""DRAM/PIM model speed: PIM commands the in-order stream kernel times per second (one AiM channel),
FR-FCFS requests per second, the wall time of one Llama2-70B bf16 decode token on 32 CENT
GDDR6-AiM devices at command level (goal < 10 s on one core) and of a GPT2-XL prefill (2 x 128
tokens) on PIM-GPT, whose matmuls repeat a GEMV per token across ~240k refreshes. Identical channels
share one simulated stream (see pim_device.py), so both print commands simulated vs represented."""
import copy
import time

import numpy as np

from hwsim.components.dram import load_preset, simulate_stream
from hwsim.components.dram.pim_mapping import Layout, gemv_stream
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision


def pim_commands_per_s() -> float:
    spec = load_preset("GDDR6_AiM")
    s = gemv_stream(Layout(64, 16, 1024, 16, 4), 8192, 2000)          # ~1 M commands on one channel
    run = lambda: simulate_commands(spec, s.cmd, 0, s.bankgroup, s.bank, s.row)  # noqa: E731
    run()
    start = time.perf_counter()
    run()
    return len(s) / (time.perf_counter() - start)


def frfcfs_requests_per_s(n: int = 200_000) -> float:
    spec = load_preset("GDDR6_14000")
    addresses = np.random.default_rng(0).integers(0, 1 << 30, n) & ~31
    simulate_stream(spec, addresses[:1000])
    start = time.perf_counter()
    simulate_stream(spec, addresses)
    return n / (time.perf_counter() - start)


def cent_32_devices():
    data = copy.deepcopy(load_machine("cent_aim").spec.model_dump(mode="json"))
    data["components"]["pim"]["devices"] = 32
    data["name"] = "cent-aim-32"
    return machine_from_dict(data)


def timed(machine, model, **run):
    """(wall s, report) of one simulate call after a small warm-up run that compiles the kernels."""
    bf16 = Precision("bf16", "bf16", "bf16")
    simulate(machine, "gpt2-small", phase=run["phase"], batch=1, context=8, precision=bf16)
    start = time.perf_counter()
    report = simulate(machine, model, precision=bf16, **run)
    return time.perf_counter() - start, report


def main():
    print(f"PIM stream kernel: {pim_commands_per_s() / 1e6:.1f} M commands/s (one GDDR6-AiM channel)")
    print(f"FR-FCFS kernel:    {frfcfs_requests_per_s() / 1e6:.2f} M random requests/s (one GDDR6 channel)")
    wall, report = timed(cent_32_devices(), "llama2-70b", phase="decode", batch=1, context=4095)
    pim = report.components["pim"]
    print(f"Llama2-70B decode token (context 4095) on 32 AiM devices: wall {wall:.2f} s "
          f"(goal < 10 s); simulated {report.latency_s * 1e3:.3f} ms/token, {report.energy_j * 1e3:.0f} mJ/token")
    print(f"  commands simulated {pim['simulated_commands']:.3g}, represented on all 1024 channels "
          f"{pim['commands']:.3g}")
    wall, report = timed(load_machine("pim_gpt"), "gpt2-xl", phase="prefill", batch=2, context=128)
    pim = report.components["pim"]
    print(f"GPT2-XL prefill 2 x 128 tokens on PIM-GPT: wall {wall:.2f} s; simulated {report.latency_s * 1e3:.3f} ms, "
          f"{pim['cmd_REF']:.3g} REFs on all 8 channels")
    print(f"  commands simulated {pim['simulated_commands']:.3g} ({pim['simulated_commands'] / wall / 1e6:.2f} M/s), "
          f"represented on all 8 channels {pim['commands']:.3g} ({pim['commands'] / wall / 1e6:.0f} M/s)")


if __name__ == "__main__":
    main()
