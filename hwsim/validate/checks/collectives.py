"""collectives: hwsim's NVLink fabrics against NCCL times measured on DGX A100 and DGX H100.

Targets: Vidur's profiles (hwsim/validate/data/vidur_collectives.csv: all-reduce over 2, 4 or 8 GPUs of
one node, send/recv between two, 2 KB to 64 MB) and published nccl-tests runs beyond that range
(nccl_tests_collectives.csv, with their sources). Each runs alone on the link fabric of the matching 8-GPU
NVLink machine: an all-reduce of the buffer (ring) over ranks 0..p-1, or a `send` of it from rank 0 to
rank 1, with the NCCL protocol (LL, LL128, Simple) that NCCL 2.20's rules pick (the fabrics' `protocols`).
Rows (context, INFO: no goal is set for collectives): the median |simulated / measured - 1| per system,
collective and group size over Vidur's sizes, and one row per nccl-tests point.

What Vidur timed (github.com/microsoft/vidur@7d47513, vidur/profiling/collectives/): one Ray actor per
GPU; per size, 3 repetitions of {cuda synchronize, torch.distributed barrier, a Kineto CUDA profile
around 11 back-to-back eager torch.distributed.all_reduce (or send / recv) calls}; the time is the
median `cuda_time_total` of the profile's GPU kernels named nccl*, then the median over the 3
repetitions, on rank 0 only (main.py keeps gpu 0's result). So it is one NCCL kernel's duration on the
GPU, without the host launch, but including the time rank 0's kernel spins waiting for the other ranks
to launch theirs: with eager launches back to back, a rank whose host runs ahead queues its kernels,
and each then lasts until the slowest rank's host issues its matching call.

Why small all-reduces still miss: that wait dominates below ~1 MB and is not a property of NCCL or of
NVLink. The profiles show it: times are not monotonic in size (H100, 2 GPUs: 41 us at 67 KB, 8 us at
133 KB, 41 us at 264 KB; A100, 2 GPUs: 46 us at 10 KB, 27 us at 264 KB), the same 2 KB all-reduce takes
10 us on 2 A100s but 61-62 us on 4 and 8, and Vidur's raw files give min and max over the 3 repetitions
of 15 us and 60 us for the same 2-GPU 248 KB all-reduce. NCCL's tuning model (ring LL on 8 GPUs: 6.6 us
+ 14 x 0.6 us = 15 us) is the kernel's own cost; the host pacing of eager PyTorch calls under Ray has no
source to model it, so those rows stay 40-80% short. Sends: NCCL has no latency model for p2p; hwsim
charges the ring protocols' base + one step (LL 7.2 us up to 16 KB, Simple 11.8 us above), which
measured H100 sends undercut (8-9 us at 32-512 KB) and A100 sends exceed (14-17 us). The 10 GiB
A100 all-reduce is ~17% slow because the A100 port's sustained rate (200 GB/s bus bandwidth,
nccl-tests issue 149 on an HPE Apollo 6500) is another system's: OCI's BM.GPU4.8 reaches 233 GB/s.
`python -m hwsim.validate.gpu_report docs/validation` writes the error per message size.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from hwsim.validate import vidur
from hwsim.validate.runner import ERROR_UNIT, Row, check

MACHINES = {"a100_dgx": "dgx_a100_8gpu_nvlink", "h100_dgx": "h100_8gpu_nvlink"}
NCCL_TESTS = vidur.COLLECTIVES.with_name("nccl_tests_collectives.csv")


def fabric_entry(machine_name: str) -> tuple[str, dict]:
    """(name, machine-file entry) of the machine's link fabric."""
    from hwsim.machine import load_machine
    components = load_machine(machine_name).spec.model_dump(mode="json")["components"]
    return next((name, raw) for name, raw in components.items() if raw["type"] == "link_fabric")


def collective_seconds(fabric: tuple[str, dict], collective: str, ranks: int, nbytes: int) -> float:
    """Time (s) of one collective alone on the fabric."""
    from hwsim.components.base import run_alone
    from hwsim.workload.ops import Op
    kind = "all_reduce" if collective == "all_reduce" else "send"
    op = Op(0, collective, "collective", 0, 0.0, "fp16", act_in_bytes=nbytes, act_out_bytes=nbytes,
            device=0, collective=kind, group=ranks)
    (run,), _ = run_alone(*fabric, [op])
    return (run.end_ps - run.start_ps) * 1e-12


def comparisons(fabrics=None, table=vidur.COLLECTIVES) -> list[tuple[vidur.Collective, float]]:
    """(measured entry, simulated s) for every entry of `table`; `fabrics` overrides a system's fabric."""
    fabrics = {**{system: fabric_entry(machine) for system, machine in MACHINES.items()}, **(fabrics or {})}
    return [(m, collective_seconds(fabrics[m.system], m.collective, m.ranks, m.nbytes))
            for m in vidur.load_collectives(table)]


def all_comparisons(fabrics=None) -> list[tuple[vidur.Collective, float]]:
    """Vidur's entries, then the nccl-tests points beyond Vidur's range."""
    return comparisons(fabrics) + comparisons(fabrics, NCCL_TESTS)


@check("collectives", shipped=True)
def collectives(group: dict) -> list[Row]:
    errors = defaultdict(list)
    for measured, simulated in comparisons():
        errors[(measured.system, measured.collective, measured.ranks)].append(abs(simulated / measured.seconds - 1))
    rows = [Row(f"vidur {system} {collective} {ranks} GPUs on {MACHINES[system]} ({len(e)} sizes) median",
                0.0, float(np.median(e)), ERROR_UNIT, True, "context", info=True,
                cell=(f"{collective} {ranks} GPUs", f"{MACHINES[system]} median"))
            for (system, collective, ranks), e in errors.items()]
    return rows + [Row(f"nccl-tests {m.system} {m.collective} {m.ranks} GPUs {m.nbytes} B on {MACHINES[m.system]}",
                       0.0, abs(simulated / m.seconds - 1), ERROR_UNIT, True, "context", info=True,
                       cell=(f"{m.collective} {m.ranks} GPUs {m.nbytes} B", MACHINES[m.system]))
                   for m, simulated in comparisons(table=NCCL_TESTS)]


def size_table(pairs) -> str:
    """Signed error per measured message size (bytes), one column per (system, collective, ranks)."""
    columns = sorted({(m.system, m.collective, m.ranks) for m, _ in pairs})
    cells = {(m.system, m.collective, m.ranks, m.nbytes): s / m.seconds - 1 for m, s in pairs}
    lines = ["bytes       " + " ".join(f"{s[:4]}-{c[:4]}-{r:<3}" for s, c, r in columns)]
    for size in sorted({key[3] for key in cells}):
        lines.append(f"{size:<11} " + " ".join(
            f"{cells[(*column, size)]:>+13.0%}" if (*column, size) in cells else f"{'':>13}" for column in columns))
    return "\n".join(lines)

