"""DRAM/PIM model speed: PIM commands the in-order stream kernel times per second (one AiM channel),
FR-FCFS requests per second, and the wall time of one Llama2-70B bf16 decode token on 32 CENT
GDDR6-AiM devices at command level (goal < 10 s on one core). Identical channels share one simulated
stream (see pim_device.py), so the token also prints commands simulated vs commands represented."""
import copy
import time

import numpy as np

from hwsim.components.dram import load_preset, simulate_stream
from hwsim.components.dram.pim_mapping import Layout, gemv_stream
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.machine import load_machine, machine_from_dict
from hwsim.simulate import simulate
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


def main():
    print(f"PIM stream kernel: {pim_commands_per_s() / 1e6:.1f} M commands/s (one GDDR6-AiM channel)")
    print(f"FR-FCFS kernel:    {frfcfs_requests_per_s() / 1e6:.2f} M random requests/s (one GDDR6 channel)")
    bf16 = Precision("bf16", "bf16", "bf16")
    machine = cent_32_devices()
    simulate(machine, "llama2-7b", phase="decode", batch=1, context=128, precision=bf16)     # warm up
    start = time.perf_counter()
    report = simulate(machine, "llama2-70b", phase="decode", batch=1, context=4095, precision=bf16)
    wall = time.perf_counter() - start
    pim = report.components["pim"]
    print(f"Llama2-70B decode token (context 4095) on 32 AiM devices: wall {wall:.2f} s "
          f"(goal < 10 s); simulated {report.latency_s * 1e3:.3f} ms/token, {report.energy_j * 1e3:.0f} mJ/token")
    print(f"  commands simulated {pim['simulated_commands']:.3g}, represented on all 1024 channels "
          f"{pim['commands']:.3g}")


if __name__ == "__main__":
    main()
